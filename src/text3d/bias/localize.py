"""Word-level bias localization and quantization ("Multimodal Semantic Bias Mitigation for
Diverse Text-To-3D Generation", §1–2).

Placement: :mod:`text3d.bias` sits beside ``studies : runs : train`` (it drives a generator and an
evaluator); word aggregation is :mod:`text3d.bias.words`, the files it writes
:mod:`text3d.bias.report`, the command ``text3d bias localize`` :mod:`text3d.cli.bias`.

For each prompt t_n, D assets x_n^d = G(t_n) are generated (seeds ``seed`` … ``seed + D − 1``) and
scored by the evaluator ψ on one quality dimension:

* local score q_l(t_n) = (1/D) Σ_d q(x_n^d, t_n); global score q_g = (1/N) Σ_n q_l(t_n);
  local bias q_l − q_g (the evaluation bias ε = φ̂ − φ up to the unknown constant φ);
* token attribution e'_i = Σ_k |∂q/∂e_{i,k}| over the 384 (or 768) components of the input
  token embedding e_i, for q = q_l. For q = q_g the gradient with respect to t_n's embeddings is
  ∂q_l(t_n)/∂e_i / N, since no other prompt's score depends on them: the same ranking, scaled by
  1/N; both are reported;
* word attribution: the sum over the word's pieces; w_h / w_l are the content words with the
  largest / smallest attribution.

A run folder keeps one JSON line per finished prompt (``rows.jsonl``) with the settings it was
made with (``settings.json``): a killed run resumes and never scores a finished prompt again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from text3d.bias.words import aggregate_words, extreme_words
from text3d.errors import InputError
from text3d.eval.evaluators.base import Evaluator
from text3d.generators.base import Condition, Generator
from text3d.progress import track
from text3d.store.atomic import append_lines, dumps_json, read_json_lines, write_json

log = logging.getLogger(__name__)

ROWS = "rows.jsonl"
SETTINGS = "settings.json"


@dataclass(frozen=True)
class LocalizeSettings:
    """What defines a localization run (written to ``settings.json``)."""

    backend: str
    evaluator: str
    samples: int = 4
    dimension: str = "overall"
    seed: int = 0
    model: str | None = None
    evaluator_model: str | None = None
    evaluator_sha256: str | None = None  # the evaluator's weights (Evaluator.weights_sha256)
    steps: int | None = None
    cfg: float | None = None
    candidates: int | None = None


def localize_prompt(prompt: str, generator: Generator, evaluator: Evaluator, settings: LocalizeSettings,
                    ) -> dict[str, Any]:
    """One prompt's row: its D assets' scores, q_l, piece and word attributions, w_h and w_l."""
    views = []
    warnings: list[str] = []
    for d in range(settings.samples):
        output = generator.generate(Condition(prompt), seed=settings.seed + d, steps=settings.steps, cfg=settings.cfg)
        warnings += output.warnings
        views.append(evaluator.render_views(output.asset))
    gradients = evaluator.prompt_gradients(views, prompt, settings.dimension)
    saliency = gradients.saliency
    words = aggregate_words(prompt, gradients.pieces, gradients.offsets, saliency)
    high, low = extreme_words(words)
    if words and not any(w.content for w in words):
        warnings.append(f"{prompt!r}: no content word; w_h and w_l are function words")
    return {
        "prompt": prompt,
        "q_l": round(gradients.q, 6),
        "scores": {dim: [round(float(v), 4) for v in gradients.scores[:, i]]
                   for i, dim in enumerate(evaluator.dimensions)},
        "pieces": [{"piece": p, "start": s, "end": e, "attribution": round(float(a), 6)}
                   for p, (s, e), a in zip(gradients.pieces, gradients.offsets, saliency)],
        "words": [{"word": w.word, "start": w.start, "end": w.end, "attribution": round(w.value, 6),
                   "pieces": list(w.pieces), "content": w.content} for w in words],
        "w_h": None if high is None else high.word,
        "w_l": None if low is None else low.word,
        # where each stands in the prompt: a word may occur twice ("a red chair beside a red table")
        "w_h_start": None if high is None else high.start,
        "w_l_start": None if low is None else low.start,
        "warnings": sorted(set(warnings)),
    }


def finish_rows(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """q_g, each row's local bias q_l − q_g and its attributions for q = q_g (e'_i / N)."""
    n = len(rows)
    q_g = float(np.mean([r["q_l"] for r in rows])) if rows else float("nan")
    finished = []
    for row in rows:
        words = [{**w, "attribution_global": round(w["attribution"] / n, 8)} for w in row["words"]]
        finished.append({**row, "words": words, "q_g": round(q_g, 6), "bias": round(row["q_l"] - q_g, 6)})
    return {"q_g": round(q_g, 6), "prompts": finished}


def _load_rows(out: Path, settings: LocalizeSettings) -> dict[str, dict[str, Any]]:
    """Finished rows of an earlier run with the same settings; none when the settings differ."""
    path, saved = out / ROWS, out / SETTINGS
    if not path.exists() or not saved.exists():
        return {}
    mine = json.loads(dumps_json(asdict(settings)))
    try:
        earlier = json.loads(saved.read_text())
    except ValueError:
        earlier = None
    if earlier != mine:
        changed = sorted(k for k in set(earlier) | set(mine) if earlier.get(k) != mine.get(k)) \
            if isinstance(earlier, dict) else []
        what = f" ({', '.join(changed)})" if changed else ""
        raise InputError(f"--out {out}: holds a localization made with other settings{what}; give a new folder")
    return {row["prompt"]: row for row in read_json_lines(path)}


def localize(prompts: Sequence[str], generator: Generator, evaluator: Evaluator, settings: LocalizeSettings,
             out: str | Path, progress: bool | None = None) -> dict[str, Any]:
    """Localize every prompt (resuming ``out``), then write the table, heat-maps and HTML page;
    returns the finished table (:func:`finish_rows`)."""
    from text3d.bias.report import write_outputs

    evaluator.dimension_index(settings.dimension)
    if settings.samples < 1:
        raise InputError(f"--samples {settings.samples}: at least 1 asset per prompt")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    done = _load_rows(out, settings)
    write_json(out / SETTINGS, asdict(settings))
    unique = list(dict.fromkeys(prompts))
    todo = [p for p in unique if p not in done]
    if done:
        log.info("localize: %d of %d prompts already done in %s", len(unique) - len(todo), len(unique), out)
    said: set[str] = set()
    for prompt in track(todo, total=len(todo), description="localize", enabled=progress):
        row = localize_prompt(prompt, generator, evaluator, settings)
        for warning in row["warnings"]:  # each distinct one once (an unused setting repeats per prompt)
            if warning not in said:
                said.add(warning)
                log.warning("%s", warning)
        append_lines(out / ROWS, dumps_json(row, indent=None) + "\n")
        done[prompt] = row
    table = finish_rows([done[p] for p in unique])
    table["settings"] = asdict(settings)
    table["evaluator_scale"] = evaluator.scale
    write_outputs(table, out)
    return table
