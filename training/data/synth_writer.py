"""`astseg data synth`: writes synthetic scenes in the folder format, or a synthetic
fixed-camera video with its per-frame masks, behind a progress bar."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import cv2
from tqdm import tqdm

from sdk.outputs.output_paths import write_output
from training.data.errors import DataError
from training.data.folder import new_folder, write_sample
from training.data.imageio import write_image, write_labels
from training.data.synth_size import check_scene_size
from training.data.synthetic import SceneConfig, SyntheticScenes
from training.data.synthetic_video import SyntheticVideo
from training.data.video import background_file, masks_folder

VIDEO_NAME = "video.mp4"
FPS = 25


def _describe(config: SceneConfig, extra: Mapping[str, object]) -> str:
    body = {
        "height": config.height,
        "width": config.width,
        "max_objects": config.max_objects,
        "min_objects": config.min_objects,
        "background": config.background,
        "textured": config.textured,
        "seed": config.seed,
        **extra,
    }
    return json.dumps(body, indent=2) + "\n"


def write_synthetic_images(
    out: str | Path, config: SceneConfig, count: int, progress: bool = True
) -> Path:
    """Writes `count` scenes as OUT/images, OUT/masks, OUT/backgrounds and OUT/synth.json."""
    scenes = SyntheticScenes(config, count)
    out = Path(out)
    with new_folder(out) as stage:
        for i in tqdm(range(count), desc="synthetic scenes", unit="img", disable=not progress):
            write_sample(stage, scenes[i], f"{i:06d}")
        write_output(stage / "synth.json", _describe(scenes.config, {"count": count}))
    return out


def write_synthetic_video(
    out: str | Path, config: SceneConfig, frames: int, progress: bool = True
) -> Path:
    """Writes OUT/video.mp4 (mp4v), OUT/video_masks/NNNNNN.png (persistent instance ids),
    OUT/video_background.png (unless the light changes) and OUT/synth.json."""
    video = SyntheticVideo(config, frames)
    out = Path(out)
    with new_folder(out) as stage:
        path = stage / VIDEO_NAME
        size = (video.config.width, video.config.height)
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), FPS, size)
        if not writer.isOpened():
            raise DataError(f"OpenCV cannot write an mp4v video at {path}")
        masks = masks_folder(path)
        masks.mkdir()
        try:
            for t in tqdm(
                range(frames), desc="synthetic video", unit="frame", disable=not progress
            ):
                image, ids, background = video.render(t)
                writer.write(image[:, :, ::-1].copy())
                write_labels(masks / f"{t:06d}.png", ids)
                if t == 0 and video.config.background != "gradient":
                    write_image(background_file(path), background)
        finally:
            writer.release()
        extra = {"frames": frames, "fps": FPS, "objects_total": len(video.tracks)}
        write_output(stage / "synth.json", _describe(video.config, extra))
    return out


def run_synth(
    out: str | Path,
    count: int | None,
    size: str,
    objects: int,
    background: str,
    video: bool,
    frames: int,
    seed: int,
    textured: float,
) -> str:
    """What `astseg data synth` does; returns the one-line summary it prints."""
    from training.data.spec import parse_size

    try:
        height, width = parse_size(size)
    except ValueError:
        raise DataError(f"--size {size!r} must be H or HxW in pixels, e.g. 64 or 48x64") from None
    check_scene_size(height, width)
    config = SceneConfig(
        height=height,
        width=width,
        max_objects=objects,
        min_objects=min(1, objects),
        background=background,
        textured=textured,
        seed=seed,
    ).validate()
    if video:
        if count is not None:
            raise DataError("--count applies to images; give the video length with --frames")
        if frames < 1:
            raise DataError(f"--frames must be at least 1, got {frames}")
        path = write_synthetic_video(out, config, frames)
        video_path = Path(path) / VIDEO_NAME
        return f"wrote {frames} frames to {video_path} (data spec video:{video_path})"
    if count is None or count < 1:
        raise DataError("--count N (at least 1) is required unless --video is given")
    path = write_synthetic_images(out, config, count)
    return f"wrote {count} images to {path} (data spec folder:{path})"
