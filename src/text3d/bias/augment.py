"""A semantic + visual augmentation run ("Multimodal Semantic Bias Mitigation for Diverse
Text-To-3D Generation", §3 and Algorithm 1) over a localization table, in one run folder:

    run.yaml          the settings (a rerun with other settings is refused)
    contexts.jsonl    one row per prompt and update: candidates with the filters' verdicts, slots used
    manifest.jsonl    one row per asset (original x_n, context x_nc): scores, win
    items/<id>/       asset folders (asset.glb, meta.json)
    pairs.jsonl       the pairs {x_nc, t_n} of the winners
    summary.json      acceptance rate of each filter, kept contexts, winners, pairs, wall and CPU seconds
                      of this run's work (CPU seconds: this process, all its threads)

plus the review file when one is named (:mod:`text3d.bias.review`). Resumable: a prompt whose
contexts are complete is not asked again, an asset that is done is not made again; a review that
rejects contexts makes the next run ask for more (up to 2K slots per prompt) and drops their pairs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from text3d.bias.context import ACCEPT, ContextWriter, decide
from text3d.bias.filters import FILTERS, has_word
from text3d.bias.review import UNMATCHED, read_review, review_rows, write_review
from text3d.bias.visual import Source, augment_visual, build_pairs, write_pairs
from text3d.errors import BackendError, InputError
from text3d.eval.evaluators.base import Evaluator
from text3d.generators.base import Generator
from text3d.prompts.base import BackendUnavailableError
from text3d.store.atomic import append_lines, dumps_json, read_json_lines, write_json
from text3d.store.folders import RunFolder

log = logging.getLogger(__name__)

CONTEXTS = "contexts.jsonl"
SUMMARY = "summary.json"
TABLE = "localization.json"


def read_table(folder: str | Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The rows (prompt, w_h, w_l, q_l) and settings of a ``text3d bias localize`` folder."""
    path = Path(folder) / TABLE
    if not path.exists():
        raise InputError(f"--table {folder}: no {TABLE} (give a folder written by text3d bias localize)")
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
        rows = [{"prompt": r["prompt"], "w_h": r.get("w_h"), "w_l": r.get("w_l"), "q_l": r.get("q_l")}
                for r in table["prompts"]]
        settings = dict(table["settings"])
    except json.JSONDecodeError as exc:
        raise InputError(f"--table {path}: not JSON ({exc.msg}, line {exc.lineno})") from None
    except KeyError as exc:
        raise InputError(f"--table {path}: not a localization table (a row or the table lacks "
                         f"{exc.args[0]!r})") from None
    except (ValueError, TypeError, AttributeError):
        raise InputError(f"--table {path}: not a localization table (expected {{\"prompts\": [{{\"prompt\": …, "
                         "\"w_h\": …, \"w_l\": …}}, …], \"settings\": {…}}, as text3d bias localize writes)") from None
    for number, row in enumerate(rows, 1):
        check_row(row, f"--table {path}: row {number}")
    return rows, settings


def check_row(row: dict[str, Any], where: str) -> None:
    """A table row as localization writes it: a non-empty prompt, w_h and w_l words of it (or null),
    q_l a number (or null); else a one-line error starting with ``where``."""
    prompt = row["prompt"]
    if not isinstance(prompt, str) or not prompt.strip():
        raise InputError(f"{where}: 'prompt' must be a non-empty string, not {prompt!r}")
    for key in ("w_h", "w_l"):
        word = row[key]
        if word is not None and not isinstance(word, str):
            raise InputError(f"{where}: {key!r} must be a word of the prompt or null, not {word!r}")
        if word and not has_word(word, prompt):
            raise InputError(f"{where}: {key} {word!r} is not a word of the prompt {prompt!r}")
    if row["q_l"] is not None and (isinstance(row["q_l"], bool) or not isinstance(row["q_l"], (int, float))):
        raise InputError(f"{where}: 'q_l' must be a number or null, not {row['q_l']!r}")


def table_digest(rows: Sequence[dict[str, Any]]) -> str:
    """SHA-256 of the table's prompts and words: a rerun must read the same table."""
    text = "\n".join(f"{r['prompt']}\t{r['w_h']}\t{r['w_l']}" for r in rows)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_contexts(run: RunFolder) -> dict[str, dict[str, Any]]:
    """The latest contexts row of each prompt (torn lines skipped)."""
    return {row["prompt"]: row for row in read_json_lines(run.root / CONTEXTS) if "prompt" in row}


def _kept(row: dict[str, Any], decisions: dict[tuple[str, str], str]) -> list[str]:
    return [c["text"] for c in row.get("candidates", []) if decide(c, decisions, row["prompt"]) == ACCEPT]


def write_contexts(rows: Sequence[dict[str, Any]], run: RunFolder, make_writer: Callable[[], ContextWriter],
                   k: int, decisions: dict[tuple[str, str], str], max_slots: int) -> tuple[list[dict[str, Any]],
                                                                                          list[str]]:
    """Every prompt's contexts (asked only where fewer than K are kept and slots remain); returns
    the rows with ``kept`` under the current decisions, and the prompts that failed."""
    done = read_contexts(run)
    writer: ContextWriter | None = None
    results, failed = [], []
    for row in rows:
        if not row["w_h"] and not row["w_l"]:
            log.warning("prompt %r: no w_h / w_l in the table; skipped", row["prompt"])
            continue
        previous = done.get(row["prompt"])
        kept = _kept(previous, decisions) if previous else []
        if previous and (len(kept) >= k or int(previous.get("slots", 0)) >= max_slots):
            results.append({**previous, "kept": kept})
            continue
        writer = writer or make_writer()
        try:
            result = writer.write(row["prompt"], row["w_h"], row["w_l"], previous, decisions, max_slots).to_dict()
        except BackendUnavailableError:
            raise
        except BackendError as exc:
            log.warning("contexts of %r failed: %s", row["prompt"], exc)
            failed.append(row["prompt"])
            continue
        append_lines(run.root / CONTEXTS, dumps_json(result, indent=None) + "\n")
        results.append(result)
    return results, failed


