"""Options shared by several commands, and value checks typer's ranges do not make.

Ranges come from :mod:`text3d.limits`, so the CLI and the library refuse the same values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from text3d.errors import InputError
from text3d.limits import MAX_SEED
from text3d.registry import Registry
from text3d.store.locks import exclusive, folder_lock
from text3d.store.outputs import removed_if_failed


class _WholeSummaries(TyperGroup):
    """click's command list, with each command's first sentence whole and wrapped (click cuts it to
    what fits on one line)."""

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = [(name, command.get_short_help_str(limit=400)) for name in self.list_commands(ctx)
                if (command := self.get_command(ctx, name)) is not None and not command.hidden]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def command_group(**settings: Any) -> typer.Typer:
    """A text3d command group (``typer.Typer(**settings)``) with plain click help. typer's rich panels
    squeeze the option-name column at 80 columns and cut long names (``--checkpoint-e…``,
    ``--no-rgb-geome…``), so an option could not be read off its own help; click's layout wraps the
    description instead and shows every name and range whole."""
    return typer.Typer(rich_markup_mode=None, cls=_WholeSummaries, **settings)


def finite_range(low: float, high: float, low_open: bool = False) -> Callable[[float | None], float | None]:
    """typer callback: a finite number in [low, high] (or (low, high] with ``low_open``).
    typer's own ``min``/``max`` let NaN through, so float options use this instead."""

    def check(value: float | None) -> float | None:
        if value is None:
            return None
        if math.isnan(value):
            raise typer.BadParameter("nan is not a number")
        if math.isinf(value):  # "inf", or a number past a float's largest (1e400 reads as inf)
            raise typer.BadParameter(f"must be a finite number in {range_text(low, high, low_open)} (got one too "
                                     "large for a float, or inf)")
        if value < low or (low_open and value == low) or value > high:
            raise typer.BadParameter(f"{value:g} is outside {range_text(low, high, low_open)}")
        return value

    return check


def range_text(low: float, high: float, low_open: bool = False) -> str:
    """A float option's range as its help shows it: ``[0, 50]`` or ``(0, 3600]``."""
    return f"{'(' if low_open else '['}{low:g}, {high:g}]"


def finite_option(default: float | None, flag: str, low: float, high: float, help: str,
                  low_open: bool = False) -> Any:
    """A float option checked by :func:`finite_range`, whose help ends with its range (click shows
    the range of int options itself; a float range checked by a callback it cannot see)."""
    return typer.Option(default, flag, callback=finite_range(low, high, low_open),
                        help=f"{help} Range {range_text(low, high, low_open)}.")


def seed_option(default: int = 0, help: str = "Random seed.") -> int:
    return typer.Option(default, "--seed", min=0, max=MAX_SEED, help=help)


def wait_option() -> bool:
    return typer.Option(False, "--wait",
                        help="When another text3d process is writing the same output, wait for it instead of "
                             "failing with exit code 5.")


def overwrite_option(what: str) -> bool:
    return typer.Option(False, "--overwrite", help=f"Replace {what} already in --out (refused without it).")


def wait_seconds(wait: bool) -> float:
    """``--wait`` → wait without limit; else fail at once."""
    return math.inf if wait else 0.0


@contextmanager
def output_folder(out: Path, wait: bool) -> Iterator[Path]:
    """Hold the output folder ``out``'s lock for the block (``--wait``: wait for another writer);
    when the block fails and the folder was made for it and holds nothing yet, remove it again,
    so a refused command leaves no folder with only a lock file behind."""
    with removed_if_failed(out), exclusive(folder_lock(out), str(out), wait_seconds(wait)) as lock:
        yield lock


def executor_option() -> str:
    return typer.Option("local", "--executor",
                        help="Where the items run: local (this process), ray (a local Ray cluster) or ray:ADDRESS "
                             "(a running cluster, e.g. ray:auto or ray:ray://HEAD:10001; see docs/ray.md). "
                             "The outputs are the same.")


def comma_list(text: str, option: str) -> tuple[str, ...]:
    """The entries of a comma-separated option, stripped; an empty entry ("a,,b", a trailing comma),
    none at all, or one named twice is a one-line :class:`InputError` naming the option."""
    parts = tuple(part.strip() for part in text.split(","))
    if not all(parts):
        raise InputError(f"{option} {text!r}: an empty entry; give comma-separated names")
    twice = sorted({part for part in parts if parts.count(part) > 1})
    if twice:  # every such option is a set of names: a repeat would run or count one thing twice
        raise InputError(f"{option} {text!r}: names {', '.join(twice)} twice")
    return parts


def check_registered(registry: Registry, name: str, option: str) -> None:
    """Refuse (one line naming ``option``) a backend name ``registry`` does not hold, before any
    folder is made or model loaded."""
    try:
        registry.get(name)
    except InputError as error:
        raise InputError(f"{option} {name}: {error}") from None


def check_llm(spec: str, option: str = "--llm") -> None:
    """Refuse (one line naming ``option``) an LLM spec its backend would refuse when first used: an
    unknown or missing backend, a missing model, a model for a backend that takes none."""
    from text3d.runs.checks import check_augment

    check_augment(spec, option)
