"""The ``text3d`` command line: a thin typer app over the library.

Each module of this package adds its commands through ``register(app)``. User errors
(:class:`~text3d.errors.Text3DError`) print one line on stderr and exit non-zero; set
``TEXT3D_DEBUG=1`` to see tracebacks of internal errors.
"""

from __future__ import annotations

import logging
import os
import re
import sys

import typer

from text3d.cli._options import command_group
from text3d.device import prefer_sleeping_openmp
from text3d.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, InputError, Text3DError, one_line
from text3d.registry import import_submodules

app = command_group(
    name="text3d",
    help="Automatic text-to-3D asset pipeline: augment, generate, export, render, evaluate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details.")) -> None:
    logging.getLogger("text3d").setLevel(logging.INFO if verbose else logging.WARNING)


_registered: list[bool] = []


def _register_commands() -> None:
    """Add every cli module's commands to ``app``, once per process: typer appends on each
    ``add_typer``/``command`` call, so a second registration would list every command twice
    (and make each later ``main()`` call slower, as in-process tests call it thousands of times)."""
    if _registered:
        return
    for module in import_submodules(__name__):
        register = getattr(module, "register", None)
        if register is not None:
            register(app)
    _registered.append(True)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at each record, not the stream of the first call (in-process
    callers, tests among them, replace it between calls)."""

    @property
    def stream(self):  # noqa: D102
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def _configure_logging() -> None:
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("text3d: %(levelname)s: %(message)s"))
    root = logging.getLogger("text3d")
    if not root.handlers:
        root.addHandler(handler)
    root.setLevel(logging.WARNING)
    root.propagate = False


_INTERRUPTED = "text3d: interrupted; finished work is kept, run the same command to resume"


_VALIDATION_WORDS = ((re.compile(r"Input should be greater than or equal to (\S+)"), r"must be ≥ \1"),
                     (re.compile(r"Input should be less than or equal to (\S+)"), r"must be ≤ \1"),
                     (re.compile(r"Input should be greater than (\S+)"), r"must be > \1"),
                     (re.compile(r"Input should be less than (\S+)"), r"must be < \1"),
                     (re.compile(r"Input should be a valid integer.*"), "not a whole number"),
                     (re.compile(r"Input should be a valid number.*"), "not a number"))
"""typer checks ranges through pydantic, whose words ("Input should be …") are another library's:
the message says the rule in text3d's terms, as the float options' "is outside [0, 100]" does."""


def _usage_line(exc: Exception) -> str:
    """``generate: Missing option '--out' / '-o'.`` — the subcommand, then click's message."""
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    for pattern, words in _VALIDATION_WORDS:
        message = pattern.sub(words, message)
    context = getattr(exc, "ctx", None)
    path = (getattr(context, "command_path", "") or "").removeprefix("text3d").strip()
    if type(exc).__name__ == "NoArgsIsHelpError" or not message:
        message = f"no command given (see text3d {path + ' ' if path else ''}--help)"
    return f"{path}: {one_line(message)}" if path else one_line(message)


def _os_error_line(exc: OSError) -> str:
    """``PATH: permission denied`` from an OSError raised on a path the user named."""
    reason = (exc.strerror or type(exc).__name__).lower()
    target = exc.filename if exc.filename is not None else None
    return one_line(f"{target}: {reason}" if target is not None else reason)


def _usage_errors() -> tuple[type[BaseException], ...]:
    """click's and typer's usage-error classes: typer ≥ 0.20 vendors its own click."""
    import click

    kinds: list[type[BaseException]] = [click.ClickException]
    try:
        from typer.exceptions import TyperException

        kinds.append(TyperException)
    except ImportError:  # typer that uses click's own classes
        pass
    return tuple(kinds)


