"""`astseg demo`: a fixed-camera clip with ground truth, segmented by the shipped model.

It generates the clip (the same synthetic camera the default model was trained on,
read from the bundle's manifest), streams it through the real `astseg run` pipeline
(decode -> infer -> track -> draw -> encode), then scores every frame against the
ground truth: ARI-FG, foreground mIoU, identity switches, and the run's FPS.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from sdk import FrameResult, Segmenter
from sdk.options import DEFAULTS
from sdk.outputs.atomic import write_bytes_atomic
from sdk.outputs.outputs import OutputOptions
from sdk.outputs.report import Report, metric_rows, write_report
from sdk.outputs.timeline import ClipTimeline
from sdk.run.options import RunOptions
from sdk.run.pipeline import run_pipeline
from training.data import SceneConfig, SyntheticVideo
from training.data.errors import DataError
from training.data.spec import synthetic_scene_config
from training.data.synth_writer import write_synthetic_video
from training.evaluation.grid import colourise
from training.metrics import IdentityCounter, ari_fg, matched_iou

SHEET_FRAMES = 4
SHEET_TILE = (320, 240)  # width, height of one contact-sheet tile


@dataclass
class DemoReport:
    frames: int
    ari_fg: float
    miou_fg: float
    fps: float
    id_switches: int
    switches_per_100_frames: float
    single_id_share: float
    backend: str
    outputs: dict[str, str]
    masks_from: str = "slots"

    def line(self) -> str:
        return (
            f"ARI-FG {self.ari_fg:.3f} | mIoU-FG {self.miou_fg:.3f} | "
            f"{self.fps:.1f} FPS end-to-end | {self.id_switches} ID switches "
            f"({self.switches_per_100_frames:.2f} per 100 frames) over {self.frames} frames"
        )


def camera_for(seg: Segmenter, frame_size: tuple[int, int] | None) -> SceneConfig:
    """The synthetic camera the bundle was trained on (from the data spec in its manifest).

    A bundle trained on other data gets a default 640x480 fixed camera.
    """
    spec = seg.bundle.manifest.training.get("data")
    scene = synthetic_scene_config(spec) if isinstance(spec, str) else None
    scene = scene or SceneConfig(height=480, width=640, max_objects=4, background="fixed")
    if frame_size is not None:
        scene = replace(scene, height=frame_size[0], width=frame_size[1])
    return scene.validate()


def _tile(image_bgr: np.ndarray, title: str) -> np.ndarray:
    tile = cv2.resize(image_bgr, SHEET_TILE, interpolation=cv2.INTER_AREA)
    cv2.rectangle(tile, (0, 0), (SHEET_TILE[0], 22), (0, 0, 0), -1)
    cv2.putText(tile, title, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
    return tile


def _contact_sheet(rows: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]) -> np.ndarray:
    """One row per chosen frame: input | astseg (masks + IDs) | ground truth."""
    lines = []
    for index, frame, annotated, truth in rows:
        lines.append(
            np.concatenate(
                [
                    _tile(frame, f"frame {index}"),
                    _tile(annotated, "astseg: masks + IDs"),
                    _tile(colourise(truth)[:, :, ::-1], "ground truth"),
                ],
                axis=1,
            )
        )
    return np.concatenate(lines, axis=0)


def _write_png(path: Path, image: np.ndarray) -> None:
    ok, png = cv2.imencode(".png", image)
    if not ok:
        raise OSError(f"could not write {path}")
    write_bytes_atomic(path, png.tobytes())


def _make_folder(out: Path) -> None:
    """OUT as a folder, or one sentence on why it cannot be (before any work)."""
    if out.exists() and not out.is_dir():
        raise DataError(
            f"--out {out} is a file, not a folder; give a folder for the demo's clip and results "
            "(it is created if missing)"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataError(
            f"cannot create the demo folder {out} ({err.strerror or err}); choose another --out"
        ) from None


def run_demo(
    out: Path,
    model: str | None = None,
    frames: int = 150,
    size: tuple[int, int] | None = None,
    backend: str = DEFAULTS.backend,
    masks_from: str | None = None,
) -> DemoReport:
    _make_folder(out)
    seg = Segmenter(model, backend=backend, masks_from=masks_from)
    # The trained camera's background; the clip's objects and paths are drawn from a
    # random stream the training scenes never used.
    clip_config = camera_for(seg, size)
    clip_dir = out / "clip"
    if clip_dir.exists():
        shutil.rmtree(clip_dir)
    write_synthetic_video(clip_dir, clip_config, frames)
    video = SyntheticVideo(clip_config, frames)

    wanted = {round(i * (frames - 1) / (SHEET_FRAMES - 1)) for i in range(SHEET_FRAMES)}
    labels: list[np.ndarray] = []
    sheet_rows: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
    timeline = ClipTimeline()

    def keep(result: FrameResult, frame: np.ndarray) -> None:
        labels.append(result.label_map.astype(np.uint16))
        timeline.add(obj.id for obj in result.objects)
        if result.index in wanted:
            sheet_rows.append((result.index, frame, result.plot(frame), video[result.index].mask))

    annotated = out / "annotated.mp4"
    summary = run_pipeline(
        seg,
        str(clip_dir / "video.mp4"),
        RunOptions(outputs=OutputOptions(out=annotated), on_result=keep),
    )

    identity = IdentityCounter()
    aris, mious = [], []
    for t, predicted in enumerate(tqdm(labels, desc="scoring", unit="frame")):
        truth = video[t].mask
        identity.update(truth, predicted)
        if (truth > 0).any():
            aris.append(ari_fg(truth, predicted))
            miou_fg, _ = matched_iou(truth, predicted)
            if not math.isnan(miou_fg):
                mious.append(miou_fg)
    ids = identity.result()

    sheet = out / "contact_sheet.png"
    _write_png(sheet, _contact_sheet(sorted(sheet_rows, key=lambda row: row[0])))
    report = DemoReport(
        frames=summary.frames,
        ari_fg=float(np.mean(aris)) if aris else math.nan,
        miou_fg=float(np.mean(mious)) if mious else math.nan,
        fps=summary.fps,
        id_switches=ids.id_switches,
        switches_per_100_frames=ids.switches_per_100_frames,
        single_id_share=ids.single_id_share,
        backend=seg.backend_description,
        masks_from=seg.masks_from,
        outputs={
            "video": str(annotated),
            "contact_sheet": str(sheet),
            "clip": str(clip_dir / "video.mp4"),
            "report": str(out / "index.html"),
        },
    )
    html_report = Report(
        title="astseg demo: a synthetic fixed camera, segmented by the shipped model",
        video=annotated,
        images=[("Contact sheet: input | astseg | ground truth", sheet)],
        metrics=metric_rows(
            [
                ("frames", report.frames),
                ("ARI-FG", report.ari_fg),
                ("mIoU-FG", report.miou_fg),
                ("end-to-end FPS", f"{report.fps:.1f}"),
                ("ID switches", report.id_switches),
                ("ID switches per 100 frames", report.switches_per_100_frames),
                ("objects followed by one ID", report.single_id_share),
                ("backend", report.backend),
            ]
        ),
        timeline=timeline,
        fps=video_fps(clip_dir / "video.mp4"),
        notes=[replace(summary, outputs=[]).line()],
    )
    write_report(html_report, out)
    _write_json(out / "demo.json", {**asdict(report), "stages_ms": summary.stages_ms})
    return report


def video_fps(path: Path) -> float | None:
    capture = cv2.VideoCapture(str(path))
    try:
        fps = capture.get(cv2.CAP_PROP_FPS)
    finally:
        capture.release()
    return fps if fps > 0 else None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    write_bytes_atomic(path, (json.dumps(data, indent=2, allow_nan=True) + "\n").encode())
