"""How often toyworld's programs paint each part in the object's main color, measured on training seeds.

The embedded augmenter names a color for every part it describes. Drawing every part after
the main one from hand-picked "plausible" colors described objects toyworld never builds (a
blue sofa with green arms: its sofas' arms always share the seat's color), and the procedural
backend, which follows the caption's part colors, built assets the embedded encoder then
recognized less often. So a later part takes the main part's color with the share measured
here, from what toyworld's own captions say of that part
(:func:`text3d.data.toyworld.instance.part_texts`) over ``PALETTE_SEEDS`` training seeds
(< 1,000,000; nothing held out is looked at), and otherwise a hand-picked color.

The shares are measured from the registered programs, so a new category is measured the first
time it is captioned. They are kept across processes (:mod:`text3d.prompts.tables`) per category,
keyed on the category's declaration and the source of its program, so a changed or re-registered
category is measured again.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
from collections import Counter
from pathlib import Path

import numpy as np

from text3d.data.toyworld.declaration import revision
from text3d.data.toyworld.instance import make_object, part_texts
from text3d.data.toyworld.vocabulary import load_programs
from text3d.prompts.tables import read_table, source_fingerprint, write_table

PALETTE_SEEDS = range(48)  # about 65 ms per category; kept across processes (text3d.prompts.tables)
_TABLE = "toyworld-part-shares"
_FORMAT = 2  # payload: {category: (category key, {part: share})}


def _table_key() -> tuple:
    """What every share depends on: toyworld's source, the seeds and numpy (its random streams)."""
    return (_FORMAT, source_fingerprint("text3d.data.toyworld"), tuple(PALETTE_SEEDS), np.__version__)


@functools.lru_cache(maxsize=None)
def _category_key(category: str, registry_revision: int) -> str:
    """SHA-256 hex of the category's declaration, its program's name and its program's source file
    (a test category's program lives outside toyworld's package)."""
    program = load_programs()[category]
    digest = hashlib.sha256(repr((program.info, program.build.__module__, program.build.__qualname__)).encode())
    source = inspect.getsourcefile(program.build)
    digest.update(Path(source).read_bytes() if source else program.build.__qualname__.encode())
    return digest.hexdigest()


@functools.lru_cache(maxsize=None)
def _shares(category: str, key: str) -> dict[str, float]:
    table_key = _table_key()
    stored = read_table(_TABLE, table_key)
    table = stored if isinstance(stored, dict) else {}
    entry = table.get(category)
    if not (isinstance(entry, tuple) and len(entry) == 2 and entry[0] == key):
        entry = (key, _measure_shares(category))
        table = {**table, category: entry}
        write_table(_TABLE, table_key, table)
    return dict(entry[1])


def main_color_shares(category: str) -> dict[str, float]:
    """Part name → the share of toyworld ``category`` objects whose part has the main color
    (sofa: seat, back and arms 1.0, cushions 0.5, legs 0.12)."""
    return dict(_shares(category, _category_key(category, revision())))


main_color_shares.cache_clear = _shares.cache_clear  # type: ignore[attr-defined]  # forget the process's shares


def _measure_shares(category: str) -> dict[str, float]:
    same: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    for seed in PALETTE_SEEDS:
        obj = make_object(category, seed)
        for part in part_texts(obj):
            seen[part.name] += 1
            same[part.name] += part.color == obj.attributes["main_color"]
    return {name: same[name] / count for name, count in seen.items()}


def main_part(category: str, parts: tuple[str, ...], preferred: str | None = None) -> str:
    """The part that carries the object's color: the one most often painted in the main color
    (a shovel's blade, 1.0; its handle 0.44), ``preferred`` first among equals, then ``parts`` order."""
    shares = main_color_shares(category)
    order = ([preferred] if preferred in parts else []) + [p for p in parts if p != preferred]
    return max(order, key=lambda p: (shares.get(p, -1.0), -order.index(p)))
