"""Write one black-and-white PNG per object for every image in a folder.

    python examples/masks_for_folder.py photos/ masks/ [--model my_bundle.zip]

Writes masks/<image>_<id>.png (255 = object) and masks/<image>_overlay.jpg.
"""

import argparse
import sys
from pathlib import Path

import cv2

from sdk import AstsegError, Segmenter, open_source

parser = argparse.ArgumentParser(description="Per-object masks for a folder of images.")
parser.add_argument("images", help="folder (or glob) of images")
parser.add_argument("out", type=Path, help="folder for the masks")
parser.add_argument("--model", help="bundle folder or .zip (default: the shipped model)")
args = parser.parse_args()

try:
    seg = Segmenter(args.model, track=False)  # unrelated photos: no identity across images
    args.out.mkdir(parents=True, exist_ok=True)
    with open_source(args.images) as images:
        for image in images:
            result = seg(image.image)
            stem = Path(image.name or f"{image.index:06d}").stem
            for obj in result.objects:
                cv2.imwrite(str(args.out / f"{stem}_{obj.id}.png"), obj.mask.astype("uint8") * 255)
            cv2.imwrite(str(args.out / f"{stem}_overlay.jpg"), result.plot())
            print(f"{image.name}: {len(result.objects)} objects")
except AstsegError as err:
    sys.exit(f"error: {err}")
