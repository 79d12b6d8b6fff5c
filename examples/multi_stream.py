"""Segment several cameras or videos at once on one box and print each stream's FPS.

python examples/multi_stream.py cam1.mp4 cam2.mp4 rtsp://10.0.0.7/live [--out-dir runs/streams]
    [--model my_bundle.zip] [--max-fps 25]

Every source gets its own Segmenter (IDs are per camera) and runs beside the others;
with --out-dir each one writes <name>.mp4 (annotated) and <name>.jsonl (objects, masks).
--max-fps paces files like cameras, to find how many streams at a camera's rate the
box keeps up with: a stream keeps up when its FPS reaches the rate and, for cameras,
nothing was dropped.
"""

import argparse
import sys
from pathlib import Path

from sdk import AstsegError
from sdk.outputs.outputs import OutputOptions
from sdk.run.multi_stream import Stream, run_streams

parser = argparse.ArgumentParser(description="Run several sources at once; per-stream FPS.")
parser.add_argument("sources", nargs="+", help="video files, camera indices or stream URLs")
parser.add_argument("--out-dir", type=Path, help="write <name>.mp4 and <name>.jsonl per stream")
parser.add_argument("--model", help="bundle folder or .zip (default: the shipped model)")
parser.add_argument("--max-fps", type=float, help="pace every stream to this rate")
args = parser.parse_args()

streams = []
for number, source in enumerate(args.sources, start=1):
    name = f"{number}-{Path(source).stem or 'stream'}"
    outputs = OutputOptions()
    if args.out_dir is not None:
        outputs = OutputOptions(
            out=args.out_dir / f"{name}.mp4", json=args.out_dir / f"{name}.jsonl"
        )
    streams.append(Stream(source, outputs, name=name))

try:
    reports = run_streams(streams, args.model, max_fps=args.max_fps)
except (AstsegError, ValueError) as err:
    sys.exit(f"error: {err}")
for report in reports:
    print(report.line())
total = sum(report.fps for report in reports)
print(f"{len(reports)} streams, {total:.1f} frames/s in all")
sys.exit(1 if any(report.error for report in reports) else 0)
