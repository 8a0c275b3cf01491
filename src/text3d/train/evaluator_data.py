"""Training and evaluation samples of the multidimensional evaluator, rendered in worker processes.

Sample ``index`` of a range starting at ``base_seed`` is the toyworld item
:func:`~text3d.data.toyworld.instance.item_spec` (categories round-robin), controlled
degradations (:mod:`text3d.data.toyworld.degrade`) or none, a text and four 64² views (RGB and,
with ``normals``, camera-space normal maps):

* degradation, single (``composite`` = 0): none with probability ``clean``, else alignment /
  geometry / texture with equal probability, one of that dimension's kinds uniformly, strength
  s ~ U[0.1, 1];
* degradation, composite (``composite`` = p > 0): each dimension is degraded independently with
  probability p (one of its kinds, its own strength), alignment first (it rebuilds the scene), then
  geometry, then texture; the kind is the "+"-joined list ("none" when no dimension drew one). Real
  generated assets are flawed in several dimensions at once, as MATE-3D's rated assets are; and with
  one degradation per sample a visible texture flaw tells a model that geometry is perfect, a shortcut
  that lets it score geometry without looking at it;
* with probability ``voxel`` the asset is first replaced by its 32³ voxel surface (the look of
  a grid generator's output, still level 10);
* with probability ``generated`` it is instead the embedded generator's asset for the item's
  prompt (level 10 before degrading: the generator's own look is the reference, as the voxel
  surface is), or, for a "category" misalignment, its asset for another category's prompt (level 1);
  colour and part misalignments keep the toyworld mesh;
* text: the item's own prompt (55 %), its complex prompt (25 %) or one of its captions (20 %),
  drawn independently of the degradation so that the text type tells nothing about the level;
* views: yaw θ₀ + 0/90/180/270° (θ₀ ~ U[0, 90°)), pitch ~ U[20°, 40°], r 2, FoV 40°, white
  background, rendered at 128² and area-downsampled to 64².

Samples are cached on disk by a hash of the spec, so a resumed training does not render again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from text3d.data.toyworld.degrade import ALIGNMENT_LEVELS, ASSET_DEGRADATIONS, Levels, degrade_asset, misaligned
from text3d.data.toyworld.instance import item_spec, make_instance
from text3d.data.toyworld.vocabulary import built_categories
from text3d.eval.evaluators.base import render_small
from text3d.render.cameras import Camera
from text3d.store.atomic import write_atomic
from text3d.train.pool import map_in_workers

log = logging.getLogger(__name__)

VIEWS = 4
IMAGE_SIZE = 64
_BY_DIMENSION = {
    "alignment": tuple(ALIGNMENT_LEVELS),
    "geometry": tuple(k for k, (d, _) in ASSET_DEGRADATIONS.items() if d == "geometry"),
    "texture": tuple(k for k, (d, _) in ASSET_DEGRADATIONS.items() if d == "texture"),
}


@dataclass(frozen=True)
class SampleSpec:
    """Samples ``index ∈ [0, n)`` from ``base_seed``; hashed, the fields name the cache file."""

    n: int
    base_seed: int = 0
    clean: float = 0.2
    voxel: float = 0.15
    normals: bool = True
    generated: float = 0.0
    see_through: bool = False
    composite: float = 0.0
    back_normals: bool = False
    stated: bool = False  # alignment flaws are ones the sample's text states (degrade.misaligned(text=))
    twins: bool = False  # a flawed sample also renders its asset before its geometry / texture flaws
    part_share: float = 0.0  # P(missing part | alignment flaw); 0: the three alignment kinds uniformly
    generated_below: int = 0  # only indices below it may be built on the generator's asset; 0: every index
    version: int = 1

    def key(self) -> str:
        fields = asdict(self)
        # specs from before these fields keep their cache files
        for name in ("see_through", "composite", "back_normals", "stated", "twins", "part_share", "generated_below"):
            if not fields[name]:
                del fields[name]
        return hashlib.sha1(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]


def view_cameras(rng: np.random.Generator, resolution: int = 2 * IMAGE_SIZE) -> list[Camera]:
    """Four cameras 90° apart from a random start yaw, at one random pitch in [20°, 40°]."""
    start, pitch = float(rng.uniform(0, 90)), float(rng.uniform(20, 40))
    return [Camera(yaw=start + 90.0 * k, pitch=pitch, resolution=resolution) for k in range(VIEWS)]


def make_sample(index: int, spec: SampleSpec) -> dict:
    """One sample: views (V, 64, 64, 3 or 6) uint8, text, levels (4,), degradation kind(s) and strength
    (the mean over the degraded dimensions; 0 when clean); with ``spec.twins``, "twin": the views of
    the asset before its geometry and texture flaws (only its alignment flaw), from the same cameras,
    or None when it has neither (the random stream, and so the sample, is the one without twins)."""
    programs = built_categories()
    category, seed = item_spec(index, spec.base_seed, programs)
    rng = np.random.default_rng([index, spec.base_seed, 7])
    instance = make_instance(category, seed)
    u = rng.random()
    text = instance.prompt if u < 0.55 else instance.prompts["complex"] if u < 0.8 else \
        instance.captions[int(rng.integers(len(instance.captions)))]
    plan = _composite_plan(rng, spec.composite, spec.part_share) if spec.composite > 0 else \
        _single_plan(rng, spec.clean, spec.part_share)
    voxel = bool(rng.random() < spec.voxel)
    generated = spec.generated > 0 and bool(rng.random() < spec.generated)
    # past the cap the draw still happens, so the rest of the sample's random stream is unchanged
    generated = generated and (not spec.generated_below or index < spec.generated_below)
    levels: dict[str, float] = {}
    if "alignment" in plan:
        asset, level, done = misaligned(instance, plan["alignment"][0], rng, text if spec.stated else None)
        kind = done.split(":")[0]
        levels["alignment"], plan["alignment"] = level.alignment, (kind, 1.0)
        if generated and kind == "category":
            asset = generated_asset(make_instance(done.split(":")[1], seed).prompt, spec.base_seed + index)
    elif generated:
        asset = generated_asset(instance.prompt, spec.base_seed + index)
    elif voxel:
        asset = instance.scene().voxel_grid(32).to_asset()
    else:
        asset = instance.scene().to_asset()
    aligned_only = asset
    for dimension in ("geometry", "texture"):
        if dimension in plan:
            kind, strength = plan[dimension]
            asset, level = degrade_asset(asset, kind, strength, rng)
            levels[dimension] = getattr(level, dimension)
    cameras = view_cameras(rng)
    options = {"normals": spec.normals, "see_through": spec.see_through, "back_normals": spec.back_normals}
    images = render_small(asset, cameras, **options)
    twin = render_small(aligned_only, cameras, **options) if spec.twins and asset is not aligned_only else None
    strengths = [s for _, s in plan.values()]
    return {"index": index, "images": images, "twin": twin, "text": text, "levels": Levels(**levels).as_array(),
            "kind": "+".join(k for k, _ in plan.values()) or "none",
            "strength": float(np.mean(strengths)) if strengths else 0.0, "category": category}


def _draw(rng: np.random.Generator, dimension: str, part_share: float = 0.0) -> tuple[str, float]:
    """(kind, strength) of one degradation of ``dimension``: a kind uniformly (with ``part_share`` > 0, an
    alignment flaw is a missing part with that probability, else another category or a wrong color
    evenly), s ~ U[0.1, 1]."""
    kinds = _BY_DIMENSION[dimension]
    if dimension == "alignment" and part_share > 0:
        others = tuple(k for k in kinds if k != "part")
        kind = "part" if rng.random() < part_share else others[int(rng.integers(len(others)))]
    else:
        kind = kinds[int(rng.integers(len(kinds)))]
    return kind, float(rng.uniform(0.1, 1.0))


def _single_plan(rng: np.random.Generator, clean: float, part_share: float = 0.0) -> dict[str, tuple[str, float]]:
    """At most one degradation: none w.p. ``clean``, else one dimension uniformly. (A clean sample
    still draws a strength, so the random stream, and with it every sample, is the one these samples
    had before composite ones existed: their caches and figures stay valid.)"""
    if rng.random() < clean:
        rng.uniform(0.1, 1.0)
        return {}
    dimension = ("alignment", "geometry", "texture")[int(rng.integers(3))]
    return {dimension: _draw(rng, dimension, part_share)}


def _composite_plan(rng: np.random.Generator, p: float, part_share: float = 0.0) -> dict[str, tuple[str, float]]:
    """Each dimension degraded independently with probability ``p``, in the order they are applied."""
    chosen = [d for d in ("alignment", "geometry", "texture") if rng.random() < p]
    return {d: _draw(rng, d, part_share) for d in chosen}


_GENERATOR: list = []  # this process's embedded generator, loaded on first use


def generated_asset(prompt: str, seed: int):
    """The shipped embedded generator's asset for ``prompt`` (its default steps and guidance)."""
    from text3d.generators.base import Condition, create_generator

    if not _GENERATOR:
        _GENERATOR.append(create_generator("embedded", device="cpu"))
    return _GENERATOR[0].generate(Condition(prompt), seed=seed).asset


