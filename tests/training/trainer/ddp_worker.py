"""One rank of the DDP test: `torchrun --nproc_per_node 2 ddp_worker.py OUT`.

Trains the tiny model, recording each step's batch (size and pixel sum) as this rank saw
it, then saves its final parameters to OUT/rank{RANK}.pt for the test to compare.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[2]), str(HERE)]

import torch  # noqa: E402
from trainer_fixtures import scenes, tiny_config  # noqa: E402

from training import objective  # noqa: E402
from training.trainer import train  # noqa: E402


def main(out: Path) -> None:
    seen: list[tuple[int, float]] = []
    models: list = []
    real_bg, real_fg = objective.background_step_loss, objective.foreground_step_loss

    def background_step_loss(model, images):
        seen.append((images.shape[0], float(images.double().sum())))
        return real_bg(model, images)

    def foreground_step_loss(model, images, step, train_cfg, background=None):
        seen.append((images.shape[0], float(images.double().sum())))
        models.append(model)
        return real_fg(model, images, step, train_cfg, background)

    objective.background_step_loss = background_step_loss
    objective.foreground_step_loss = foreground_step_loss
    config = tiny_config(steps=3, frozen_background_steps=1)
    train(config, scenes(), out / "run", device="cpu", progress=False, echo=lambda line: None)
    # Parameters only: DDP syncs BatchNorm running statistics at the start of each forward,
    # so after the last step each rank still holds the statistics of its own last batch.
    weights = {k: v.detach().clone() for k, v in models[-1].named_parameters()}
    torch.save({"seen": seen, "weights": weights}, out / f"rank{os.environ['RANK']}.pt")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
