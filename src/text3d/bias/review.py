"""The review file of semantic augmentation: the paper's manual step (removing improper context
prompts) as a file a person edits between two runs.

One row per candidate context the filters judged: ``prompt``, ``context``, ``auto`` (the filters'
accept / reject), ``reasons`` (the failed filters) and ``review`` — empty until a person writes
``accept`` or ``reject``. JSON (a list of row objects) or CSV (those columns), by the file's
extension. The first run writes it; every later run reads it back before it writes anything, and
rewrites it with the decisions kept and new candidates added.

A decision overrides the filters both ways: a rejected context is dropped (with its assets and
pairs), and an accepted one is kept even when a filter rejected it — the person read the text,
while the bounds are a proxy chosen on toyworld's development captions. An empty ``review``
leaves the filters' decision.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from text3d.errors import InputError
from text3d.store.atomic import dumps_json, write_text

COLUMNS = ("prompt", "context", "auto", "reasons", "review")
DECISIONS = ("accept", "reject")


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".json", ".csv"):
        raise InputError(f"--review {path}: use a .json or .csv file")
    return suffix[1:]


def read_review(path: str | Path) -> dict[tuple[str, str], str]:
    """(prompt, context) → ``accept`` / ``reject`` for every row a person decided; {} for a file
    that does not exist yet. A malformed file or decision is refused in one line."""
    path = Path(path)
    kind = _format(path)
    if not path.exists():
        return {}
    if path.is_dir():
        raise InputError(f"--review {path}: is a folder; name a .json or .csv file")
    try:  # utf-8-sig: a spreadsheet's CSV starts with a byte-order mark
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"--review {path}: not UTF-8 text") from None
    except OSError as exc:
        raise InputError(f"--review {path}: cannot be read ({exc.strerror or 'error'})") from None
    if kind == "json":
        try:
            rows = json.loads(text) if text.strip() else []
        except json.JSONDecodeError as exc:
            raise InputError(f"--review {path}: not JSON (line {exc.lineno}: {exc.msg})") from None
        if not isinstance(rows, list) or not all(isinstance(r, dict) and {"prompt", "context"} <= set(r)
                                                 for r in rows):
            # not a review file (a list of other records is refused too: the run would rewrite it)
            raise InputError(f"--review {path}: not a review file (expected a JSON list of objects with "
                             f"{', '.join(COLUMNS)})")
    else:
        reader = csv.DictReader(io.StringIO(text))
        missing = [c for c in ("prompt", "context", "review") if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"--review {path}: the CSV header lacks {', '.join(missing)}")
        rows = list(reader)
    decisions: dict[tuple[str, str], str] = {}
    for number, row in enumerate(rows, start=1):
        value = str(row.get("review") or "").strip().lower()
        if not value:
            continue
        if value not in DECISIONS:
            raise InputError(f"--review {path}: row {number} has review {row.get('review')!r}; use accept, reject "
                             "or leave it empty")
        prompt, context = row.get("prompt"), row.get("context")
        if not isinstance(prompt, str) or not isinstance(context, str):
            raise InputError(f"--review {path}: row {number} lacks its prompt or context")
        decisions[(prompt, context)] = value
    return decisions


UNMATCHED = "unmatched"
"""``auto`` of a decided row whose prompt and context are no candidate of the run (edited text): the
row is kept, so the person's decision is not lost, and it applies to nothing."""


def review_rows(results: Iterable[dict[str, Any]], decisions: dict[tuple[str, str], str]) -> list[dict[str, str]]:
    """One row per distinct (prompt, context) of the results' candidates, with its decision so far,
    then one per decision that matches no candidate (``auto`` = :data:`UNMATCHED`)."""
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for result in results:
        for candidate in result.get("candidates", []):
            key = (result["prompt"], candidate["text"])
            if not candidate["text"] or key in rows:
                continue
            rows[key] = {"prompt": key[0], "context": key[1], "auto": candidate["auto"],
                         "reasons": " ".join(candidate["report"].get("reasons", [])), "review": decisions.get(key, "")}
    for key, decision in decisions.items():
        if key not in rows:
            rows[key] = {"prompt": key[0], "context": key[1], "auto": UNMATCHED,
                         "reasons": "no candidate of this run has this prompt and context", "review": decision}
    return list(rows.values())


def write_review(path: str | Path, rows: list[dict[str, str]]) -> Path:
    """Write the review rows atomically as JSON or CSV (by the extension)."""
    path = Path(path)
    if _format(path) == "json":
        return write_text(path, dumps_json(rows) + "\n")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return write_text(path, buffer.getvalue())