def _exit_signals() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """(Exit classes, Abort classes) of click and of typer's vendored click."""
    import click

    exits: list[type[BaseException]] = [click.exceptions.Exit]
    aborts: list[type[BaseException]] = [click.exceptions.Abort, KeyboardInterrupt]
    try:
        from typer import exceptions as typer_exceptions

        exits.append(typer_exceptions.Exit)
        aborts.append(typer_exceptions.Abort)
    except (ImportError, AttributeError):
        pass
    return tuple(exits), tuple(aborts)


def check_no_empty_argument(argv: list[str]) -> None:
    """Refuse an empty argument in one line: as a path it would silently mean ``.`` (the current
    folder), and no option of text3d takes an empty value."""
    for i, token in enumerate(argv):
        if token.startswith("--") and token.endswith("=") and len(token) > 3:
            raise InputError(f"{token[:-1]} is empty; give a value")
        if token == "":
            before = argv[i - 1] if i else ""
            if before.startswith("-") and "=" not in before and not _is_flag(argv[:i - 1], before):
                raise InputError(f"{before} is empty; give a value")
            raise InputError("an argument is empty (''); give a value")


def _is_flag(words: list[str], option: str) -> bool:
    """Whether ``option`` takes no value in the command that ``words`` (the arguments before it) name."""
    command = typer.main.get_command(app)
    for word in words:
        if word in getattr(command, "commands", {}):  # a group (typer's own click classes)
            command = command.commands[word]
    for param in command.params:
        if option in (*param.opts, *param.secondary_opts):
            return bool(getattr(param, "is_flag", False) or getattr(param, "count", False))
    return False


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``text3d`` console script; returns the exit code (see :mod:`text3d.errors`)."""
    # Nothing downloads weights at run time: a hub id that is not cached fails at once
    # instead of after 30–50 s of connection retries.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    _configure_logging()
    _register_commands()
    exits, aborts = _exit_signals()
    try:
        check_no_empty_argument(sys.argv[1:] if argv is None else argv)
        result = app(args=argv, standalone_mode=False, prog_name="text3d")
        code = int(result) if isinstance(result, int) else 0
        if code == EXIT_INTERRUPTED:  # typer turns Ctrl-C into Exit(130) without a word
            print(_INTERRUPTED, file=sys.stderr)
        return code
    except Text3DError as exc:
        print(f"text3d: error: {one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except exits as exc:
        return int(getattr(exc, "exit_code", 0))
    except aborts:
        print(_INTERRUPTED, file=sys.stderr)
        return EXIT_INTERRUPTED
    except _usage_errors() as exc:
        context = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and context is not None:
            print(context.get_help())  # a bare group: its commands, then the one-line error
        print(f"text3d: error: {_usage_line(exc)}", file=sys.stderr)
        code = getattr(exc, "exit_code", 2)
        return code if isinstance(code, int) and code > 0 else 2
    except OSError as exc:
        if os.environ.get("TEXT3D_DEBUG"):
            raise
        print(f"text3d: error: {_os_error_line(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:
        if os.environ.get("TEXT3D_DEBUG"):
            raise
        print(f"text3d: internal error: {one_line(type(exc).__name__ + ': ' + str(exc))} "
              "(set TEXT3D_DEBUG=1 for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


def entry() -> None:
    """The console script: :func:`main`, then an exit that skips the interpreter's module teardown.

    Tearing down torch's modules at interpreter exit costs ~0.6 s on 2 cores, a tenth of a
    cold ``text3d generate``. Every file is already written (atomically) when ``main``
    returns, so after flushing the streams and running the ``atexit`` handlers the process
    leaves with ``os._exit``. A non-daemon thread still running keeps the normal exit,
    which waits for it, and so does a profiler or debugger (``python -m cProfile -m text3d``
    writes its report after the program returns).
    """
    import atexit
    import threading

    prefer_sleeping_openmp()  # before any command loads torch
    code = main()
    workers = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon and t.is_alive()]
    if sys.getprofile() is not None or sys.gettrace() is not None or workers:
        sys.exit(code)
    logging.shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing left to deliver
            pass
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
