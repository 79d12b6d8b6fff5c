"""`astseg train` as plain data: the options, running them in this process, launching them on
N processes through torchrun, and the one line a user reads at the end."""

from __future__ import annotations

import datetime
import math
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sdk.run.stop_signals import StopSignals, exit_code
from training.config import Config, ConfigError
from training.trainer.errors import TrainingError
from training.trainer.options import parse_set_options, resolve_config
from training.trainer.result import TrainResult


@dataclass
class TrainCommand:
    data: str | None = None
    preset: str | None = None
    config_file: str | None = None
    sets: list[str] = field(default_factory=list)
    out: str | None = None
    resume: bool = False
    device: str | None = None  # None = cuda when available, else cpu
    scenario: str | None = None
    background_only: bool = False
    background_from: str | None = None
    val_data: str | None = None
    slots: int | None = None  # K, overriding the preset's
    size: str | None = None  # the slot model's input, H or HxW, overriding the preset's

    def run_dir(self) -> str:
        if self.out:
            return self.out
        if self.resume:
            raise TrainingError("--resume needs --out RUN, the folder of the run to continue")
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        kind = "background" if self.background_only else self.preset or "train"
        return str(Path("runs") / f"{kind}-{stamp}")

    def config(self) -> Config | None:
        """The config to train with; on --resume the run's saved one, changed only by --set."""
        if not self.resume:
            if self.data is None:
                raise TrainingError("--data is required (e.g. --data synthetic:size=64)")
            return resolve_config(
                self.preset, self.config_file, self.sets, self.scenario, self.slots, self.size
            )
        given = [
            name
            for name, value in (
                ("--preset", self.preset),
                ("--config", self.config_file),
                ("--scenario", self.scenario),
                ("--background-from", self.background_from),
                ("--slots", self.slots),
                ("--size", self.size),
            )
            if value
        ]
        if given:
            raise TrainingError(
                f"--resume continues with the run's saved config, so {given[0]} cannot be given; "
                "change train settings with --set train.KEY=VALUE"
            )
        if not self.sets:
            return None
        saved = Path(self.run_dir()) / "config.yaml"
        if not saved.is_file():
            raise TrainingError(f"nothing to resume in '{self.run_dir()}' (no config.yaml)")
        try:
            data = yaml.safe_load(saved.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as err:
            first = str(err).splitlines()[0]
            raise TrainingError(f"config file '{saved}' is not valid YAML ({first})") from None
        base = Config.from_dict(data)
        overrides = parse_set_options(self.sets)
        for key in overrides:
            if not key.startswith("train."):
                raise ConfigError(key, "cannot change when resuming; only train.* settings can")
        return base.with_overrides(overrides)

    def device_name(self) -> str:
        if self.device is not None:
            return self.device
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"

    def execute(self, progress: bool = True) -> TrainResult:
        """Runs in this process (one rank of a torchrun launch, or a plain run)."""
        from training.trainer.loop import train

        return train(
            self.config(),
            self.data,
            self.run_dir(),
            resume=self.resume,
            device=self.device_name(),
            background_only=self.background_only,
            background_from=self.background_from,
            validation_data=self.val_data,
            progress=progress,
        )

    def to_argv(self) -> list[str]:
        """Arguments for `python -m training.trainer.launch` that rebuild this command."""
        argv: list[str] = []
        for flag, value in (
            ("--data", self.data),
            ("--preset", self.preset),
            ("--config", self.config_file),
            ("--out", self.run_dir()),
            ("--device", self.device_name()),
            ("--scenario", self.scenario),
            ("--background-from", self.background_from),
            ("--val-data", self.val_data),
            ("--slots", None if self.slots is None else str(self.slots)),
            ("--size", self.size),
        ):
            if value is not None:
                argv += [flag, value]
        for item in self.sets:
            argv += ["--set", item]
        if self.resume:
            argv.append("--resume")
        if self.background_only:
            argv.append("--background-only")
        return argv

    def resume_hint(self, processes: int = 1) -> str:
        sub = " background" if self.background_only else ""
        gpus = f" --gpus {processes}" if processes > 1 else ""
        return f"astseg train{sub} --resume --out {self.run_dir()}{gpus}"


def outcome_line(command: TrainCommand, result: TrainResult, processes: int = 1) -> str:
    """The one line printed when a run ends without an error."""
    where = f"step {result.step}/{result.total_steps}"
    if result.status == "completed":
        line = f"finished {where} in {_duration(result.wall_s)}; checkpoint {result.checkpoint}"
        best = [v for v in result.validations if _finite(v.get("ari_fg"))]
        if best:
            top = max(best, key=lambda v: v["ari_fg"])
            line += f" (best ARI-FG {top['ari_fg']:.3f} at step {top['step']})"
        return line
    why = {
        "interrupted": f"stopped by {result.signal or 'a signal'}",
        "time_limit": "time limit reached",
        "paused": "paused",
    }[result.status]
    return (
        f"{why} at {where}; checkpoint saved to {result.checkpoint}; resume with: "
        f"{command.resume_hint(processes)}"
    )


def _finite(value: object) -> bool:
    return isinstance(value, float) and math.isfinite(value)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def run_train_command(command: TrainCommand, processes: int, echo: Callable[[str], None]) -> int:
    """`astseg train`: in this process, or on `processes` processes; returns the exit code."""
    if processes < 1:
        raise TrainingError(f"--gpus must be at least 1, got {processes}")
    if processes > 1:
        return launch_processes(command, processes)
    result = command.execute()
    echo(outcome_line(command, result))
    if result.status == "interrupted":  # saved, but not finished: 128 + N, as a shell says
        return exit_code(getattr(signal, result.signal or "SIGINT"))
    return 0


def launch_processes(command: TrainCommand, processes: int) -> int:
    """Runs the command on `processes` processes (one per GPU, or CPU processes with
    --device cpu) through torchrun, and returns its exit code.

    Ctrl-C reaches torchrun and its workers directly (same process group); each worker
    saves a checkpoint and exits. This process only waits, and passes SIGTERM on.
    """
    command.out = command.run_dir()  # one folder for every rank
    command.config()  # config errors: one sentence here, not one per rank
    argv = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={processes}",
        "-m",
        "training.trainer.launch",
        *command.to_argv(),
    ]
    child = subprocess.Popen(argv)

    def forward(signum: int) -> None:  # the terminal's Ctrl-C reaches the workers itself
        if signum in (signal.SIGTERM, signal.SIGHUP):
            child.send_signal(signal.SIGTERM)

    with StopSignals(again="record", on_signal=forward) as stops:
        code = child.wait()
    if stops.signum and (Path(command.run_dir()) / "checkpoints" / "latest.pt").is_file():
        # the workers saved and printed how to resume; torchrun's own code says "signal"
        return exit_code(stops.signum)
    return code
