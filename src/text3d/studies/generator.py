"""The generator study: a backend's quality against the procedural ground truth.

``n`` held-out toyworld instances (alternately basic and refined prompts) give ``n``
prompts and ``n`` paraphrases. Both backends generate all 2n prompts through the same
pipeline (same augmenter, same seeds) into run folders, ``text3d eval`` measures each
with the embedded encoders, and per item the category and dominant color the embedded
CLIP-like encoder recognizes in the canonical4 views (mean embedding) are compared with the
prompt's. Ratios put each figure of the tested backend beside the procedural one.

The seeds' range is part of the figures (``seeds``): development seeds [1,000,000, 1,900,000)
are for choosing rules, thresholds and K; the figures to report come from the test range
[1,900,000, 2,000,000), whose paraphrases use the test word list. A study never mixes ranges.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from text3d.data.toys4k import prompt_id
from text3d.data.toyworld.instance import describe_seeds, item_spec, make_instance, split_of
from text3d.data.toyworld.vocabulary import CATEGORIES, CATEGORY_NAMES, COLOR_NAMES, built_categories
from text3d.encoders.base import create_extractor
from text3d.errors import InputError
from text3d.eval.protocol import EvalOptions, evaluate_run
from text3d.eval.report import write_reports
from text3d.executors import Executor
from text3d.runs.pipeline import generate_batch
from text3d.store.atomic import write_json
from text3d.store.folders import RunFolder

log = logging.getLogger(__name__)


def study_seeds(n: int, seed: int = 1_000_000) -> dict[str, Any]:
    """The seeds of an ``n``-instance study from ``seed`` and the range they lie in
    (``{"first", "last", "range", "line"}``); seeds outside the held-out range, or across the
    development and test ranges, are refused."""
    if split_of(seed) != "heldout":
        raise InputError(f"seed {seed}: use a held-out seed (≥ 1,000,000)")
    programs = built_categories()
    last = item_spec(max(n - 1, 0), seed, programs)[1]
    described = describe_seeds(seed, last)
    if "+" in described["range"]:
        raise InputError(f"{described['line']}: a study's seeds must lie in one range; pick another --seed or --n")
    return {"first": seed, "last": last, **described}


def quality_prompts(n: int, seed: int = 1_000_000) -> list[dict[str, Any]]:
    """Held-out prompts and paraphrases with the category and color they ask for (the
    paraphrases in the development or test word list, after the seeds' range)."""
    study_seeds(n, seed)
    programs = built_categories()
    rows = []
    for i in range(n):
        category, s = item_spec(i, seed, programs)
        instance = make_instance(category, s, kind="basic" if i % 2 == 0 else "refined")
        for variant, prompt in (("prompt", instance.prompt), ("paraphrase", instance.prompts["paraphrase"])):
            rows.append({"prompt": prompt, "variant": variant, "kind": instance.kind, "category": category,
                         "color": instance.attributes["color"]})
    return rows


def recognized(run_dir: Path, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Category and color accuracy of each item's canonical4 views under ``embedded-clip``:
    ``category_match`` and ``color_match`` over all rows, and the same per row variant under
    ``by_variant`` ("prompt", "paraphrase")."""
    from PIL import Image

    clip = create_extractor("embedded-clip")
    run = RunFolder(run_dir)
    nouns = clip.text_features([f"a {CATEGORIES[c].noun}" for c in CATEGORY_NAMES])
    colors = clip.text_features([f"a {c} object" for c in COLOR_NAMES])
    hits: list[tuple[str, bool, bool]] = []  # (variant, category right, color right)
    for index, row in enumerate(rows):
        folder = run.item(prompt_id(index, row["prompt"]))
        views = [np.asarray(Image.open(p).convert("RGB")) for p in folder.view_paths("canonical4")]
        if not views:
            continue
        if row["category"] not in CATEGORIES:  # a real data set's category toyworld lacks: not counted
            continue
        emb = clip.image_features(views).mean(0)
        hits.append((row.get("variant", "prompt"), CATEGORY_NAMES[int(np.argmax(nouns @ emb))] == row["category"],
                     COLOR_NAMES[int(np.argmax(colors @ emb))] == row["color"] if row.get("color") else None))

    def rates(selected: list[tuple[str, bool, bool]]) -> dict[str, float]:
        colored = [h[2] for h in selected if h[2] is not None]
        return {"category_match": float(np.mean([h[1] for h in selected])) if selected else float("nan"),
                "color_match": float(np.mean(colored)) if colored else float("nan")}

    variants = dict.fromkeys(h[0] for h in hits)
    return {**rates(hits), "by_variant": {v: rates([h for h in hits if h[0] == v]) for v in variants}}


def compare_backends(out: str | Path, n: int = 200, seed: int = 1_000_000, backend: str = "embedded",
                     augment: str = "embedded", resolution: int = 256, candidates: int | None = None,
                     executor: str | Executor | None = None) -> dict[str, Any]:
    """Generate, evaluate and compare ``backend`` with ``procedural``; writes ``comparison.json``
    (with ``seeds``: the seeds' range, :func:`study_seeds`). ``executor`` runs the batches' items
    (:mod:`text3d.executors`; the figures are the same)."""
    out = Path(out)
    seeds = study_seeds(n, seed)
    log.info("%s", seeds["line"])
    rows = quality_prompts(n, seed)
    prompts = [r["prompt"] for r in rows]
    figures: dict[str, Any] = {"n_prompts": len(prompts), "seed": seed, "seeds": seeds, "augment": augment,
                               "candidates": candidates}
    for name in ("procedural", backend):
        run_dir = out / name
        counts = generate_batch(prompts, run_dir, augment=augment, backend=name, resolution=resolution,
                                candidates=candidates if name == backend else None,  # procedural has no option
                                executor=executor)
        result = evaluate_run(run_dir, out / f"eval-{name}", options=EvalOptions(resolution=resolution),
                              executor=executor)
        write_reports(result, out / f"eval-{name}")
        metrics = result.metrics
        figures[name] = {"generated": counts, "r_at_1": metrics.get("r_at_1"), "clip_user": metrics.get("clip_user"),
                         "clip_aug": metrics.get("clip_aug"), **recognized(run_dir, rows)}
        if "latency_s" in metrics:
            figures[name]["latency_s"] = metrics["latency_s"]
    proc, test = figures["procedural"], figures[backend]
    figures["ratios"] = {
        "r_at_1": test["r_at_1"] / proc["r_at_1"] if proc["r_at_1"] else None,
        "clip_user": test["clip_user"] / proc["clip_user"] if proc["clip_user"] else None,
    }
    write_json(out / "comparison.json", figures)
    return figures