def filter_rates(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Over every candidate: how many there were, the share passing each filter (each judged
    alone), the share passing all, and the retries (answers after a slot's first)."""
    candidates = [c for r in results for c in r.get("candidates", [])]
    n = len(candidates)
    rates = {name: round(sum(bool(c["report"].get("passed", {}).get(name)) for c in candidates) / n, 4) if n else None
             for name in FILTERS}
    return {"candidates": n, "pass_rate": rates,
            "accepted_rate": round(sum(c["auto"] == ACCEPT for c in candidates) / n, 4) if n else None,
            "retries": sum(c["attempt"] > 0 for c in candidates)}


def run_augment(rows: Sequence[dict[str, Any]], out: str | Path, config: dict[str, Any],
                make_writer: Callable[[], ContextWriter], original: Callable[[], Generator], original_source: Source,
                external: Callable[[], Generator], external_source: Source, evaluator: Evaluator, dimension: str,
                k: int, margin: float = 0.0, review: str | Path | None = None, max_slots: int | None = None,
                progress: bool | None = None) -> dict[str, Any]:
    """Semantic then visual augmentation of the table's ``rows`` into the run folder ``out``
    (``config`` is its run.yaml); generators are built only when an asset is still to make.
    Returns the summary written to ``summary.json``."""
    evaluator.dimension_index(dimension)
    run = RunFolder(out)
    run.root.mkdir(parents=True, exist_ok=True)
    run.claim(config, ignore=())
    run.write_config(config)
    decisions = read_review(review) if review else {}
    start, cpu = time.perf_counter(), time.process_time()
    results, failed = write_contexts(rows, run, make_writer, k, decisions, max_slots or 2 * k)
    contexts_s, contexts_cpu = time.perf_counter() - start, time.process_time() - cpu
    applied = decisions
    if review:
        reviewed = review_rows(results, decisions)
        unmatched = [r for r in reviewed if r["auto"] == UNMATCHED]
        if unmatched:  # kept in the file; they decide nothing
            log.warning("--review %s: %d decision(s) match no candidate's prompt and context (edited text?), so "
                        "they apply to nothing; they stay in the file marked auto=%s: %r", review, len(unmatched),
                        UNMATCHED, unmatched[0]["context"][:60])
        applied = {k: v for k, v in decisions.items() if k not in {(r["prompt"], r["context"]) for r in unmatched}}
        write_review(review, reviewed)
    start, cpu = time.perf_counter(), time.process_time()
    lazy = _LazyGenerators(original, external)
    counts = augment_visual(results, run, lazy.original, original_source, lazy.external, external_source,
                            evaluator, dimension, margin, progress)
    visual_s, visual_cpu = time.perf_counter() - start, time.process_time() - cpu
    pairs = build_pairs(results, run)
    write_pairs(run, pairs)
    kept = [len(r["kept"]) for r in results]
    empty = [r["prompt"] for r in results if not r["kept"] and r["prompt"] not in failed]
    if empty:  # the writer answered, but every candidate failed a filter: nothing to pair for these
        shown = ", ".join(repr(p) for p in empty[:3]) + (" …" if len(empty) > 3 else "")
        log.warning("%d prompt(s) kept no context, every candidate failing a filter (summary.json pass_rate "
                    "says which): %s", len(empty), shown)
    items = run.manifest.rows()
    contexts_made = [i for i in items.values() if i.get("kind") == "context" and i.get("status") == "done"
                     and any(i.get("context") in r["kept"] and i.get("prompt") == r["prompt"] for r in results)]
    summary = {
        "prompts": len(results), "failed_prompts": failed, "k": k, **filter_rates(results),
        "kept_contexts": sum(kept), "prompts_with_k": sum(n >= k for n in kept),
        "reviewed": len(applied), "context_assets": len(contexts_made),
        "winners": len(pairs), "win_rate": round(len(pairs) / len(contexts_made), 4) if contexts_made else None,
        "pairs": len(pairs), "items": counts,
        "seconds": {"contexts": round(contexts_s, 2), "visual": round(visual_s, 2)},
        "cpu_seconds": {"contexts": round(contexts_cpu, 2), "visual": round(visual_cpu, 2)},
    }
    write_json(run.root / "summary.json", summary)
    return summary


class _LazyGenerators:
    """The two generators, built on first use (a finished run loads no model)."""

    def __init__(self, original: Callable[[], Generator], external: Callable[[], Generator]) -> None:
        self._factories = {"original": original, "external": external}
        self._built: dict[str, Generator] = {}
        self.original = _Lazy(self, "original")
        self.external = _Lazy(self, "external")

    def get(self, name: str) -> Generator:
        if name not in self._built:
            self._built[name] = self._factories[name]()
        return self._built[name]


class _Lazy(Generator):
    def __init__(self, owner: _LazyGenerators, name: str) -> None:
        self._owner, self._name = owner, name

    @property
    def model(self) -> str:  # type: ignore[override]
        return self._owner.get(self._name).model

    def generate(self, condition, seed=0, steps=None, cfg=None):
        return self._owner.get(self._name).generate(condition, seed=seed, steps=steps, cfg=cfg)
