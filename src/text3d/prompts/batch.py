"""Batches of prompts → a JSONL file of results that never loses finished work and resumes.

Each finished prompt is appended to the output file as one JSON line (an
:class:`~text3d.prompts.base.AugmentResult` dict) under a file lock, flushed and fsynced, so
a killed batch keeps every line it wrote (a torn last line is skipped on reading and
fenced off with a newline before the next append). A prompt that failed gets a row with
``error`` and no ``caption``. Re-running the batch skips prompts that already have a caption
for the same backend, model and seed and tries the failed ones again. At the end the file
is rewritten atomically with one row per prompt, in first-seen order.

A server that cannot be reached stops the batch (with the count of finished prompts)
rather than writing an error row for every remaining prompt.

The output file is checked before anything is written: an existing file must be a results
file of earlier batches (JSON lines with a ``prompt``), which is appended to and keeps every
row; anything else, or the prompts file itself, is refused. One batch at a time holds the
file's lock (``.<out>.lock``); a second one is told which process has it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from text3d.errors import InputError, Text3DError, one_line
from text3d.progress import track
from text3d.prompts.augment import PromptAugmenter
from text3d.prompts.base import AugmentResult, BackendUnavailableError
from text3d.store.atomic import append_lines, dumps_json, read_json_lines, write_text
from text3d.store.locks import exclusive, file_lock
from text3d.store.outputs import check_not_input, check_output_file_path

log = logging.getLogger(__name__)


def _row_key(row: dict[str, Any]) -> tuple[str, int, str, str]:
    return (str(row.get("prompt")), int(row.get("seed", 0)), str(row.get("backend")), str(row.get("model")))


class ResultsFile:
    """The batch output file: fsynced appends; latest row per prompt wins. Writers hold
    :meth:`lock` for the whole batch."""

    def __init__(self, path: str | Path) -> None:
        self.given = Path(path)
        # through a symbolic link to the results file: the atomic rewrite must not replace the link
        self.path = self.given.resolve() if self.given.is_symlink() and self.given.exists() else self.given

    def lock(self, wait_s: float = 0.0):
        """The file's exclusive lock (a context manager)."""
        return exclusive(file_lock(self.path), str(self.path), wait_s)

    def check(self) -> None:
        """Refuse a path that is not a new file or a results file of earlier batches."""
        check_output_file_path(self.given)
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        try:
            with self.path.open("r", encoding="utf-8") as handle:
                lines = [line for line in handle if line.strip()]
        except UnicodeDecodeError:
            raise InputError(f"--out {self.path}: exists and is not a JSONL results file; "
                             "give a new file name") from None
        good = 0
        for number, line in enumerate(lines, 1):
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                row = None
            if isinstance(row, dict) and isinstance(row.get("prompt"), str) and ("caption" in row or "error" in row):
                good += 1
            elif number < len(lines):  # only the last line may be torn (a killed batch)
                raise InputError(f"--out {self.path}:{number}: exists and is not a results file of "
                                 "`text3d augment` (rows need 'prompt' and 'caption'); give a new file name")
        if lines and not good:
            raise InputError(f"--out {self.path}: exists and is not a results file of `text3d augment`; "
                             "give a new file name")

    def rows(self) -> dict[tuple[str, int, str, str], dict[str, Any]]:
        """The latest row of every (prompt, seed, backend, model), in first-seen order."""
        latest: dict[tuple[str, int, str, str], dict[str, Any]] = {}
        for row in read_json_lines(self.path):
            if "prompt" in row:
                latest[_row_key(row)] = row  # a later row replaces, keeping first-seen order
        return latest

    def append(self, row: dict[str, Any]) -> None:
        """Append one row durably (flush + fsync) under the lock."""
        append_lines(self.path, dumps_json(row, indent=None) + "\n")

    def compact(self) -> None:
        """Rewrite atomically with one row per prompt (the latest), first-seen order."""
        rows = self.rows()
        write_text(self.path, "".join(dumps_json(r, indent=None) + "\n" for r in rows.values()))


@dataclass
class BatchSummary:
    """What one run of a batch did."""

    total: int = 0
    resumed: int = 0  # already in the output file with a caption
    augmented: int = 0
    cached: int = 0
    failed: int = 0
    rules_failed: int = 0
    stopped: str | None = None  # why the batch stopped early (server unreachable)


def _done_with(row: dict[str, Any], params: dict[str, Any], strict: bool) -> bool:
    """Whether an earlier row is this batch's answer: a caption made with the same sampling
    parameters (temperature, tokens, retries, words), which under ``strict`` passed the rules. A row
    of other parameters is made again, and replaces it (latest row per prompt wins)."""
    if row.get("caption") is None or row.get("error"):
        return False
    if row.get("params") != params:
        return False
    return bool(row.get("rules_passed", True)) or not strict


def _unique(prompts: Iterable[str]) -> Iterator[str]:
    seen = set()
    for prompt in prompts:
        if prompt in seen:
            log.warning("prompt %r appears more than once; augmenting it once", prompt)
            continue
        seen.add(prompt)
        yield prompt


def augment_batch(prompts: Iterable[str], out: str | Path, llm: str = "embedded", seed: int = 0,
                  augmenter: PromptAugmenter | None = None, progress: bool | None = None,
                  source: str | Path | None = None, wait_s: float = 0.0) -> BatchSummary:
    """Augment ``prompts`` (read from ``source``, never the output) into the JSONL file ``out``,
    appending to and resuming what earlier runs left."""
    results = ResultsFile(out)
    if source is not None:
        check_not_input(out, [source])
    results.check()
    stage = augmenter or PromptAugmenter(llm)
    with results.lock(wait_s):
        return _augment_locked(list(prompts), results, seed, stage, progress)


def _augment_locked(prompts: list[str], results: ResultsFile, seed: int, stage: PromptAugmenter,
                    progress: bool | None) -> BatchSummary:
    existing = results.rows()
    todo = list(_unique(" ".join(p.split()) for p in prompts))
    summary = BatchSummary(total=len(todo))
    pending = []
    params = stage.params.as_dict()
    for prompt in todo:
        row = existing.get((prompt, seed, stage.backend.backend, stage.backend.model))
        if row is not None and _done_with(row, params, stage.strict):
            summary.resumed += 1
        else:
            pending.append(prompt)
    bar = track(pending, total=len(pending), description=f"augment ({stage.label})", enabled=progress)
    for prompt in bar:
        try:
            result = stage.augment(prompt, seed)
        except BackendUnavailableError as exc:
            summary.stopped = str(exc)
            break
        except Text3DError as exc:
            summary.failed += 1
            result = AugmentResult(prompt=prompt, caption=None, backend=stage.backend.backend,
                                   model=stage.backend.model, seed=seed, params=stage.params.as_dict(),
                                   error=one_line(str(exc)))
            log.warning("%s", result.error)
        else:
            summary.augmented += 1
            summary.cached += int(result.cached)
            summary.rules_failed += int(not result.rules_passed)
        results.append(result.to_dict())
    if results.path.exists():
        results.compact()
    return summary
