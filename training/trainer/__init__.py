"""The AST-Seg trainer: curriculum, baseline and frozen-background training (paper §4.2.2),
resumable, on one CPU or GPU or many processes (torchrun + DistributedDataParallel).

    from training.trainer import train
    from training.trainer.options import resolve_config

    config = resolve_config(preset="cpu", sets=["train.steps=2000"])
    result = train(config, "synthetic:size=64,count=5000", "runs/demo")
"""

from training.trainer.errors import TrainingError
from training.trainer.loop import train
from training.trainer.options import resolve_config
from training.trainer.result import StepRecord, TrainResult

__all__ = ["StepRecord", "TrainResult", "TrainingError", "resolve_config", "train"]
