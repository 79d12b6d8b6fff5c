"""`train`: runs the phases of a plan, one optimiser step at a time, on one or many processes.

Every step: set the lr, load the batch (a pure function of seed, phase and batch number),
compute the phase's loss through `training.objective`, agree across ranks on whether the
loss is finite and whether to stop, then backward, clip, step. Between steps: TensorBoard
scalars and the progress bar, validation on the held-out split, sample sheets, and
checkpoints. Only rank 0 writes files.
"""

from __future__ import annotations

import math
import os
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from sdk.run.stop_signals import StopSignals
from training.checkpoint import CheckpointError
from training.config import Config
from training.data.sample import SampleDataset
from training.data.torch_dataset import TorchSampleDataset
from training.input_sizes import resolve_input_sizes
from training.losses import background_is_complex
from training.model import ASTSeg
from training.trainer import checkpoints
from training.trainer.background_fit import report_background_fit
from training.trainer.background_statistics import (
    SAMPLE_FRAMES,
    footage_median,
    residual_noise,
)
from training.trainer.batch_order import BatchOrder
from training.trainer.data import (
    DataSource,
    RunData,
    batch_loader,
    next_batch,
    open_source,
    prepare_data,
    to_model_input,
)
from training.trainer.device import Precision, choose_precision, resolve_device
from training.trainer.distributed import Distributed, start
from training.trainer.errors import TrainingError
from training.trainer.footage_objects import (
    measure_footage_objects,
    sample_frames,
    slots_from_footage,
)
from training.trainer.frozen_background import FrozenBackgrounds
from training.trainer.light_check import choose_light_matching
from training.trainer.optim import (
    apply_learning_rate,
    build_optimizer,
    learning_rate,
    optimizer_kind,
    set_trainable,
    trainable,
)
from training.trainer.options import config_yaml
from training.trainer.phases import Phase, PhasePlan, PlanKind, build_plan
from training.trainer.reporting import ProgressBar, ScalarLog
from training.trainer.result import Status, StepRecord, TrainResult
from training.trainer.rng import restore_rng, seed_everything
from training.trainer.run_folder import RunFolder, write_run_file
from training.trainer.samples import sheet_png, spread_indices
from training.trainer.short_footage import describe_epochs
from training.trainer.slot_collapse import SlotActivity
from training.trainer.state import TrainState
from training.trainer.steps import DistributedView, active_slots, batch_loss
from training.trainer.validation import VALIDATION_METRIC, validate

SAMPLE_IMAGES = 4
COMPLEXITY_SAMPLE = 64
BACKGROUND_TIME_SHARE = 0.3  # of a time limit, at most, for phase 1


def train(
    config: Config | None,
    data: DataSource | None,
    out_dir: str | Path,
    *,
    resume: bool = False,
    device: str = "cpu",
    background_only: bool = False,
    background_from: str | Path | None = None,
    validation_data: DataSource | None = None,
    time_limit_s: float | None = None,
    pause_at_step: int | None = None,
    on_step: Callable[[StepRecord], None] | None = None,
    progress: bool = True,
    echo: Callable[[str], None] = print,
) -> TrainResult:
    """Trains AST-Seg into the run folder `out_dir` and returns where it stopped.

    `data` is a data spec (`synthetic:size=64`, `folder:PATH`, ...) or a `SampleDataset`;
    on `resume` it may be None to reuse the spec the run was started with. `config` may be
    None on `resume` to keep the saved config; a given one must have the saved model
    section (only `train` settings may change, e.g. more steps). The run
    stops early, with a checkpoint, on SIGINT/SIGTERM (status "interrupted"), after
    `time_limit_s` ("time_limit") or at global step `pause_at_step` ("paused").
    """
    spec = data if isinstance(data, str) else None
    if not resume and config is not None and data is not None:
        data = open_source(data)  # once: its first frame sizes the background model
        config = _sized(config, data, background_from, echo)
    dist = start(device)
    try:
        return _Run(
            config, dist, device, out_dir, resume, background_only, background_from, echo
        ).run(data, validation_data, time_limit_s, pause_at_step, on_step, progress, spec)
    finally:
        dist.close()


