"""``text3d bias study``: the whole bias loop of "Multimodal Semantic Bias Mitigation for Diverse
Text-To-3D Generation" on the embedded stack, before/after, with the paper's ablations.

Stages, each in its own folder of the study folder and each skipping finished work on a rerun:

1. ``localize/``: word-level bias of the base generator on ``localize_n`` toyworld development
   prompts (seeds from :data:`LOCALIZE_SEED`, kinds round-robin), D assets each.
2. ``augment-<variant>/``: semantic + visual augmentation with the words each variant keeps —
   ``full`` (w_h and w_l), ``w_h`` (only w_h), ``w_l`` (only w_l), ``random`` (two random content
   words: no gradient guidance).
3. ``model-<variant>/``: the base generator fine-tuned on that variant's pairs (the fine-tuning is
   passed in as ``finetune``: :mod:`text3d.train` is a sibling layer). A variant whose pairs equal an
   earlier one's (same texts and asset bytes) shares that model and its figures (``same_pairs_as``).
4. ``eval/<model>/<set>-<group>.npz``: for the base model and every fine-tuned one, one asset per
   held-out prompt (toyworld ``split`` seeds by kind; optionally MATE-3D / T³Bench prompts by
   category / track), its evaluator scores, its views and the CLIP similarity matrix of the
   group (for R@1).
5. ``tables.json`` / ``tables.md`` (:mod:`text3d.bias.study_tables`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from text3d.bias.augment import run_augment, table_digest
from text3d.bias.context import CONTEXT_PROMPT_VERSION, ContextSettings, ContextWriter, create_backend
from text3d.bias.filters import FilterBounds
from text3d.bias.localize import LocalizeSettings, localize
from text3d.bias.readers import BenchmarkPrompt
from text3d.bias.visual import Source
from text3d.data.toyworld.instance import SEED_RANGES, item_spec, make_instance
from text3d.data.toyworld.vocabulary import built_categories
from text3d.errors import InputError
from text3d.eval.evaluators.base import Evaluator
from text3d.generators.base import Condition, Generator, create_generator
from text3d.progress import track
from text3d.store.atomic import write_atomic, write_json
from text3d.store.pairs import pairs_digest, read_pairs

log = logging.getLogger(__name__)

KINDS = ("basic", "refined", "complex", "grouped", "paraphrase")
"""Toyworld prompt kinds of the before/after tables (paraphrase: the basic prompt in unseen words)."""
VARIANTS = ("random", "w_h", "w_l", "full")
"""Word choices of the ablation: no gradient guidance, only w_h, only w_l, both (the method)."""
LOCALIZE_SEED = 1_500_000
"""First toyworld seed of the localized (training-side) prompts: development range, disjoint from
the held-out evaluation prompts (dev seeds from 1,000,000 when ``split='dev'``; test otherwise)."""
SETTINGS = "study.json"


@dataclass(frozen=True)
class StudySettings:
    """What defines a study (written to ``study.json``; a rerun with other settings is refused)."""

    n: int = 20
    split: str = "test"
    seed: int = 0
    localize_n: int = 40
    samples: int = 2
    k: int = 2
    candidates: int = 1
    evaluator: str = "clip"
    evaluator_model: str | None = None
    evaluator_sha256: str | None = None  # the evaluator's weights (Evaluator.weights_sha256)
    llm: str = "embedded"
    external: str = "procedural"
    variants: tuple[str, ...] = VARIANTS
    finetune: dict[str, Any] = field(default_factory=dict)
    base: str | None = None
    benchmarks: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.split not in ("dev", "test"):
            raise InputError(f"--split {self.split}: use dev or test")
        unknown = [v for v in self.variants if v not in VARIANTS]
        if unknown or not self.variants:
            raise InputError(f"--variants {','.join(self.variants)}: use some of {', '.join(VARIANTS)}")
        if self.n < 1 or self.localize_n < 1:
            raise InputError("--n and --localize-n must be ≥ 1")
        if self.n < 2:
            log.warning("--n 1: among one prompt per kind R@1 cannot fail; it is reported as null (—)")


def toyworld_prompts(n: int, first_seed: int, kinds: Sequence[str] = KINDS) -> dict[str, list[str]]:
    """``n`` prompts per kind from toyworld items ``first_seed`` … (categories round-robin); the
    paraphrase kind is the paraphrase of the basic item (test or development word list by seed)."""
    programs = built_categories()
    out: dict[str, list[str]] = {}
    for kind in kinds:
        prompts = []
        for i in range(n):
            category, seed = item_spec(i, first_seed, programs)
            instance = make_instance(category, seed, kind="basic" if kind == "paraphrase" else kind)
            prompts.append(instance.prompts["paraphrase"] if kind == "paraphrase" else instance.prompt)
        out[kind] = prompts
    return out


def localize_prompts(n: int) -> list[str]:
    """The training-side prompts: kinds basic, refined, complex, grouped round-robin."""
    programs = built_categories()
    kinds = KINDS[:4]
    prompts = []
    for i in range(n):
        category, seed = item_spec(i, LOCALIZE_SEED, programs)
        prompts.append(make_instance(category, seed, kind=kinds[i % len(kinds)]).prompt)
    return prompts


def variant_rows(rows: Sequence[dict[str, Any]], variant: str, seed: int) -> list[dict[str, Any]]:
    """The localization rows with the words ``variant`` keeps (see the module doc); ``random``
    draws two distinct content words per prompt, seeded by ``seed`` and the prompt."""
    out = []
    for row in rows:
        w_h, w_l = row.get("w_h"), row.get("w_l")
        if variant == "w_h":
            w_l = None
        elif variant == "w_l":
            w_h = None
        elif variant == "random":
            words = list(dict.fromkeys(w["word"] for w in row.get("words", []) if w.get("content")))
            digest = int(hashlib.sha1(f"{seed}\n{row['prompt']}".encode()).hexdigest()[:8], 16)
            rng = np.random.default_rng(digest)
            chosen = [words[i] for i in rng.permutation(len(words))[:2]] if words else [None]
            w_h, w_l = chosen[0], chosen[1] if len(chosen) > 1 else None
        out.append({"prompt": row["prompt"], "w_h": w_h, "w_l": w_l, "q_l": row.get("q_l")})
    return out


def _claim(out: Path, settings: StudySettings) -> None:
    path = out / SETTINGS
    mine = json.loads(json.dumps(asdict(settings)))
    if path.exists():
        saved = json.loads(path.read_text())
        changed = sorted(k for k in set(saved) | set(mine) if saved.get(k) != mine.get(k) and k != "variants")
        if changed:  # variants may be added or left out: each has its own folders
            raise InputError(f"--out {out}: a study with other settings ({', '.join(changed)}); use another folder")
    out.mkdir(parents=True, exist_ok=True)
    write_json(path, mine)


class Study:
    """One study folder; ``finetune(pairs_folder, model_folder, settings.finetune, base)`` trains a model."""

    def __init__(self, out: str | Path, settings: StudySettings, evaluator: Evaluator,
                 finetune: Callable[[Path, Path, dict[str, Any], str | None], None],
                 benchmarks: dict[str, Sequence[BenchmarkPrompt]] | None = None, device: str | None = None,
                 progress: bool | None = None, extra_models: dict[str, str] | None = None) -> None:
        self.out, self.settings, self.evaluator = Path(out), settings, evaluator
        self.finetune, self.device, self.progress = finetune, device, progress
        self.benchmarks = benchmarks or {}
        self.extra_models = extra_models or {}
        self.dimension = "overall" if "overall" in evaluator.dimensions else evaluator.dimensions[0]
        self._clip: Evaluator | None = evaluator if evaluator.name == "clip" else None
        self.seconds: dict[str, float] = {}

    # ------------------------------------------------------------------ stages
    def generator(self, model: str | None) -> Generator:
        return create_generator("embedded", model=model, device=self.device, candidates=self.settings.candidates)

    def run_localize(self) -> list[dict[str, Any]]:
        s = self.settings
        settings = LocalizeSettings(backend="embedded", evaluator=s.evaluator, samples=s.samples,
                                    dimension=self.dimension, seed=s.seed, model=s.base,
                                    evaluator_model=s.evaluator_model, evaluator_sha256=s.evaluator_sha256,
                                    candidates=s.candidates)
        table = localize(localize_prompts(s.localize_n), _Lazy(lambda: self.generator(s.base)), self.evaluator,
                         settings, self.out / "localize", self.progress)
        return table["prompts"]

    def run_augment(self, rows: Sequence[dict[str, Any]], variant: str) -> dict[str, Any]:
        s = self.settings
        chosen = variant_rows(rows, variant, s.seed)
        context = ContextSettings(k=s.k, seed=s.seed)
        bounds = FilterBounds()
        original = Source("embedded", s.base, s.seed)
        external = Source(s.external, None, s.seed)
        config = {"task": "bias-augment", "study_variant": variant, "table_sha256": table_digest(chosen),
                  "llm": s.llm, "k": s.k, "retries": context.max_retries, "temperature": context.temperature,
                  "context_prompt_version": CONTEXT_PROMPT_VERSION, "bounds": vars(bounds).copy(),
                  "generator": s.external, "generator_model": None,
                  "original": {**vars(original), "candidates": s.candidates}, "evaluator": s.evaluator,
                  "evaluator_model": s.evaluator_model, "evaluator_sha256": s.evaluator_sha256,
                  "dimension": self.dimension, "margin": 0.0, "seed": s.seed}
        return run_augment(chosen, self.out / f"augment-{variant}", config,
                           lambda: ContextWriter(create_backend(s.llm), context, bounds),
                           lambda: self.generator(s.base), original,
                           lambda: create_generator(s.external, device=self.device), external,
                           self.evaluator, self.dimension, s.k, progress=self.progress)

    def eval_sets(self) -> dict[str, dict[str, list[str]]]:
        """{set: {group: prompts}}: toyworld kinds of the held-out split, then the benchmarks' groups."""
        sets = {"toyworld": toyworld_prompts(self.settings.n, SEED_RANGES[self.settings.split].start)}
        for name, rows in self.benchmarks.items():
            groups: dict[str, list[str]] = {}
            for row in rows:
                groups.setdefault(row.group, []).append(row.prompt)
            sets[name] = groups
        return sets

    def clip(self) -> Evaluator:
        if self._clip is None:
            from text3d.eval.evaluators import create_evaluator

            self._clip = create_evaluator("clip", device=self.device)
        return self._clip

    def run_eval(self, name: str, model: str | None) -> None:
        """One asset per prompt of every group; scores, CLIP matrix; one file per group."""
        folder = self.out / "eval" / name
        folder.mkdir(parents=True, exist_ok=True)
        generator: Generator = _Lazy(lambda: self.generator(model))
        for set_name, groups in self.eval_sets().items():
            for group, prompts in groups.items():
                path = folder / f"{set_name}-{_slug(group)}.npz"
                if path.exists():
                    continue
                views = []
                for i, prompt in enumerate(track(prompts, description=f"{name} {group}", enabled=self.progress)):
                    asset = generator.generate(Condition(prompt), seed=self.settings.seed + i).asset
                    views.append(self.evaluator.render_views(asset))
                scores = self.evaluator.score(views, prompts)[:, self.evaluator.dimension_index(self.dimension)]
                clip = self.clip()
                similarity = np.stack([clip.score(views, [p] * len(views))[:, 0] for p in prompts], axis=1)
                write_atomic(path, lambda f, v=views, sc=scores, si=similarity, p=prompts: np.savez(
                    f, views=np.stack(v), scores=sc, similarity=si, prompts=np.array(p)))

    def run(self) -> dict[str, Any]:
        """Every stage (resuming), then the tables."""
        from text3d.bias.study_tables import write_tables

        _claim(self.out, self.settings)
        start = time.perf_counter()
        rows = self.run_localize()
        self.seconds["localize"] = time.perf_counter() - start
        models: dict[str, str | None] = {"base": self.settings.base}
        augment: dict[str, Any] = {}
        trained: dict[str, str] = {}  # pairs digest → the first word choice that kept those pairs
        same: dict[str, str] = {}  # word choice → the one whose model (and figures) it shares
        for variant in self.settings.variants:
            start = time.perf_counter()
            summary = self.run_augment(rows, variant)
            augment[variant] = {"pairs": summary["pairs"], "kept_contexts": summary["kept_contexts"]}
            self.seconds[f"augment-{variant}"] = time.perf_counter() - start
            if not summary["pairs"]:
                log.warning("variant %s: no pairs; no model to fine-tune", variant)
                continue
            # an augmenter that ignores which words to keep (the embedded one writes the whole
            # caption) gives two word choices the same pairs: one model, not a second ablation point
            digest = pairs_digest(read_pairs(self.out / f"augment-{variant}")[0])
            if digest in trained:
                same[variant] = augment[variant]["same_pairs_as"] = trained[digest]
                models[variant] = models[trained[digest]]
                log.warning("word choice %s kept the same pairs as %s: it shares that model", variant,
                            trained[digest])
                continue
            trained[digest] = variant
            start = time.perf_counter()
            folder = self.out / f"model-{variant}"
            self.finetune(self.out / f"augment-{variant}", folder, self.settings.finetune, self.settings.base)
            models[variant] = str(folder)
            self.seconds[f"finetune-{variant}"] = time.perf_counter() - start
        models.update(self.extra_models)
        for name, model in models.items():
            if name in same:
                continue
            start = time.perf_counter()
            self.run_eval(name, model)
            self.seconds[f"eval-{name}"] = time.perf_counter() - start
        results = {name: self.load_eval(same.get(name, name)) for name in models}
        return write_tables(self.out, results, augment, self.settings, self.evaluator, self.seconds)

    def load_eval(self, name: str) -> dict[str, dict[str, dict[str, Any]]]:
        """{set: {group: {scores, similarity, prompts}}} of one model."""
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for set_name, groups in self.eval_sets().items():
            for group in groups:
                with np.load(self.out / "eval" / name / f"{set_name}-{_slug(group)}.npz") as f:
                    out.setdefault(set_name, {})[group] = {"scores": f["scores"], "similarity": f["similarity"]}
        return out


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text.lower()).strip("_")


class _Lazy(Generator):
    """A generator built on first use (a finished stage loads no model)."""

    def __init__(self, factory: Callable[[], Generator]) -> None:
        self._factory, self._built = factory, None

    def _get(self) -> Generator:
        if self._built is None:
            self._built = self._factory()
        return self._built

    @property
    def model(self) -> str:  # type: ignore[override]
        return self._get().model

    def generate(self, condition, seed=0, steps=None, cfg=None):
        return self._get().generate(condition, seed=seed, steps=steps, cfg=cfg)
