"""`astseg`: the command-line entry point.

Each command parses its options and calls one function of a package. Heavy
packages (torch, transformers, onnx) are imported inside the commands, so
`astseg --help` and `astseg run` start without torch.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer

app = typer.Typer(
    name="astseg",
    help="Unsupervised per-object segmentation for fixed cameras (AST-Seg).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

F = TypeVar("F", bound=Callable[..., Any])


class UserError(Exception):
    """A failure the user can fix: printed as one sentence, exit code 2."""


def friendly(func: F) -> F:
    """Turns user-caused failures into one clear line and a non-zero exit, no traceback."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from sdk.errors import AstsegError

        try:
            return func(*args, **kwargs)
        except (UserError, AstsegError, FileNotFoundError, PermissionError) as err:
            typer.secho(f"astseg: error: {err}", err=True, fg=typer.colors.RED)
            raise typer.Exit(code=2) from None
        except ValueError as err:  # config and data validation errors
            typer.secho(f"astseg: error: {err}", err=True, fg=typer.colors.RED)
            raise typer.Exit(code=2) from None

    return wrapper  # type: ignore[return-value]


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    """Unsupervised per-object segmentation for fixed cameras (AST-Seg)."""
    if version:
        from sdk import __version__

        typer.echo(f"astseg {__version__}")
        raise typer.Exit()
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit()


# ---------------------------------------------------------------- demo (foundation)
@app.command()
@friendly
def demo(
    size: int = typer.Option(64, help="Image side of the generated scene."),
    slots: int = typer.Option(6, help="Number of object slots K."),
) -> None:
    """Build a small AST-Seg model and run one forward pass on a generated image."""
    from training.smoke import run_smoke_forward

    run_smoke_forward(size=size, slots=slots)


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(main())