def _sized(
    config: Config,
    data: SampleDataset,
    background_from: str | Path | None,
    echo: Callable[[str], None],
) -> Config:
    """A new run's K from its footage (`model.slots_from_data`, footage_objects) and its
    automatic input sizes from its first frame (`training.input_sizes`); a
    `--background-from` model brings its own background size."""
    if len(data) == 0:
        return config  # prepare_data names the empty dataset
    if config.model.slots_from_data:
        shake = float(config.model.foreground_rule.get("shake", 0))
        found = measure_footage_objects(sample_frames(data), shake)
        config, line = slots_from_footage(config, found)
        if os.environ.get("RANK", "0") == "0":  # every DDP rank measures the same
            echo(line)
    background = None
    if background_from is not None and config.model.background_size_is_auto:
        background = checkpoints.background_size_of(background_from)
    return resolve_input_sizes(config, data[0].size, background)


class _Run:
    def __init__(
        self,
        config: Config | None,
        dist: Distributed,
        device: str,
        out_dir: str | Path,
        resume: bool,
        background_only: bool,
        background_from: str | Path | None,
        echo: Callable[[str], None],
    ) -> None:
        self.dist = dist
        self.echo = echo if dist.is_main else (lambda line: None)
        self.folder = RunFolder(out_dir)
        self.device = resolve_device(device, dist.local_rank, dist.world_size)
        self.saved: dict[str, Any] | None = None
        if resume:
            if not self.folder.has_run():
                raise TrainingError(
                    f"nothing to resume in '{self.folder.root}' (no checkpoints/latest.pt); "
                    "start the run without --resume"
                )
            self.saved = checkpoints.read_for_resume(self.folder.latest)
            config = _resumed_config(self.saved, config, self.folder.latest)
        elif config is None:
            raise TrainingError("a new run needs a config (a preset, a file or settings)")
        elif self.folder.has_run():
            raise TrainingError(
                f"'{self.folder.root}' already holds a run; continue it with --resume or choose "
                "another --out"
            )
        self.config = config.validate()
        self.train_cfg = config.train
        self._config_changed = False  # config.yaml is rewritten with the next latest.pt
        seed_everything(self.train_cfg.seed)
        self.model = ASTSeg(config.model).to(self.device)
        if self.saved is not None:
            self.state = TrainState.from_dict(self.saved["state"])
            try:
                self.model.load_state_dict(self.saved["model"])
            except RuntimeError as err:
                raise CheckpointError(
                    f"checkpoint '{self.folder.latest}' does not match its own model config "
                    f"({str(err).splitlines()[0][:160]})"
                ) from None
        else:
            kind: PlanKind = "background_only" if background_only else self.train_cfg.scenario
            self.state = TrainState(kind, self.train_cfg.background_steps)
            if background_from is not None:
                source = checkpoints.load_background_weights(background_from, self.model)
                decided = checkpoints.decided_light_matching(source)
                if self.config.model.light_from_data and decided is not None:
                    # its noise map holds that comparison: the slot run compares the same way
                    self._keep_light_choice(bool(decided))
                self.state.background_from = str(background_from)
                if kind != "background_only":
                    self.state.background_steps = 0
        self.plan = self._plan()
        self.precision: Precision = choose_precision(self.device, self.train_cfg.amp)
        self.channels_last = self.train_cfg.channels_last and self.device.type == "cuda"
        self._prepare_model()
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.stop = StopSignals(again="record" if dist.enabled else "default")
        self.log = ScalarLog(None)
        self.bar: ProgressBar | None = None
        self.sample_images: torch.Tensor | None = None
        self.sample_backgrounds: torch.Tensor | None = None  # at the background model's size
        self.last_sheet = -math.inf
        self.last_saved = -1
        self.started = time.monotonic()

    # ------------------------------------------------------------------ setup
    def _plan(self) -> PhasePlan:
        return build_plan(self.train_cfg, self.state.plan_kind, self.state.background_steps)

    def _prepare_model(self) -> None:
        if self.dist.enabled and self.device.type == "cuda":
            # Batch statistics over the global batch, as on one GPU (U-Net, Segformer head).
            self.model = nn.SyncBatchNorm.convert_sync_batchnorm(self.model)
        if self.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        if self.train_cfg.compile:
            # In place, so state_dict keys and `model.background` stay as they are.
            for part in (self.model.encoder, self.model.renderer, self.model.background):
                part.compile()

    def _open_data(
        self, data: DataSource | None, validation_data: DataSource | None, spec: str | None
    ) -> RunData:
        if data is None:
            data = self.state_data_spec()
        size = (self.config.model.image_height, self.config.model.image_width)
        run_data = prepare_data(data, size, self.train_cfg.validation_images, validation_data)
        if isinstance(data, str):
            self.data_spec = data
        elif spec is not None:
            self.data_spec = spec
        return run_data

    def state_data_spec(self) -> str:
        spec = (self.saved or {}).get("data_spec")
        if not spec:
            raise TrainingError("this run was started from a dataset object; pass --data again")
        return str(spec)

    def _announce(self, run_data: RunData) -> None:
        cfg, plan = self.train_cfg, self.plan
        self.echo("config:\n" + config_yaml(self.config).rstrip())
        self.echo(f"data: {run_data.description}")
        model = self.config.model
        bh, bw = model.background_size
        self.echo(
            f"input size: slot model {model.image_height}x{model.image_width}, "
            f"background model {bh}x{bw} (H x W)"
        )
        threads = f", {torch.get_num_threads()} threads" if self.device.type == "cpu" else ""
        world = f", {self.dist.world_size} processes" if self.dist.enabled else ""
        self.echo(f"device: {self.device}{threads}{world}, {self.precision.name}")
        for phase in plan.phases:
            bg = phase.kind == "background"
            batch = cfg.background_batch_size if bg else cfg.batch_size
            lr = cfg.background_lr if bg else cfg.lr
            self.echo(
                f"{plan.label(phase)}: {phase.steps} steps, batch {batch}"
                f"{f' x {self.dist.world_size}' if self.dist.enabled else ''}, lr {lr:g}"
            )
        footage = describe_epochs(len(run_data.train), plan, cfg)
        if footage:
            self.echo(footage)
        if self.state.background_from:
            self.echo(f"background model from {self.state.background_from}")
        self.echo(f"run folder: {self.folder.root}")
        if self.saved is not None:
            self.echo(f"resuming at step {self.state.step} of {plan.total}")

    # ------------------------------------------------------------------ main
    def run(
        self,
        data: DataSource | None,
        validation_data: DataSource | None,
        time_limit_s: float | None,
        pause_at_step: int | None,
        on_step: Callable[[StepRecord], None] | None,
        progress: bool,
        spec: str | None = None,
    ) -> TrainResult:
        minutes = self.train_cfg.time_limit_minutes
        budget = minutes * 60.0 if minutes > 0 else None
        limits = [t for t in (time_limit_s, budget) if t is not None]
        self.time_limit_s = min(limits) if limits else None
        self.pause_at_step = pause_at_step
        self.on_step = on_step
        # says when the slots let go of every object, and keeps the model from before;
        # rank 0 alone counts the windows (it alone logs the steps) and writes the files
        saved_windows = self.state.slot_windows if self.dist.is_main else None
        self.slot_activity = SlotActivity.from_dict(saved_windows)
        # Signals are caught from here on: one that arrives while the run sets up stops it
        # after its first step, with a checkpoint.
        with self.stop:
            self.data_spec: str | None = None
            self.run_data = self._open_data(data, validation_data, spec)
            if self.dist.is_main:
                self.folder.create()
                self.folder.remove_partial_writes()
                text = config_yaml(self.config)
                self._guarded(lambda: self.folder.write_text(self.folder.config_file, text))
                self.log = ScalarLog(self.folder.root, self.state.step if self.saved else None)
            self._announce(self.run_data)
            shown = self.run_data.validation or self.run_data.train
            self.sample_images = self._spread_images(shown, SAMPLE_IMAGES)
            background_size = self.config.model.background_size
            if background_size != tuple(self.sample_images.shape[-2:]):
                self.sample_backgrounds = self._spread_images(shown, SAMPLE_IMAGES, background_size)
            if self.saved is None and not self.state.background_from:
                self._start_prior()
            if self._noise_missing() or self._light_undecided():
                self._measure_noise()
            deadline = None if self.time_limit_s is None else self.started + self.time_limit_s
            self.bar = ProgressBar(
                self.plan.total, self.state.step, progress and self.dist.is_main, deadline
            )
            if self.saved is not None:
                restore_rng(self.saved["rng"])  # last: building the model above drew numbers
            try:
                status = self._run_phases()
            finally:
                self.bar.close()
                self.log.close()
        return TrainResult(
            run_dir=self.folder.root,
            status=status,
            step=self.state.step,
            total_steps=self.plan.total,
            checkpoint=self.folder.latest,
            skipped_steps=self.state.skipped_steps,
            wall_s=time.monotonic() - self.started,
            signal=self.stop.name,
            validations=list(self.state.validations),
        )

    def _run_phases(self) -> Status:
        stop: Status | None = None
        while (phase := self.plan.phase_at(self.state.step)) is not None:
            stop = self._run_phase(phase)
            ended = self.state.step == self._current_end(phase)
            # The τ₀ test runs before the phase-end checkpoint, so a resumed run sees its outcome.
            extended = ended and phase.kind == "background" and self._extend_background()
            background_done = ended and phase.kind == "background" and not extended
            if background_done and self._measure_noise():
                self.last_saved = -1  # the model changed after this step's periodic save
            self._save(phase, latest=True, background=background_done)
            if stop is not None:
                break
        if self.dist.is_main:  # rank 0 alone counts the windows and writes the files
            collapse = self.slot_activity.collapse_message()
            if collapse is not None:
                self._say(collapse + self._keep_before_collapse())
            else:  # a resumed run whose slots came back: nothing to prefer
                self._forget_before_collapse()
        return "completed" if stop is None else stop

    def _forget_before_collapse(self) -> None:
        try:
            self.folder.before_collapse.unlink(missing_ok=True)
        except OSError as err:
            self.echo(f"warning: could not remove {self.folder.before_collapse} ({err})")

    def _keep_before_collapse(self) -> str:
        """Copies slots_active.pt to before_collapse.pt (what export takes); says so."""
        kept, target = self.folder.slots_active, self.folder.before_collapse
        try:
            write_run_file(target, kept.read_bytes())
        except OSError as err:
            return f" No model from before the fall was kept ({err.strerror or err})."
        try:
            which = f"The model of step {checkpoints.saved_step(target)}"
        except CheckpointError:  # kept all the same: export will say what is wrong with it
            which = "The last model whose slots held"
        return (
            f" {which}, before the fall, is kept as {target}; "
            f"`astseg export {self.folder.root}` exports it."
        )

    # ------------------------------------------------------------------ phases
    def _optimizer(self, phase: Phase) -> torch.optim.Optimizer:
        kind = optimizer_kind(phase)
        if kind not in self.optimizers:
            optimizer = build_optimizer(self.model, phase, self.train_cfg)
            if self.saved is not None and self.saved.get("optimizer_kind") == kind:
                optimizer.load_state_dict(self.saved["optimizer"])
                if self.precision.scaler is not None and self.saved.get("scaler"):
                    self.precision.scaler.load_state_dict(self.saved["scaler"])
            self.optimizers = {kind: optimizer}  # a finished phase's optimiser is not needed
        return self.optimizers[kind]

    def _wrapped(self, phase: Phase) -> ASTSeg | DistributedView:
        if not self.dist.enabled:
            return self.model
        if phase.kind == "background":
            return DistributedView(
                self.model, None, self.dist.wrap(self.model.background, self.device)
            )
        return DistributedView(self.model, self.dist.wrap(self.model, self.device), None)

    def _batch_order(self, phase: Phase) -> BatchOrder:
        bg = phase.kind == "background"
        return BatchOrder(
            len(self.run_data.train),
            self.train_cfg.background_batch_size if bg else self.train_cfg.batch_size,
            self.train_cfg.seed,
            stream=phase.index,
            rank=self.dist.rank,
            world_size=self.dist.world_size,
        )

    def _run_phase(self, phase: Phase) -> Status | None:
        """Runs `phase` to its end (None) or to a stop request (its status)."""
        set_trainable(self.model, phase)
        self.model.train()
        optimizer = self._optimizer(phase)
        wrapped = self._wrapped(phase)
        order = self._batch_order(phase)
        model_cfg = self.config.model
        slot_size = (model_cfg.image_height, model_cfg.image_width)
        background_size = model_cfg.background_size
        two_sizes = background_size != slot_size
        # Phase 1 reads frames at the background model's size only; a frozen phase reads the
        # slot-size frames and looks their backgrounds up; a joint phase reads both sizes.
        frozen = (
            FrozenBackgrounds(self.model, self.run_data.train, self.precision.autocast)
            if phase.kind == "frozen"
            else None
        )
        loader = batch_loader(
            self.run_data.train,
            background_size if phase.kind == "background" else slot_size,
            order,
            first_batch=self.state.step - phase.start,
            num_workers=self.train_cfg.num_workers,
            pin_memory=self.device.type == "cuda",
            background_size=background_size if phase.kind == "joint" and two_sizes else None,
            with_index=frozen is not None,
        )
        assert self.bar is not None
        self.bar.set_phase(self.plan.label(phase))
        batches = iter(loader)
        try:
            while self.state.step < phase.end:
                batch = next_batch(batches)
                images = to_model_input(batch, self.device, self.channels_last)
                background_images = (
                    to_model_input(batch, self.device, self.channels_last, "background_image")
                    if "background_image" in batch
                    else None
                )
                background = None
                if frozen is not None:
                    background = frozen.get(batch["index"], self.device)
                    if self.channels_last:
                        background = background.contiguous(memory_format=torch.channels_last)
                stop = self._step(
                    phase, wrapped, optimizer, images, order, background_images, background
                )
                self._between_steps(phase)
                if stop is not None:
                    return stop
                if phase.kind == "background" and self._background_time_spent():
                    self._end_background_early()
                    return None
        finally:
            del batches  # ends loader workers
        return None

    def _say(self, line: str) -> None:
        """A line above the progress bar (or plainly, without one)."""
        if self.bar is not None:
            self.bar.write(line, self.echo)
        else:
            self.echo(line)

    def _current_end(self, phase: Phase) -> int:
        """The phase's end in the current plan (phase 1 may have been cut short)."""
        return self.plan.phases[phase.index].end

    def _background_time_spent(self) -> bool:
        """Phase 1 may use BACKGROUND_TIME_SHARE of a time limit, so that a short budget
        still measures the noise map and trains the slots (issue 20, short footage)."""
        if self.time_limit_s is None:
            return False
        spent = time.monotonic() - self.started >= BACKGROUND_TIME_SHARE * self.time_limit_s
        (spent,) = self.dist.agree([spent], self.device)
        return bool(spent)

    def _end_background_early(self) -> None:
        state = self.state
        self._say(
            f"phase 1 ends at step {state.step}: it has had {BACKGROUND_TIME_SHARE:.0%} of the "
            f"{self.time_limit_s / 60:.1f}-minute time limit"  # type: ignore[operator]
        )
        state.background_steps = state.step
        state.complexity_checked = True  # no time left for the longer schedule
        self.plan = self._plan()
        assert self.bar is not None
        self.bar.set_total(self.plan.total)

    def _extend_background(self) -> bool:
        """The τ₀ test after phase 1: a background that still varies trains longer."""
        cfg, state = self.train_cfg, self.state
        if state.complexity_checked or cfg.background_steps_if_complex <= state.background_steps:
            return False
        state.complexity_checked = True
        images = self._spread_images(
            self.run_data.train, COMPLEXITY_SAMPLE, self.config.model.background_size
        ).to(self.device)
        self.model.eval()
        with torch.no_grad(), self.precision.autocast():
            backgrounds = self.model.background(images)[0].float()
        self.model.train()
        (complex_,) = self.dist.agree([background_is_complex(backgrounds)], self.device)
        if not complex_:
            return False
        self.echo(
            f"the background still varies after {state.background_steps} steps; training it "
            f"up to {cfg.background_steps_if_complex} steps"
        )
        state.background_steps = cfg.background_steps_if_complex
        self.plan = self._plan()
        assert self.bar is not None
        self.bar.set_total(self.plan.total)
        return True

    def _fixed_camera_frames(self) -> torch.Tensor:
        size = self.config.model.background_size
        return self._spread_images(self.run_data.train, SAMPLE_FRAMES, size)

    def _start_prior(self) -> None:
        """`model.background_prior`: phase 1 starts from the footage's (aligned) median."""
        background = self.model.background
        if background.prior_logits is None:
            return
        rule = self.config.model.foreground_rule
        frames = self._fixed_camera_frames()
        background.set_prior(footage_median(frames, float(rule.get("shake", 0))).to(self.device))
        self.echo(f"background prior: the median of {len(frames)} frames spread over the data")

    def _measure_noise(self) -> bool:
        """After phase 1: the rule's light matching (`model.light_from_data`) and the noise
        map (`model.background_noise: measured`). True when either changed the model or
        its config."""
        background, decide = self.model.background, self.config.model.light_from_data
        if background.noise_map is None and not decide:
            return False
        rule = self.config.model.foreground_rule
        self.model.eval()
        frames = self._fixed_camera_frames().to(self.device)
        shake = float(rule.get("shake", 0))
        with self.precision.autocast():
            if decide:
                choice = choose_light_matching(background, frames, shake)
                # one choice for every rank: each trains against the backgrounds it implies
                (relight,) = self.dist.agree([choice.relight], self.device)
                self._keep_light_choice(relight)
                self._say(choice.line(relight))
                noise = choice.noise(relight)
            else:
                noise = residual_noise(background, frames, shake, bool(rule.get("relight", 0)))
            if background.noise_map is not None:
                background.set_noise_map(noise.to(self.device))
                report_background_fit(self._say, background, frames, rule, noise.numpy() * 255.0)
        self.model.train()
        return True

    def _light_undecided(self) -> bool:
        """A run left to decide its light matching with no phase 1 ahead to decide it after
        (no background steps, or `--background-from` a background that never decided)."""
        state = self.state
        return self.config.model.light_from_data and state.background_steps <= state.step

    def _keep_light_choice(self, relight: bool) -> None:
        """The rule's light matching as measured; the config (and so every checkpoint, the
        export and the slot phase's frozen backgrounds) carries it from here on, and the run
        folder's config.yaml once the next checkpoint holds it (`_save`)."""
        model = self.config.model  # the same object the model and its frozen cache read
        model.foreground_rule["relight"] = int(relight)
        model.light_from_data = False
        self._config_changed = True

    def _noise_missing(self) -> bool:
        """A resumed run past phase 1 whose checkpoint was written before the noise map was
        measured (killed in between): all zeros, which no footage gives."""
        noise_map, state = self.model.background.noise_map, self.state
        past_phase_1 = 0 < state.background_steps <= state.step
        return noise_map is not None and past_phase_1 and not bool(noise_map.any())

    # ------------------------------------------------------------------ one step
    def _step(
        self,
        phase: Phase,
        wrapped: ASTSeg | DistributedView,
        optimizer: torch.optim.Optimizer,
        images: torch.Tensor,
        order: BatchOrder,
        background_images: torch.Tensor | None = None,
        background: torch.Tensor | None = None,
    ) -> Status | None:
        """One optimiser step; returns a status when the run must stop after it."""
        cfg, state = self.train_cfg, self.state
        self._decay_for_time(phase)
        lr = learning_rate(phase, self.plan, state.step, cfg, state.lr_decay_from)
        apply_learning_rate(optimizer, lr)
        with self.precision.autocast():
            loss = batch_loss(
                phase,
                wrapped,
                self.model,
                images,
                self.plan.foreground_step(state.step),
                cfg,
                background_images,
                background,
            )
        stop = self._stop_wanted()
        bad, stop_now = self.dist.agree(
            [not bool(torch.isfinite(loss.total)), stop is not None], self.device
        )
        grad_norm = math.nan
        if not bad:
            grad_norm = self._update(optimizer, loss.total)
            bad = not math.isfinite(grad_norm) and self.precision.scaler is None
        step = state.step
        state.step += 1
        state.images_seen += order.global_batch_size
        if bad:
            state.skipped_steps += 1
            state.bad_in_row += 1
        else:
            state.bad_in_row = 0
        losses = {name: float(value.detach()) for name, value in loss.terms.items()}
        self._report(phase, step, lr, losses, loss, grad_norm, bad)
        if state.bad_in_row >= cfg.max_bad_steps:
            self._diverged(step)
        if stop_now:
            return stop or self._stop_wanted() or "interrupted"
        return None

    def _update(self, optimizer: torch.optim.Optimizer, total: torch.Tensor) -> float:
        """backward, (unscale,) clip, step; returns the gradient norm (NaN/inf = not applied)."""
        cfg, scaler = self.train_cfg, self.precision.scaler
        optimizer.zero_grad(set_to_none=True)
        params = trainable([p for g in optimizer.param_groups for p in g["params"]])
        if scaler is not None:
            scaler.scale(total).backward()
            scaler.unscale_(optimizer)
        else:
            total.backward()
        grads = [p.grad for p in params if p.grad is not None]
        if cfg.grad_clip is not None:
            norm = float(torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip))
        else:
            norm = float(torch.nn.utils.get_total_norm(grads)) if grads else 0.0
        if scaler is not None:
            scaler.step(optimizer)  # skips the update itself when gradients overflowed
            scaler.update()
        elif math.isfinite(norm):
            optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return norm

    def _decay_for_time(self, phase: Phase) -> None:
        """Once lr_decay_fraction of the time budget is spent, decay from this step on, so
        a run that its budget ends stops with the decay applied."""
        state, limit = self.state, self.time_limit_s
        if limit is None or state.lr_decay_from is not None or phase.kind == "background":
            return
        spent = time.monotonic() - self.started >= self.train_cfg.lr_decay_fraction * limit
        (spent,) = self.dist.agree([spent], self.device)  # every rank decays at one step
        if spent:
            state.lr_decay_from = self.plan.foreground_step(state.step)
            line = (
                f"lr ÷ 10 from step {state.step}: {self.train_cfg.lr_decay_fraction:.0%} of the "
                f"{limit / 60:.1f}-minute time limit is spent"
            )
            if self.bar is not None and self.dist.is_main:
                self.bar.write(line, self.echo)
            else:
                self.echo(line)

    def _stop_wanted(self) -> Status | None:
        if self.stop.requested:
            return "interrupted"
        if self.pause_at_step is not None and self.state.step + 1 >= self.pause_at_step:
            return "paused"
        if self.time_limit_s is not None and time.monotonic() - self.started >= self.time_limit_s:
            return "time_limit"
        return None

    def _diverged(self, step: int) -> None:
        latest = self.folder.latest
        kept = (
            f"the last good checkpoint {latest} is intact"
            if latest.is_file()
            else "no checkpoint was written yet"
        )
        raise TrainingError(
            f"training stopped at step {step}: the loss or its gradient was NaN/inf for "
            f"{self.state.bad_in_row} steps in a row ({self.state.skipped_steps} skipped in "
            f"all); {kept}; lower train.lr or set train.grad_clip, then resume with --resume"
        )

    def _report(
        self,
        phase: Phase,
        step: int,
        lr: float,
        losses: dict[str, float],
        loss: Any,
        grad_norm: float,
        skipped: bool,
    ) -> None:
        if self.on_step is not None:
            self.on_step(StepRecord(step, phase.kind, losses, lr, skipped))
        if not self.dist.is_main:
            return
        scalars = {f"loss/{name}": value for name, value in losses.items()}
        scalars["loss/total"] = float(loss.total.detach())
        scalars.update({f"weight/{name}": value for name, value in loss.weights.items()})
        scalars["lr"] = lr
        scalars["train/skipped_steps"] = float(self.state.skipped_steps)
        if math.isfinite(grad_norm):
            scalars["train/grad_norm"] = grad_norm
        if loss.output is not None:
            scalars["train/active_slots"] = active_slots(loss.output)
            if phase.trains_foreground:
                closed = self.slot_activity.add(step, scalars["train/active_slots"])
                if closed is not None:
                    self.state.slot_windows = self.slot_activity.to_dict()
                    if self.slot_activity.holds(closed):
                        self._keep_active_model(phase)
        self.log.scalars(step, scalars)
        assert self.bar is not None
        self.bar.advance(losses)

    # ------------------------------------------------------------------ between steps
    def _between_steps(self, phase: Phase) -> None:
        cfg, state = self.train_cfg, self.state
        validation_due = (
            phase.trains_foreground
            and self.run_data.validation is not None
            and (
                self.plan.foreground_step(state.step) % cfg.validate_every == 0
                or state.step == self.plan.total
            )
        )
        improved = validation_due and self._validate()
        if self.dist.is_main and cfg.sample_every_s > 0:
            now = time.monotonic()
            if now - self.last_sheet >= cfg.sample_every_s:
                self.last_sheet = now
                self._write_sheet(phase)
        # No periodic checkpoint during a NaN streak: the last good one stays the latest.
        due = state.step % cfg.checkpoint_every == 0 and state.bad_in_row == 0
        keep = cfg.keep_checkpoint_every > 0 and state.step % cfg.keep_checkpoint_every == 0
        self._save(phase, latest=due, best=improved, snapshot=keep, validation=validation_due)

    def _validate(self) -> bool:
        """Scores the held-out split (rank 0); True when it beats the best so far."""
        improved = False
        if self.dist.is_main and self.run_data.validation is not None:
            with torch.random.fork_rng(devices=[]):
                metrics = validate(self.model, self.run_data.validation, self.device)
            record = {"step": self.state.step, **metrics}
            self.state.validations.append(record)
            self.log.scalars(self.state.step, {f"val/{k}": v for k, v in metrics.items()})
            score = metrics[VALIDATION_METRIC]
            assert self.bar is not None
            self.bar.validation = f"{VALIDATION_METRIC} {score:.3f}"
            best = self.state.best_score
            if math.isfinite(score) and (best is None or score > best):
                self.state.best_score, self.state.best_step = score, self.state.step
                improved = True
        (improved,) = self.dist.agree([improved], self.device)
        return improved

    def _spread_images(
        self, source: SampleDataset, count: int, size: tuple[int, int] | None = None
    ) -> torch.Tensor:
        """Frames spread over the data (on a video: moments from start to end), at `size`
        (default: the slot model's)."""
        size = size or (self.config.model.image_height, self.config.model.image_width)
        items = TorchSampleDataset(source, size=size, with_masks=False)
        return torch.stack([items[i]["image"] for i in spread_indices(len(items), count)])

    def _write_sheet(self, phase: Phase) -> None:
        assert self.sample_images is not None
        title = f"step {self.state.step} - {self.plan.label(phase)}"
        self.model.eval()
        try:
            with torch.random.fork_rng(devices=[]), self.precision.autocast():
                backgrounds = self.sample_backgrounds
                png = sheet_png(
                    self.model,
                    self.sample_images.to(self.device),
                    title,
                    None if backgrounds is None else backgrounds.to(self.device),
                )
            for name in (f"step_{self.state.step:07d}.png", "latest.png"):
                write_run_file(self.folder.samples / name, png)
        except OSError as err:  # a sheet is a convenience: warn, keep training
            self.echo(f"warning: could not write a sample sheet ({err.strerror or err})")
        finally:
            self.model.train()

    def _guarded(self, write: Callable[[], Any]) -> None:
        try:
            write()
        except OSError as err:
            raise TrainingError(
                f"could not write to run folder '{self.folder.root}' ({err.strerror or err}); "
                "free space or fix the folder, then continue with --resume"
            ) from None

    # ------------------------------------------------------------------ checkpoints
    def _data_order(self, phase: Phase) -> dict[str, int]:
        return {
            "seed": self.train_cfg.seed,
            "stream": phase.index,
            "next_batch": self.state.step - phase.start,
            "world_size": self.dist.world_size,
        }

    def _save(
        self,
        phase: Phase,
        *,
        latest: bool = False,
        best: bool = False,
        background: bool = False,
        snapshot: bool = False,
        validation: bool = False,
    ) -> None:
        """Rank 0 writes the files asked for (latest.pt at most once per step); every rank
        takes part in one agreement on whether that failed, so all ranks stop together."""
        latest = latest and self.last_saved != self.state.step
        if not (latest or best or background or snapshot or validation):
            return
        failure: TrainingError | None = None
        if self.dist.is_main:
            try:
                if validation:
                    self._guarded(lambda: self.folder.write_validation(self.state.validations))
                if latest:
                    checkpoints.write(self.folder.latest, self._payload(phase), self.folder.latest)
                    self.last_saved = self.state.step
                    if self._config_changed:  # only once latest.pt agrees (resume reads both)
                        text = config_yaml(self.config)
                        self._guarded(lambda: self.folder.write_text(self.folder.config_file, text))
                        self._config_changed = False
                if best:
                    self._write_model_only(self.folder.best, phase)
                if background:
                    self._write_model_only(self.folder.background, phase)
                if snapshot:
                    self._write_model_only(self.folder.snapshot(self.state.step), phase)
                self.log.flush()
            except TrainingError as err:
                failure = err
        elif latest:
            self.last_saved = self.state.step
        (failed,) = self.dist.agree([failure is not None], self.device)
        if failure is not None:
            raise failure
        if failed:
            raise TrainingError("rank 0 could not write to the run folder; see its message")

    def _payload(self, phase: Phase) -> dict[str, Any]:
        kind = optimizer_kind(phase)
        payload = checkpoints.training_payload(
            self.config,
            self.model,
            self.state,
            phase.kind,
            self.optimizers.get(kind),
            kind,
            self.precision.scaler,
            self._data_order(phase),
        )
        return {**payload, **self._about()}

    def _about(self) -> dict[str, Any]:
        """What the run was (read back by resume, and carried into bundles by export)."""
        return {
            "data_spec": self.data_spec,
            "data": self.data_spec or self.run_data.description,
            "steps": self.plan.total,
            "scenario": self.state.plan_kind,
            "command": shlex.join(sys.argv),
        }

    def _keep_active_model(self, phase: Phase) -> None:
        """The model while its slots hold objects (main rank); a failed write only warns:
        the file matters only if the slots collapse later."""
        try:
            self._write_model_only(self.folder.slots_active, phase)
        except TrainingError as err:
            self.echo(f"warning: {err}")

    def _write_model_only(self, path: Path, phase: Phase) -> None:
        if self.dist.is_main:
            payload = checkpoints.model_payload(self.config, self.model, self.state, phase.kind)
            checkpoints.write(path, {**payload, **self._about()})


def _resumed_config(saved: dict[str, Any], requested: Config | None, path: Path) -> Config:
    """The saved config, with the requested `train` section; the model cannot change."""
    saved_config = Config.from_dict(saved["config"])
    if requested is None:
        return saved_config
    if requested.to_dict()["model"] != saved_config.to_dict()["model"]:
        raise TrainingError(
            f"the model config differs from the one saved in {path}; a resumed run keeps its "
            "model (change only train.* settings when resuming)"
        )
    return Config(model=saved_config.model, train=requested.train)
