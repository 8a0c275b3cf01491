"""toyworld instances: deterministic by (category, seed), with their texts and metadata.

Seed ranges (disjoint):

* ``TRAIN_SEEDS`` = [0, 1,000,000): training data of every embedded model.
* ``HELDOUT_SEEDS`` = [1,000,000, 2,000,000): held-out evaluation; only these instances get
  paraphrase prompts, whose words never occur in training text. They are split in two:
  ``DEV_SEEDS`` = [1,000,000, 1,900,000), the development range, whose paraphrases use the
  development word list, and ``TEST_SEEDS`` = [1,900,000, 2,000,000), the test range, whose
  paraphrases use the separate test word list (:mod:`text3d.data.toyworld.attributes`).
  Rules, thresholds, K and similar settings are chosen on training or development seeds and
  words only; reported figures come from the test range.

45 categories × 10⁶ training seeds give far more than 10,000 distinct instances; the
attributes drawn per seed (12 colors × accents × materials × sizes × proportions × optional
parts × counts) make neighbouring seeds differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from text3d.data.toyworld.objects import ToyObject
from text3d.data.toyworld.parts import COUNTABLE_PARTS
from text3d.data.toyworld.shapes import Part, translation
from text3d.data.toyworld.style import Style
from text3d.data.toyworld.text import (
    PartText,
    basic_prompt,
    captions,
    complex_prompt,
    grouped_prompt,
    paraphrase_prompt,
    refined_prompt,
)
from text3d.data.toyworld.vocabulary import (
    CATEGORIES,
    CATEGORY_NAMES,
    COLOR_NAMES,
    SIZES,
    category_index,
    load_programs,
)
from text3d.errors import InputError

TRAIN_SEEDS = range(0, 1_000_000)
HELDOUT_SEEDS = range(1_000_000, 2_000_000)
DEV_SEEDS = range(1_000_000, 1_900_000)
TEST_SEEDS = range(1_900_000, 2_000_000)
SEED_RANGES: dict[str, range] = {"train": TRAIN_SEEDS, "dev": DEV_SEEDS, "test": TEST_SEEDS}
"""Each seed range by name; "dev" and "test" split the held-out range."""
RANGE_TITLES = {"train": "training range", "dev": "development range", "test": "test range"}
KINDS = ("basic", "refined", "complex", "grouped")
KIND_WEIGHTS = (0.35, 0.3, 0.25, 0.1)


def split_of(seed: int) -> str:
    """"train" or "heldout" (development and test together, :func:`seed_range` tells them apart)."""
    if seed in TRAIN_SEEDS:
        return "train"
    if seed in HELDOUT_SEEDS:
        return "heldout"
    raise InputError(f"seed {seed}: outside the toyworld ranges [0, 2,000,000)")


def seed_range(seed: int) -> str:
    """"train", "dev" or "test": the range of ``seed`` (:data:`SEED_RANGES`); other seeds are rejected."""
    for name, seeds in SEED_RANGES.items():
        if seed in seeds:
            return name
    raise InputError(f"seed {seed}: outside the toyworld ranges [0, 2,000,000)")


def describe_seeds(first: int, last: int) -> dict[str, str]:
    """The range of seeds ``first``..``last`` (inclusive) and a line saying so
    ("seeds 1,000,000–1,000,199: development range"); seeds across ranges name each one."""
    names = list(dict.fromkeys(seed_range(s) for s in (first, *(r.start for r in SEED_RANGES.values()
                                                              if first < r.start <= last), last)))
    span = f"seed {first:,}" if first == last else f"seeds {first:,}–{last:,}"
    return {"range": "+".join(names), "line": f"{span}: {' and '.join(RANGE_TITLES[n] for n in names)}"}


def _rng(category: str, seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([category_index(category), seed, stream])


def make_object(category: str, seed: int, main: str | None = None, material: str | None = None,
                size: str | None = None, shape: str | None = None, counts: dict[str, int] | None = None,
                part_colors: dict[str, str] | None = None) -> ToyObject:
    """The object of (category, seed): attributes drawn from a seeded RNG, then the program.

    Given attributes override the drawn ones (the RNG draws them anyway, so the rest of the
    instance stays the same); ``part_colors`` repaints the named parts afterwards.
    """
    programs = load_programs()
    if category not in programs:
        raise InputError(f"unknown toyworld category {category!r}")
    program = programs[category]
    rng = _rng(category, seed, 0)
    info = CATEGORIES[category]
    drawn_main = COLOR_NAMES[int(rng.integers(len(COLOR_NAMES)))]
    main_color = main or drawn_main
    accents = [c for c in COLOR_NAMES if c != main_color]
    accent = accents[int(rng.integers(len(accents)))]
    drawn_material = program.materials[int(rng.integers(len(program.materials)))]
    drawn_shape = info.shapes[int(rng.integers(len(info.shapes)))] if info.shapes and rng.random() < 0.5 else None
    drawn_size = tuple(SIZES)[int(rng.integers(len(SIZES)))]
    material = material or drawn_material
    shape = shape if shape in info.shapes else (drawn_shape if shape is None else None)
    size = size or drawn_size
    style = Style(rng=rng, main=main_color, accent=accent, material=material, shape=shape, size=size,
                  requested=dict(counts or {}))
    parts = program.build(style)
    for part in parts:
        if part_colors and part.name in part_colors:
            part.color = part_colors[part.name]
    attributes = {"main_color": main_color, "accent_color": accent, "material": material, "shape": shape,
                  "size": size, "size_m": round(info.size_m * SIZES[size], 3), **style.facts}
    return ToyObject(category, parts, attributes)


def side_by_side(left: ToyObject, right: ToyObject, gap: float = 0.15) -> list[Part]:
    """Parts of both objects, the right one moved along +X so their bounds do not overlap."""
    lo_l, hi_l = left.bounds()
    lo_r, hi_r = right.bounds()
    shift = translation(x=hi_l[0] + gap - lo_r[0], y=(lo_l[1] + hi_l[1]) / 2 - (lo_r[1] + hi_r[1]) / 2,
                        z=lo_l[2] - lo_r[2])
    moved = [Part(p.name, p.shape, p.color, p.material, shift @ p.transform) for p in right.parts]
    return list(left.parts) + moved


def part_texts(obj: ToyObject) -> list[PartText]:
    """Parts grouped by name (first color and material), with counts, largest first."""
    seen: dict[str, PartText] = {}
    areas: dict[str, float] = {}
    for part in obj.parts:
        if part.name in seen:
            old = seen[part.name]
            seen[part.name] = PartText(old.name, old.color, old.material, old.count + 1)
        else:
            seen[part.name] = PartText(part.name, part.color, part.material)
        verts, faces = part.world_mesh()
        tri = verts[faces]
        area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1).sum()
        areas[part.name] = areas.get(part.name, 0.0) + float(area)
    # counts only make sense for parts that really repeat (legs, wheels), not for pieces of one part
    texts = [p if p.name in COUNTABLE_PARTS else PartText(p.name, p.color, p.material) for p in seen.values()]
    return sorted(texts, key=lambda p: -areas[p.name])


@dataclass
class Instance:
    """One toyworld item: geometry, attributes and every text."""

    category: str
    seed: int
    kind: str
    obj: ToyObject
    partner: ToyObject | None
    prompts: dict[str, str]
    captions: list[str]
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.category}-{self.seed:07d}"

    @property
    def split(self) -> str:
        return split_of(self.seed)

    @property
    def prompt(self) -> str:
        return self.prompts[self.kind]

    def scene(self) -> ToyObject:
        """The object itself, or both objects side by side for a grouped item."""
        if self.partner is None:
            return self.obj
        return ToyObject(self.category, side_by_side(self.obj, self.partner), dict(self.obj.attributes))

    def metadata(self) -> dict[str, Any]:
        """The structured metadata written to meta.json."""
        parts = [{"name": p.name, "color": p.color, "material": p.material, "count": p.count}
                 for p in part_texts(self.obj)]
        meta = {"id": self.id, "category": self.category, "group": CATEGORIES[self.category].group,
                "seed": self.seed, "kind": self.kind, "split": self.split, "prompt": self.prompt,
                "prompts": dict(self.prompts), "captions": list(self.captions), "parts": parts,
                **self.attributes}
        if self.partner is not None:
            meta["partner"] = {"category": self.partner.category, "color": self.partner.attributes["main_color"]}
        return meta


def make_instance(category: str, seed: int, kind: str | None = None) -> Instance:
    """The instance of (category, seed); ``kind`` overrides the seeded choice of prompt kind."""
    split = split_of(seed)
    rng = _rng(category, seed, 1)
    chosen = kind or KINDS[int(rng.choice(len(KINDS), p=KIND_WEIGHTS))]
    if chosen not in KINDS:
        raise InputError(f"unknown prompt kind {chosen!r} (use {', '.join(KINDS)})")
    obj = make_object(category, seed)
    color = obj.attributes["main_color"]  # the color a person names; programs paint it on the main parts
    attrs = dict(obj.attributes)
    attrs["color"] = color
    attrs["dominant_color"] = obj.dominant_color()  # by surface area, for information
    parts = part_texts(obj)
    prompts = {
        "basic": basic_prompt(rng, category, color),
        "refined": refined_prompt(rng, category, color, attrs["size"], attrs["shape"], attrs["material"]),
        "complex": complex_prompt(rng, category, color, parts),
    }
    partner = None
    partner_info = None
    if chosen == "grouped":
        others = [c for c in CATEGORY_NAMES if c != category and c in load_programs()]
        other = others[int(rng.integers(len(others)))]
        partner = make_object(other, seed)
        partner_info = (other, partner.attributes["main_color"])
        prompts["grouped"] = grouped_prompt(rng, category, color, other, partner_info[1])
    if split == "heldout":
        prompts["paraphrase"] = paraphrase_prompt(rng, category, color, attrs["size"], attrs["material"],
                                                  test=seed in TEST_SEEDS)
    texts = captions(rng, category, color, attrs["size"], attrs["shape"], attrs["material"], parts, partner_info)
    return Instance(category, seed, chosen, obj, partner, prompts, texts, attrs)


def item_spec(index: int, base_seed: int = 0, categories: tuple[str, ...] = CATEGORY_NAMES) -> tuple[str, int]:
    """(category, seed) of the index-th item of a build: categories round-robin, seeds counting up."""
    return categories[index % len(categories)], base_seed + index // len(categories)


def item_prompts(n: int, base_seed: int, categories: tuple[str, ...] = CATEGORY_NAMES) -> list[str]:
    """The prompts of the items ``index ∈ [0, n)`` from ``base_seed`` (:func:`item_spec`'s order), made
    from each object's attributes only, so no mesh is built: the "basic" prompt when the item's drawn
    kind is basic, else its "refined" one (the first draws of :func:`make_instance`'s text stream)."""
    out = []
    for index in range(n):
        category, seed = item_spec(index, base_seed, categories)
        rng = _rng(category, seed, 1)
        kind = KINDS[int(rng.choice(len(KINDS), p=KIND_WEIGHTS))]
        attrs = make_object(category, seed).attributes
        basic = basic_prompt(rng, category, attrs["main_color"])
        refined = refined_prompt(rng, category, attrs["main_color"], attrs["size"], attrs["shape"], attrs["material"])
        out.append(basic if kind == "basic" else refined)
    return out