def _work(args: tuple[int, SampleSpec]) -> dict:
    return make_sample(*args)


@dataclass(frozen=True)
class Samples:
    """N samples: images (N, V, 64, 64, 3 or 6) uint8, texts (N,), levels (N, 4), kinds (N,), strengths (N,);
    twins (M, V, 64, 64, C) uint8 and twin_index (N,): row of sample i's twin, −1 when it has none."""

    images: np.ndarray
    texts: np.ndarray
    levels: np.ndarray
    kinds: np.ndarray
    strengths: np.ndarray
    twins: np.ndarray | None = None
    twin_index: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.levels)


def build_samples(spec: SampleSpec, cache_dir: str | Path | None, workers: int = 0,
                  progress: bool | None = None) -> Samples:
    """Render (or load from ``cache_dir``) the samples of ``spec``."""
    path = None if cache_dir is None else Path(cache_dir) / f"evaluator-{spec.key()}.npz"
    if path is not None and path.exists():
        with np.load(path, allow_pickle=False) as arrays:
            return Samples(**{k: arrays[k] for k in arrays.files})
    rows = map_in_workers(_work, [(i, spec) for i in range(spec.n)], "render samples", workers, progress,
                          chunksize=8, serial_below=16)
    rows.sort(key=lambda r: r["index"])
    twins = [r["twin"] for r in rows if r["twin"] is not None]
    twin_index = np.cumsum([r["twin"] is not None for r in rows]) - 1
    samples = Samples(images=np.stack([r["images"] for r in rows]), texts=np.array([r["text"] for r in rows]),
                      levels=np.stack([r["levels"] for r in rows]), kinds=np.array([r["kind"] for r in rows]),
                      strengths=np.array([r["strength"] for r in rows], np.float32),
                      twins=np.stack(twins) if twins else None,
                      twin_index=np.where([r["twin"] is not None for r in rows], twin_index, -1) if twins else None)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {k: v for k, v in asdict(samples).items() if v is not None}
        write_atomic(path, lambda f: np.savez(f, **arrays))
    return samples
