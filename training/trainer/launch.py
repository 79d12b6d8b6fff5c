"""One rank of a multi-process run: `torchrun --nproc_per_node N -m training.trainer.launch ...`.

Takes the options of `astseg train` (which builds this command line for `--gpus N`).
Rank 0 prints the closing line; a user error ends every rank with one sentence and exit 2.
"""

from __future__ import annotations

import argparse
import os
import sys

from sdk.errors import AstsegError
from training.trainer.command import TrainCommand, outcome_line


def parse(argv: list[str]) -> TrainCommand:
    parser = argparse.ArgumentParser(prog="python -m training.trainer.launch")
    parser.add_argument("--data")
    parser.add_argument("--preset")
    parser.add_argument("--config", dest="config_file")
    parser.add_argument("--set", dest="sets", action="append", default=[])
    parser.add_argument("--out")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--device")
    parser.add_argument("--scenario")
    parser.add_argument("--background-only", action="store_true")
    parser.add_argument("--background-from")
    parser.add_argument("--val-data")
    parser.add_argument("--slots", type=int)
    parser.add_argument("--size")
    return TrainCommand(**vars(parser.parse_args(argv)))


def main(argv: list[str] | None = None) -> int:
    command = parse(sys.argv[1:] if argv is None else argv)
    rank = int(os.environ.get("RANK", "0"))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    try:
        result = command.execute(progress=rank == 0)
    except (AstsegError, ValueError, OSError) as err:
        print(f"astseg: error (rank {rank}): {err}", file=sys.stderr)
        return 2
    if rank == 0:
        print(outcome_line(command, result, world))
    return 0


if __name__ == "__main__":
    sys.exit(main())
