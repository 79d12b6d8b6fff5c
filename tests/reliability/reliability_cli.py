"""Running `astseg` the way a user does, and the checks every row of the matrix makes.

`astseg(...)` invokes the Typer app in this process (fast; an exception that escapes the
CLI counts as a traceback); `astseg_process(...)` runs `python -m cli` as a real process,
for rows that need resource limits, signals or a clean memory baseline.
"""

from __future__ import annotations

import os
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
ERROR_PREFIX = "astseg: error:"


@dataclass
class Outcome:
    """Exit code and the two streams of one `astseg` invocation."""

    code: int
    stdout: str
    stderr: str
    crash: str | None = None  # the traceback of an exception that escaped the CLI

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith(ERROR_PREFIX)]

    def __str__(self) -> str:
        text = f"exit {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"
        return text + (f"\n--- escaped exception\n{self.crash}" if self.crash else "")


def astseg(*args: str | Path) -> Outcome:
    """`astseg ARGS` in this process."""
    from cli import app

    result = CliRunner().invoke(app, [str(a) for a in args])
    crash = None
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        crash = "".join(traceback.format_exception(result.exception))
    return Outcome(result.exit_code, result.stdout, result.stderr, crash)


def cli_env(**extra: str) -> dict[str, str]:
    """The environment of a child `astseg`: this checkout first, one thread, unbuffered."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


# Run a command under a file-size limit with SIGXFSZ ignored, so a write past the limit fails
# with EFBIG the way a full disk fails with ENOSPC (the limit and the ignored signal survive
# exec; setting them here, not in preexec_fn, is safe in a threaded parent).
_LIMITED = (
    "import os, resource, signal, sys; "
    "signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
    "resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), resource.RLIM_INFINITY)); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])"
)


def astseg_process(
    *args: str | Path,
    env: dict[str, str] | None = None,
    file_size_limit: int | None = None,
    timeout: float = 120.0,
) -> Outcome:
    """`python -m cli ARGS` as a child process, optionally unable to grow a file past
    `file_size_limit` bytes."""
    command = ["-m", "cli", *(str(a) for a in args)]
    if file_size_limit is not None:
        command = ["-c", _LIMITED, str(file_size_limit), *command]
    proc = subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        env=env or cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


def assert_user_error(outcome: Outcome, *fragments: str) -> str:
    """Exit 2, no traceback, and exactly one `astseg: error:` line holding every fragment."""
    assert outcome.crash is None, str(outcome)
    assert outcome.code == 2, str(outcome)
    assert "Traceback" not in outcome.stdout + outcome.stderr, str(outcome)
    lines = outcome.error_lines
    assert len(lines) == 1, str(outcome)
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]


def assert_success(outcome: Outcome) -> None:
    assert outcome.crash is None, str(outcome)
    assert outcome.code == 0, str(outcome)
    assert not outcome.error_lines and "Traceback" not in outcome.stderr, str(outcome)


def tree(root: Path) -> set[str]:
    """Every file and folder under `root`, relative to it (what a row leaves behind)."""
    if not root.exists():
        return set()
    return {str(p.relative_to(root)) for p in root.rglob("*")}
