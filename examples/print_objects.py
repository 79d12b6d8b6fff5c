"""Print each object's ID, box and area, frame by frame, for a video (or camera, URL, folder).

python examples/print_objects.py input.mp4 [--model my_bundle.zip]
"""

import argparse
import sys

from sdk import AstsegError, Segmenter

parser = argparse.ArgumentParser(description="Print the objects astseg finds in every frame.")
parser.add_argument("source", help="video file, camera index, stream URL or image folder")
parser.add_argument("--model", help="bundle folder or .zip (default: the shipped model)")
args = parser.parse_args()

try:
    seg = Segmenter(args.model)
    for result in seg.stream(args.source):
        for obj in result.objects:
            print(f"frame {result.index:5d}  id {obj.id:3d}  bbox {obj.bbox}  area {obj.area}")
except AstsegError as err:
    sys.exit(f"error: {err}")
