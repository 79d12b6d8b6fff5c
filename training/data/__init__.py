"""Datasets as numpy arrays: synthetic scenes and videos with exact masks, the folder
format, users' videos, CDnet, and the benchmarks (CLEVRTEX, CLEVR, ObjectsRoom,
ShapeStacks) with their published preprocessing. Nothing here imports torch; the torch
wrapper lives in `training.data.torch_dataset`.

    from training.data import open_dataset
    dataset = open_dataset("synthetic:size=64,objects=4,count=5000")
    sample = dataset[0]   # Sample(image uint8 HxWx3 RGB, mask int32 HxW | None, ...)
"""

from training.data.camera_effects import CameraEffects
from training.data.cdnet import CdnetSequence, open_cdnet
from training.data.clevrtex import ClevrTexDataset
from training.data.errors import DataError
from training.data.folder import FolderDataset, write_folder, write_sample
from training.data.multi_object import CLEVR, OBJECTS_ROOM, MultiObjectDataset
from training.data.sample import (
    Concatenated,
    Resized,
    Sample,
    SampleDataset,
    Subset,
    holdout_split,
    resize_sample,
)
from training.data.shapestacks import ShapeStacksDataset
from training.data.spec import DataSpec, open_dataset, parse_data_spec
from training.data.synthetic import SceneConfig, SyntheticScenes, render_scene
from training.data.synthetic_video import SyntheticVideo, Track
from training.data.video import VideoDataset

__all__ = [
    "CLEVR",
    "CameraEffects",
    "OBJECTS_ROOM",
    "CdnetSequence",
    "ClevrTexDataset",
    "Concatenated",
    "DataError",
    "DataSpec",
    "FolderDataset",
    "MultiObjectDataset",
    "Resized",
    "Sample",
    "SampleDataset",
    "SceneConfig",
    "ShapeStacksDataset",
    "Subset",
    "SyntheticScenes",
    "SyntheticVideo",
    "Track",
    "VideoDataset",
    "holdout_split",
    "open_cdnet",
    "open_dataset",
    "parse_data_spec",
    "render_scene",
    "resize_sample",
    "write_folder",
    "write_sample",
]
