"""Usage errors (`--stride abc`, an unknown option, a missing value) as one `astseg: error:`
line and exit 2, like every other error, instead of Click's multi-line usage box.

`AstsegGroup` is the root command's class: its `main` runs Click in non-standalone mode,
so Click hands back the exception instead of printing it, and this module prints the line.
It is the entry point the console script and `typer.testing.CliRunner` both go through.
"""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer.core import TyperGroup

# Typer 0.29 parses with its own copy of Click, so its exceptions are not `click`'s.
try:
    from typer._click import exceptions as _errors
except ImportError:  # older Typer on plain Click
    from click import exceptions as _errors  # type: ignore[no-redef]

PREFIX = "astseg: error:"
# Click's own control flow (an exit, an abort, a usage error): passed on, never reworded
CLICK_FLOW = (_errors.ClickException, typer.Exit, typer.Abort)


def usage_line(err: Any) -> str:
    """`astseg: error: astseg run: No such option: --bogus; see astseg run --help.`"""
    message = err.format_message().strip().rstrip(".")
    ctx = getattr(err, "ctx", None)
    if isinstance(err, _errors.UsageError):
        if ctx is None:  # raised before the command's context exists (a missing value)
            return f"{PREFIX} {message}; see astseg --help."
        return f"{PREFIX} {ctx.command_path}: {message}; see {ctx.command_path} --help."
    return f"{PREFIX} {message}."


class AstsegGroup(TyperGroup):
    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        prog_name = prog_name or "astseg"  # not "cli.py" under `python -m cli`
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _errors.NoArgsIsHelpError as err:
            err.show()  # the help text, as asked for by giving no arguments
            sys.exit(err.exit_code)
        except _errors.ClickException as err:
            typer.echo(usage_line(err), err=True)
            sys.exit(2 if isinstance(err, _errors.UsageError) else err.exit_code)
        except typer.Abort:
            typer.echo(f"{PREFIX} aborted.", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)
