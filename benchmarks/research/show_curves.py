"""Prints the quality curve of one or more `cpu_recipe.py` JSON files, one line per evaluation.

python benchmarks/research/show_curves.py runs/research/*.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main() -> None:
    for path in sys.argv[1:]:
        record = json.loads(Path(path).read_text())
        print(f"{path}  (phase 1: {record.get('background_wall_s', 0):.0f} s)")
        for e in record["curve"]:
            single = e.get("ari_fg_single")
            print(
                f"  step {e['step']:5d}  {e['wall_s']:6.0f} s  ARI-FG {e['ari_fg']:.3f}  "
                f"mIoU-FG {e['miou_fg']:.3f}  MSE {e['mse']:6.1f}  "
                f"slots used {e['slots_used']:.2f} / objects {e['objects']:.2f}"
                + (f"  ARI-FG 1-object {single:.3f}" if single is not None else "")
            )


if __name__ == "__main__":
    main()
