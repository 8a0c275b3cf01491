"""The procedural backend: parse the prompt, build the toyworld object it names (an oracle)."""

from __future__ import annotations

import logging

from text3d.data.toyworld.instance import make_object, side_by_side
from text3d.data.toyworld.objects import ToyObject
from text3d.data.toyworld.parse import parse_prompt
from text3d.data.toyworld.vocabulary import CATEGORIES
from text3d.generators.base import Condition, Generator, GeneratorOutput, generators

log = logging.getLogger(__name__)


@generators.register("procedural")
class ProceduralGenerator(Generator):
    """Builds the toyworld program of the category a prompt names, with its colors,
    material, size, proportions, part colors and counts. Unknown objects use the nearest
    category by text-encoder similarity and say so."""

    name = "procedural"
    model = "toyworld"

    def __init__(self, unused: tuple[str, ...] = ()) -> None:
        self.unused = unused
        """Settings given to :meth:`from_pretrained` that this backend has no use for (each asset says so)."""

    @classmethod
    def from_pretrained(cls, name_or_path: str | None = None, device: str | None = None) -> "ProceduralGenerator":
        """No weights and no device: a ``name_or_path`` is reported unused; a ``device`` is still checked
        (a typo fails in one line, as with every backend)."""
        if device:
            from text3d.device import resolve_device

            resolve_device(device)
        return cls((f"model {name_or_path!r} is unused: the procedural backend has no weights",)
                   if name_or_path else ())

    def generate(self, condition: Condition, seed: int = 0, steps: int | None = None,
                 cfg: float | None = None) -> GeneratorOutput:
        parsed = parse_prompt(condition.prompt)
        if condition.caption:  # the caption may add part colors and counts the prompt left open
            extra = parse_prompt(condition.caption)
            if extra.category == parsed.category:
                for key, value in extra.part_colors.items():
                    parsed.part_colors.setdefault(key, value)
                for key, value in extra.counts.items():
                    parsed.counts.setdefault(key, value)
                parsed.material = parsed.material or extra.material
        warnings = list(self.unused)
        warnings += [f"{name} {value} is unused: the procedural backend builds the named object directly"
                     for name, value in (("steps", steps), ("cfg", cfg)) if value is not None]
        if parsed.matched_by == "nearest":
            noun = CATEGORIES[parsed.category].noun
            warnings.append(f"no toyworld category named in {condition.prompt!r}; using the nearest, {noun!r} "
                            f"(cosine {parsed.similarity:.2f})")
        obj = make_object(parsed.category, seed, main=parsed.color, material=parsed.material, size=parsed.size,
                          shape=parsed.shape, counts=parsed.counts, part_colors=parsed.part_colors)
        if parsed.partner:
            partner = make_object(parsed.partner, seed, main=parsed.partner_color)
            obj = ToyObject(obj.category, side_by_side(obj, partner), obj.attributes)
        asset = obj.to_asset()
        info = {"category": parsed.category, "matched_by": parsed.matched_by, "partner": parsed.partner,
                "attributes": obj.attributes}
        return GeneratorOutput(asset=asset, info=info, warnings=warnings)
