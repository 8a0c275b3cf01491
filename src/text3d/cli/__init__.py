"""The ``text3d`` command line: a thin typer app over the library.

Each module of this package adds its commands through ``register(app)``. User errors
(:class:`~text3d.errors.Text3DError`) print one line on stderr and exit non-zero; set
``TEXT3D_DEBUG=1`` to see tracebacks of internal errors.
"""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil
import sys

import typer

from text3d.errors import Text3DError, one_line

app = typer.Typer(
    name="text3d",
    help="Automatic text-to-3D asset pipeline: augment, generate, export, render, evaluate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details.")) -> None:
    logging.getLogger("text3d").setLevel(logging.INFO if verbose else logging.WARNING)


def _register_commands() -> None:
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            module = importlib.import_module(f"{__name__}.{info.name}")
            register = getattr(module, "register", None)
            if register is not None:
                register(app)


def _configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("text3d: %(levelname)s: %(message)s"))
    root = logging.getLogger("text3d")
    if not root.handlers:
        root.addHandler(handler)
    root.setLevel(logging.WARNING)
    root.propagate = False


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``text3d`` console script; returns the exit code."""
    import click

    _configure_logging()
    _register_commands()
    try:
        result = app(args=argv, standalone_mode=False, prog_name="text3d")
        return int(result) if isinstance(result, int) else 0
    except Text3DError as exc:
        print(f"text3d: error: {one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        print(f"text3d: error: {one_line(exc.format_message())}", file=sys.stderr)
        return int(exc.exit_code)
    except (KeyboardInterrupt, click.exceptions.Abort):
        print("text3d: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("TEXT3D_DEBUG"):
            raise
        print(f"text3d: internal error: {one_line(type(exc).__name__ + ': ' + str(exc))} "
              "(set TEXT3D_DEBUG=1 for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
