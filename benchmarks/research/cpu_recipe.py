"""Trains one recipe of the `cpu` preset and records quality against steps and wall time.

A compact research loop (not the production trainer): phase 1 pre-trains the background
autoencoder with its robust loss, phase 2 trains the foreground against the frozen
background (computed once per batch without gradient), using the objective the trainer
uses (`training/objective.py`). Every `--eval-every` steps it scores 500 held-out scenes
(ARI-FG, foreground mIoU, MSE) and writes the whole curve as JSON.

    python benchmarks/research/cpu_recipe.py --steps 3000 --out runs/research/base.json \
        --set model.s_max=8 --set train.coverage_weight=1

`--set key=value` overrides any config field of the `cpu` preset (values parsed as YAML).
Wall times count training only (evaluation excluded), measured on the machine it runs on.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scenes import eval_scenes, scene_config, score, training_scenes  # noqa: E402

from training import objective  # noqa: E402
from training.checkpoint import save_checkpoint  # noqa: E402
from training.config import Config  # noqa: E402
from training.model import ASTSeg  # noqa: E402
from training.presets import preset_config  # noqa: E402
from training.schedules import lr_factor  # noqa: E402

GROUPS = ("backbone", "head", "refiner", "glimpse", "alpha0")


def parameter_group(name: str) -> str:
    if name.startswith("encoder.map_generator.net.decode_head"):
        return "head"
    if name.startswith("encoder.map_generator"):
        return "backbone"
    if name.startswith("encoder.refiner"):
        return "refiner"
    if name == "renderer.log_background_activation":
        return "alpha0"
    return "glimpse"


def build_optimizer(
    model: ASTSeg, config: Config, lr_scales: dict[str, float]
) -> torch.optim.Optimizer:
    groups: dict[str, list[torch.nn.Parameter]] = {g: [] for g in GROUPS}
    for name, param in model.named_parameters():
        if not name.startswith("background."):
            groups[parameter_group(name)].append(param)
    train = config.train
    return torch.optim.Adam(
        [
            {"params": ps, "lr": train.lr * lr_scales[g], "base_lr": train.lr * lr_scales[g]}
            for g, ps in groups.items()
            if ps
        ],
        betas=train.adam_betas,
        eps=train.adam_eps,
        weight_decay=train.weight_decay,
    )


def to_tensor(images: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(images).to(device).permute(0, 3, 1, 2).float().div_(255.0)


@torch.no_grad()
def evaluate(
    model: ASTSeg, images: np.ndarray, masks: np.ndarray, device: torch.device
) -> dict[str, float]:
    model.eval()
    preds, sq_errors, active = [], [], []
    for start in range(0, len(images), 100):
        x = to_tensor(images[start : start + 100], device)
        out = model(x)
        preds.append(out.segmentation().cpu().numpy())
        sq_errors.append((out.reconstruction - x).square().sum(dim=(1, 2, 3)).cpu().numpy())
        # a slot is "used" in an image when it wins at least 10 pixels
        seg = out.segmentation()
        counts = torch.stack([(seg == k).sum(dim=(1, 2)) for k in range(1, out.weights.shape[1])])
        active.append((counts >= 10).sum(dim=0).cpu().numpy())
    model.train()
    preds_all = np.concatenate(preds)
    result = score(masks, preds_all, model.config.num_slots + 1)
    result["mse"] = float(np.concatenate(sq_errors).mean())
    result["slots_used"] = float(np.concatenate(active).mean())
    counts = np.array([len(np.unique(m)) - 1 for m in masks])
    result["objects"] = float(counts.mean())
    single = counts == 1
    if single.any():  # ARI-FG is 0 on a one-object image unless one label covers it all
        result["ari_fg_single"] = score(masks[single], preds_all[single], 1)["ari_fg"]
        # why one-object images fail: object pixels lost to the background, or to 2+ slots
        inside = [p[m > 0] for p, m in zip(preds_all[single], masks[single], strict=True)]
        result["single_has_bg"] = float(np.mean([(v == 0).any() for v in inside]))
        result["single_many_slots"] = float(np.mean([len(np.unique(v[v > 0])) > 1 for v in inside]))
        result["single_lost_px"] = float(np.mean([(v == 0).sum() for v in inside]))
    return result


def pretrain_background(
    model: ASTSeg, config: Config, pool: np.ndarray, device: torch.device, log: list[dict]
) -> float:
    train = config.train
    opt = torch.optim.Adam(model.background.parameters(), lr=train.background_lr)
    rng = np.random.default_rng(train.seed + 1)
    start = time.perf_counter()
    for step in range(train.background_steps):
        x = to_tensor(pool[rng.integers(0, len(pool), train.background_batch_size)], device)
        loss = objective.background_step_loss(model, x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 50 == 0 or step == train.background_steps - 1:
            log.append({"step": step, "loss": float(loss), "wall_s": time.perf_counter() - start})
    return time.perf_counter() - start


def make_refiner_residual(model: ASTSeg) -> None:
    """Research probe, not a model option: slots + refiner(slots), so the soft-argmax
    positions and pooled features pass straight through at initialisation."""
    refiner = model.encoder.refiner
    if refiner is None:
        raise SystemExit("--residual-refiner needs model.use_transformer=true")
    plain = refiner.forward
    refiner.forward = lambda slots: slots + plain(slots)  # type: ignore[method-assign]


def use_exclusive_coverage() -> None:
    """Research probe: coverage counted as Σ_k w_k / (w_0 + w_k), each slot's weight against
    the background alone, so two slots on one pixel count twice (duplicates cost)."""
    from training.losses import robust_pixel_error

    def exclusive(weights, images, background, tau):  # type: ignore[no-untyped-def]
        with torch.no_grad():
            target = torch.tanh(robust_pixel_error(images, background.detach()) / tau)
        solo = weights[:, 1:] / (weights[:, :1] + weights[:, 1:]).clamp_min(1e-12)
        return (solo.sum(dim=1, keepdim=True) - target).square().mean()

    objective.coverage_loss = exclusive  # type: ignore[assignment]


def add_area_concentration(weight: float, start: int, ramp: int) -> None:
    """Research probe: + weight · mean_n Σ_k sqrt(area_k), area_k = mean pixel weight of slot
    k. Concave in each area, so splitting an object between slots costs more than one slot
    holding it, and the smaller share is pushed hardest (rich get richer)."""
    plain = objective.foreground_step_loss

    def with_area(model, images, step, train, background=None):  # type: ignore[no-untyped-def]
        terms, out = plain(model, images, step, train, background=background)
        factor = min(1.0, max(0.0, (step - start) / max(ramp, 1)))
        if factor > 0:
            areas = out.weights[:, 1:].mean(dim=(2, 3))
            terms.total = terms.total + weight * factor * (areas + 1e-4).sqrt().sum(1).mean()
        return terms, out

    objective.foreground_step_loss = with_area  # type: ignore[assignment]


def add_presence_overlap(weight: float, start: int, ramp: int) -> None:
    """Research probe: + weight · mean over pixels of Σ_{k<j} p_k p_j, where
    p_k = w_k / (w_0 + w_k) is slot k's presence against the background alone. Two slots
    claiming one pixel cost even when one of them wins the normalised weights; the weaker
    claimant is pushed hardest (d/dp_k = Σ_j p_j)."""
    plain = objective.foreground_step_loss

    def with_overlap(model, images, step, train, background=None):  # type: ignore[no-untyped-def]
        terms, out = plain(model, images, step, train, background=background)
        factor = min(1.0, max(0.0, (step - start) / max(ramp, 1)))
        if factor > 0:
            w = out.weights
            p = w[:, 1:] / (w[:, :1] + w[:, 1:]).clamp_min(1e-12)
            pairs = 0.5 * (p.sum(dim=1).square() - p.square().sum(dim=1))
            terms.total = terms.total + weight * factor * pairs.mean()
        return terms, out

    objective.foreground_step_loss = with_overlap  # type: ignore[assignment]


def parse_value(text: str) -> Any:
    """int, then float (YAML reads 4e-4 as a string), then YAML (lists, null, booleans)."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return yaml.safe_load(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000, help="foreground steps")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--lr-scale", action="append", default=[], metavar="GROUP=FACTOR")
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--eval-images", type=int, default=500)
    parser.add_argument("--max-wall-s", type=float, default=math.inf, help="training budget")
    parser.add_argument(
        "--stop-at", type=float, default=math.inf, help="epoch seconds: stop, evaluate, write"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--max-objects", type=int, default=4)
    parser.add_argument("--background", default="fixed", help="fixed | texture | gradient")
    parser.add_argument("--train-scenes", type=int, default=20_000)
    parser.add_argument("--residual-refiner", action="store_true", help="research probe")
    parser.add_argument("--exclusive-coverage", action="store_true", help="research probe")
    parser.add_argument(
        "--overlap", type=float, nargs=3, metavar=("WEIGHT", "START", "RAMP"), help="probe"
    )
    parser.add_argument(
        "--area", type=float, nargs=3, metavar=("WEIGHT", "START", "RAMP"), help="research probe"
    )
    parser.add_argument("--out", type=Path, required=True, help="JSON curve")
    parser.add_argument("--checkpoint", type=Path, help="save the final model here")
    parser.add_argument(
        "--background-cache", type=Path, help="load phase 1 from / save it to this file"
    )
    parser.add_argument("--sheet", type=Path, help="save a sample sheet PNG here")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    overrides = {k: parse_value(v) for k, v in (s.split("=", 1) for s in args.set)}
    config = preset_config("cpu").with_overrides(
        # this loop keeps the background frozen throughout (phase 2 only)
        {"train.steps": args.steps, "train.frozen_background_steps": args.steps, **overrides}
    )
    lr_scales = {g: 1.0 for g in GROUPS}
    for item in args.lr_scale:
        group, factor = item.split("=", 1)
        if group not in lr_scales:
            raise SystemExit(f"--lr-scale group '{group}' unknown; choose from {GROUPS}")
        lr_scales[group] = float(factor)
    train = config.train
    torch.manual_seed(train.seed)

    scenes = scene_config(args.max_objects, config.model.image_height, args.background)
    pool = training_scenes(scenes, args.train_scenes)
    val_images, val_masks = eval_scenes(scenes, args.eval_images)
    model = ASTSeg(config.model).to(device)
    if args.residual_refiner:
        make_refiner_residual(model)
    if args.exclusive_coverage:
        use_exclusive_coverage()
    if args.overlap:
        add_presence_overlap(args.overlap[0], int(args.overlap[1]), int(args.overlap[2]))
    if args.area:
        add_area_concentration(args.area[0], int(args.area[1]), int(args.area[2]))

    record: dict[str, Any] = {
        "command": " ".join(sys.argv),
        "config": config.to_dict(),
        "lr_scales": lr_scales,
        "residual_refiner": args.residual_refiner,
        "exclusive_coverage": args.exclusive_coverage,
        "area_concentration": args.area,
        "presence_overlap": args.overlap,
        "scenes": {
            "max_objects": args.max_objects,
            "background": args.background,
            "train_scenes": args.train_scenes,
            "eval_scenes": args.eval_images,
        },
        "machine": f"{platform.machine()} {platform.processor()} threads={args.threads}",
        "device": str(device),
        "background_log": [],
        "curve": [],
    }
    cache = args.background_cache
    if cache is not None and cache.exists():
        # research shortcut: reuse a phase-1 result (same scenes, seed and settings)
        saved = torch.load(cache, map_location=device, weights_only=True)
        model.background.load_state_dict(saved["state"])
        bg_wall = float(saved["wall_s"])
        record["background_cached"] = str(cache)
    else:
        bg_wall = pretrain_background(model, config, pool, device, record["background_log"])
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            torch.save({"state": model.background.state_dict(), "wall_s": bg_wall}, cache)
    record["background_wall_s"] = bg_wall
    model.background.requires_grad_(False)
    model.background.eval()

    opt = build_optimizer(model, config, lr_scales)
    rng = np.random.default_rng(train.seed + 2)
    fg_wall = 0.0
    last_loss: dict[str, float] = {}

    def log_eval(step: int) -> None:
        entry = {"step": step, "wall_s": bg_wall + fg_wall, "fg_wall_s": fg_wall}
        entry.update(evaluate(model, val_images, val_masks, device))
        entry.update(last_loss)
        entry["log_alpha0"] = float(model.renderer.log_background_activation)
        record["curve"].append(entry)
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in entry.items()}))
        sys.stdout.flush()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, indent=1))  # partial curve survives a kill

    log_eval(0)
    step = 0
    for step in range(1, train.steps + 1):
        t0 = time.perf_counter()
        factor = lr_factor(step - 1, train.lr_warmup_steps, train.steps, train.lr_decay_fraction)
        for group in opt.param_groups:
            group["lr"] = group["base_lr"] * factor
        x = to_tensor(pool[rng.integers(0, len(pool), train.batch_size)], device)
        with torch.no_grad():
            background, _ = model.background(x)
        terms, out = objective.foreground_step_loss(
            model, x, step - 1, train, background=background
        )
        opt.zero_grad(set_to_none=True)
        terms.total.backward()
        if train.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), train.grad_clip)
        opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        fg_wall += time.perf_counter() - t0
        if not torch.isfinite(terms.total):
            record["diverged_at"] = step
            break
        if step % args.eval_every == 0 or step == train.steps:
            last_loss = {
                "loss": float(terms.total),
                "rec": float(terms.reconstruction),
                "entropy": float(terms.pixel_entropy),
                "coverage": float(terms.coverage) if terms.coverage is not None else 0.0,
                "redundancy": float(terms.redundancy) if terms.redundancy is not None else 0.0,
                "mean_scale": float(out.latents.scale.mean()),
                "mean_log_alpha": float(out.latents.log_activation.mean()),
            }
            log_eval(step)
        if bg_wall + fg_wall > args.max_wall_s or time.time() > args.stop_at:
            log_eval(step)
            break
    record["steps_done"] = step
    record["train_wall_s"] = bg_wall + fg_wall
    record["final"] = record["curve"][-1]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1))
    if args.checkpoint:
        save_checkpoint(
            args.checkpoint,
            {
                "config": config.to_dict(),
                "model": {k: v.cpu() for k, v in model.state_dict().items()},
                "step": step,
                "phase": "foreground",
                "metrics": record["final"],
            },
        )
    if args.sheet:
        from sheet import write_sheet

        write_sheet(model, to_tensor(val_images[:8], device), args.sheet)


if __name__ == "__main__":
    main()
