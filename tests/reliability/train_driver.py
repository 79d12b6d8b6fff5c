"""`astseg train` in a child process that stops inside one of its checkpoint writes.

    python train_driver.py STALL_AT MARKER ARGS...

The STALL_AT-th training checkpoint (a latest.pt, the kind that carries an optimiser) is
serialised whole, half of its bytes are written to the temp file `save_checkpoint` opened,
the step is written to MARKER, and the process then waits to be killed: a SIGKILL that lands
exactly in the middle of a checkpoint write. STALL_AT 0 never stalls.
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path
from typing import Any


def stall_in_checkpoint_write(stall_at: int, marker: Path) -> None:
    import torch

    real_save = torch.save
    writes = 0

    def save(obj: Any, f: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal writes
        if isinstance(obj, dict) and "optimizer" in obj:
            writes += 1
            if writes == stall_at:
                buffer = io.BytesIO()
                real_save(obj, buffer, *args, **kwargs)
                data = buffer.getvalue()
                f.write(data[: len(data) // 2])
                f.flush()
                marker.write_text(str(obj["step"]))
                time.sleep(3600)  # until the test kills this process
        real_save(obj, f, *args, **kwargs)

    torch.save = save


def main() -> None:
    stall_at, marker, args = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
    if stall_at:
        stall_in_checkpoint_write(stall_at, marker)
    from cli import app

    app(args, prog_name="astseg")


if __name__ == "__main__":
    main()
