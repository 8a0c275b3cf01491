"""Visual augmentation ("Multimodal Semantic Bias Mitigation for Diverse Text-To-3D Generation",
Algorithm 1): assets for the context prompts, a ranking model to keep the faithful ones, and the
many-to-many pairs {x_nc, t_n}.

For an original pair {x_n, t_n} and each kept context prompt t_nc:

1. an external generator G_e (any backend; ``procedural`` by default) makes x_nc = G_e(t_nc), with
   seed ``seed + c`` for the prompt's c-th candidate;
2. the ranking model ψ (an evaluator of :mod:`text3d.eval.evaluators`, on one dimension) scores
   both assets against the *original* prompt: x_nc wins when ψ(x_nc, t_n) > ψ(x_n, t_n) + margin
   (the paper ranks the pair with HPSv2; a tie loses);
3. every winner gives the pair {x_nc, t_n}: one prompt gets as many new assets as it has winning
   contexts, and each asset also carries the context it was made from (``context``), so a
   fine-tuner may pair it with t_nc as well — the many-to-many assignment.

x_n is the original generator's asset of t_n: the localization's backend, weights and first seed
(the asset whose bias was measured), regenerated here since localization keeps scores only.
ψ(x_nc, t_nc) is recorded too, for information.

Everything is stored in the run-folder contract (:mod:`text3d.store.folders`): ``items/<id>/``
asset folders (``asset.glb`` + ``meta.json``), one ``manifest.jsonl`` row per item (kind
``original`` or ``context``, its scores, ``win``), and ``pairs.jsonl``, one JSON line per pair,
rewritten atomically at the end of every run from the manifest and the contexts kept now (a
context rejected on review drops its pair). An item whose row says done and whose folder is
complete is never generated again.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from text3d.assets.io import save_asset
from text3d.errors import ModelNotAvailableError, Text3DError, one_line
from text3d.eval.evaluators.base import Evaluator
from text3d.generators.base import Condition, Generator
from text3d.progress import track
from text3d.store.atomic import dumps_json, remove_stale_temporaries, write_text
from text3d.store.folders import STATUS_DONE, STATUS_FAILED, RunFolder
from text3d.store.pairs import PAIRS_FILE
from text3d.version import __version__

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class Source:
    """How an asset is made: backend, weights, seed and sampling (recorded in each row)."""

    backend: str
    model: str | None = None
    seed: int = 0
    steps: int | None = None
    cfg: float | None = None


def item_id(kind: str, prompt: str, context: str | None = None) -> str:
    """``original-<hash>`` / ``context-<hash>``: stable ids from the texts (12 hex digits of SHA-1)."""
    digest = hashlib.sha1(f"{prompt}\n{context or ''}".encode()).hexdigest()[:12]
    return f"{kind}-{digest}"


def _score(evaluator: Evaluator, views: Any, texts: Sequence[str]) -> list[dict[str, float]]:
    table = evaluator.score([views] * len(texts), list(texts))
    return [{d: round(float(v), 5) for d, v in zip(evaluator.dimensions, row)} for row in table]


def make_item(run: RunFolder, kind: str, prompt: str, context: str | None, generator: Generator,
              source: Source, evaluator: Evaluator, dimension: str) -> dict[str, Any]:
    """Generate, save and score one asset; its manifest row (``q``: ψ on ``dimension`` against the
    original prompt; ``q_context``: against the context prompt, for context items)."""
    ident = item_id(kind, prompt, context)
    folder = run.item(ident)
    remove_stale_temporaries(folder.root)
    text = context or prompt
    start = time.perf_counter()
    output = generator.generate(Condition(text), seed=source.seed, steps=source.steps, cfg=source.cfg)
    generated = time.perf_counter() - start
    save_asset(output.asset, folder.asset_path)
    start = time.perf_counter()
    views = evaluator.render_views(output.asset)
    scores = _score(evaluator, views, [prompt] if context is None else [prompt, context])
    scored = time.perf_counter() - start
    row = {"id": ident, "status": STATUS_DONE, "kind": kind, "prompt": prompt, "context": context,
           "backend": source.backend, "model": generator.model, "seed": source.seed, "scores": scores[0],
           "q": scores[0][dimension], "outputs": {"asset": f"items/{ident}/asset.glb"},
           "timings_s": {"generate": round(generated, 4), "score": round(scored, 4)}}
    if context is not None:
        row["scores_context"] = scores[1]
        row["q_context"] = scores[1][dimension]
    folder.write_meta({"prompt": text, "original_prompt": prompt, "context": context, "backend": source.backend,
                       "model": generator.model, "seed": source.seed, "kind": kind, "scores": scores[0],
                       "evaluator": evaluator.name, "dimension": dimension, "warnings": output.warnings,
                       "info": output.info, "timings_s": row["timings_s"], "version": __version__,
                       "n_faces": output.asset.n_faces})
    return row


def context_index(row: dict[str, Any], text: str) -> int:
    """The position of ``text`` among the prompt's candidates (among its kept contexts when the row
    lists no candidates): the external generator draws context c with seed ``seed + c``, so two
    contexts that parse alike still get different assets, and a context keeps its seed on a rerun."""
    texts = [c["text"] for c in row.get("candidates", [])] or list(row["kept"])
    return texts.index(text) if text in texts else len(texts)


def winner(q_context: float, q_original: float, margin: float = 0.0) -> bool:
    """The ranking rule: x_nc wins over x_n when ψ(x_nc, t_n) > ψ(x_n, t_n) + margin."""
    return q_context > q_original + margin


def augment_visual(contexts: Sequence[dict[str, Any]], run: RunFolder, original: Generator, original_source: Source,
                   external: Generator, external_source: Source, evaluator: Evaluator, dimension: str,
                   margin: float = 0.0, progress: bool | None = None) -> dict[str, int]:
    """Make and rank the assets of every prompt's kept contexts (``contexts``: rows with ``prompt``
    and ``kept``), resuming ``run``; returns counts of made, skipped and failed items."""
    rows = run.manifest.rows()
    work: list[tuple[str, str, str | None, int]] = []
    for row in contexts:
        work.append(("original", row["prompt"], None, original_source.seed))
        work += [("context", row["prompt"], text, external_source.seed + context_index(row, text))
                 for text in row["kept"]]
    counts = {"made": 0, "skipped": 0, "failed": 0}
    todo = []
    for kind, prompt, context, seed in work:
        ident = item_id(kind, prompt, context)
        if rows.get(ident, {}).get("status") == STATUS_DONE and run.item(ident).is_complete():
            counts["skipped"] += 1
        else:
            todo.append((kind, prompt, context, seed))
    for kind, prompt, context, seed in track(todo, total=len(todo), description="visual", enabled=progress):
        generator, source = (original, original_source) if kind == "original" else (external, external_source)
        source = replace(source, seed=seed)
        try:
            row = make_item(run, kind, prompt, context, generator, source, evaluator, dimension)
            counts["made"] += 1
        except ModelNotAvailableError:  # a generator that cannot load fails every item: stop at the first
            raise
        except Text3DError as exc:
            row = {"id": item_id(kind, prompt, context), "status": STATUS_FAILED, "kind": kind, "prompt": prompt,
                   "context": context, "error": one_line(str(exc))}
            counts["failed"] += 1
            log.warning("%s item for %r failed: %s", kind, context or prompt, row["error"])
        run.manifest.update(row)
    _mark_winners(contexts, run, margin)
    return counts


def _mark_winners(contexts: Sequence[dict[str, Any]], run: RunFolder, margin: float) -> None:
    rows = run.manifest.rows()
    updates = []
    for row in contexts:
        original = rows.get(item_id("original", row["prompt"]))
        for text in row["kept"]:
            item = rows.get(item_id("context", row["prompt"], text))
            if item is None or item.get("status") != STATUS_DONE or original is None \
                    or original.get("status") != STATUS_DONE:
                continue
            won = winner(item["q"], original["q"], margin)
            if item.get("win") != won:
                updates.append({"id": item["id"], "win": won, "q_original": original["q"]})
    run.manifest.update_many(updates)


def build_pairs(contexts: Sequence[dict[str, Any]], run: RunFolder) -> list[dict[str, Any]]:
    """The pairs {x_nc, t_n} of the winners among the contexts kept now, in prompt then context order."""
    rows = run.manifest.rows()
    pairs = []
    for row in contexts:
        original = rows.get(item_id("original", row["prompt"]), {})
        for text in row["kept"]:
            item = rows.get(item_id("context", row["prompt"], text))
            if not item or item.get("status") != STATUS_DONE or not item.get("win"):
                continue
            pairs.append({"id": item["id"], "asset": item["outputs"]["asset"], "text": row["prompt"],
                          "context": text, "w_h": row.get("w_h"), "w_l": row.get("w_l"), "q": item["q"],
                          "q_original": original.get("q"), "q_context": item.get("q_context"),
                          "original_asset": original.get("outputs", {}).get("asset")})
    return pairs


def write_pairs(run: RunFolder, pairs: Sequence[dict[str, Any]]) -> None:
    """``pairs.jsonl``, atomically: one JSON object per line."""
    write_text(run.root / PAIRS_FILE, "".join(dumps_json(p, indent=None) + "\n" for p in pairs))
