"""A progress bar per TensorRT build phase (builds take minutes and print little).

tqdm draws the bars; on a bare GPU machine without it, top-level phases are printed.
"""

from __future__ import annotations

import threading
from types import ModuleType
from typing import Any

try:
    from tqdm import tqdm
except ImportError:  # pragma: no cover - tqdm is an astseg dependency
    tqdm = None


def progress_monitor(trt: ModuleType, label: str) -> Any:
    """An `IProgressMonitor` drawing a bar per phase; call `.close()` after the build."""

    class _Monitor(trt.IProgressMonitor):  # type: ignore[misc]
        def __init__(self) -> None:
            trt.IProgressMonitor.__init__(self)
            self._bars: dict[str, Any] = {}
            self._depth: dict[str, int] = {}
            self._lock = threading.Lock()  # TensorRT may report from several threads

        def phase_start(self, phase_name: str, parent_phase: str | None, num_steps: int) -> None:
            with self._lock:
                depth = self._depth[parent_phase] + 1 if parent_phase in self._depth else 0
                self._depth[phase_name] = depth
                if tqdm is None:
                    if depth == 0:
                        print(f"{label}: {phase_name} ({num_steps} steps)", flush=True)
                    return
                self._bars[phase_name] = tqdm(
                    total=num_steps,
                    desc=f"{label}: {phase_name}",
                    position=depth,
                    leave=depth == 0,
                    dynamic_ncols=True,
                )

        def step_complete(self, phase_name: str, step: int) -> bool:
            with self._lock:
                bar = self._bars.get(phase_name)
                if bar is not None:
                    bar.update(step + 1 - bar.n)
            return True  # False would cancel the build

        def phase_finish(self, phase_name: str) -> None:
            with self._lock:
                self._depth.pop(phase_name, None)
                bar = self._bars.pop(phase_name, None)
                if bar is not None:
                    bar.close()

        def close(self) -> None:
            with self._lock:
                for bar in self._bars.values():
                    bar.close()
                self._bars.clear()

    return _Monitor()
