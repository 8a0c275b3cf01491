"""Build a generator's parts from the names in its ``config.json``.

A part is written ``{"name": NAME, "args": {KEYWORD: VALUE, …}}`` (TRELLIS's ``pipeline.json``
style): ``NAME`` is looked up in the part kind's registry (:data:`~text3d.generators.samplers.samplers`,
:data:`~text3d.generators.selectors.selectors`, :data:`~text3d.generators.rewriters.rewriters`,
:data:`~text3d.generators.postprocess.meshers`, :data:`~text3d.generators.postprocess.postprocessors`)
and called with ``args``. A spec without ``"name"`` gives the arguments of the default part of its kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from text3d.errors import InputError
from text3d.generators.postprocess import Mesher, PostProcessor, meshers, postprocessors
from text3d.generators.rewriters import Rewriter, rewriters
from text3d.generators.samplers import Sampler, samplers
from text3d.generators.selectors import Selector, selectors
from text3d.registry import Registry


@dataclass(frozen=True)
class PartSpec:
    """One part as the config names it."""

    name: str
    args: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "args": dict(self.args)}


def part_spec(value: Any, default: PartSpec, kind: str) -> PartSpec:
    """The :class:`PartSpec` of a config entry: ``None`` → ``default``; a mapping with ``"name"`` →
    that part; a mapping without → ``default``'s part with these arguments."""
    if value is None:
        return default
    if not isinstance(value, Mapping):
        raise InputError(f"generator config: {kind} must be an object {{\"name\": …, \"args\": {{…}}}}, "
                         f"not {value!r}")
    if "name" not in value:
        return PartSpec(default.name, {**default.args, **value})
    args = value.get("args") or {}
    if not isinstance(args, Mapping):
        raise InputError(f"generator config: {kind} {value['name']!r} args must be an object, not {args!r}")
    return PartSpec(str(value["name"]), dict(args))


def build_part(registry: Registry[Any], spec: PartSpec, **extra: Any) -> Any:
    """``registry.get(spec.name)(**spec.args, **extra)``; wrong arguments are a one-line InputError."""
    factory = registry.get(spec.name)
    try:
        return factory(**{**spec.args, **extra})
    except TypeError as exc:
        raise InputError(f"generator config: {registry.kind} {spec.name!r}: {exc}") from None


@dataclass(frozen=True)
class Parts:
    """The parts of a sampling generator, in the order they run."""

    rewriter: Rewriter
    sampler: Sampler
    mesher: Mesher
    selector: Selector
    postprocessors: tuple[PostProcessor, ...]


@dataclass(frozen=True)
class PartSpecs:
    """The part names and arguments of a generator (its config's ``rewriter`` … ``postprocessors``)."""

    rewriter: PartSpec
    sampler: PartSpec
    mesher: PartSpec
    selector: PartSpec
    postprocessors: tuple[PartSpec, ...]

    @classmethod
    def from_config(cls, config: Mapping[str, Any], defaults: "PartSpecs") -> "PartSpecs":
        """The specs ``config`` names; each kind it leaves out is the one of ``defaults``."""
        chain = config.get("postprocessors")
        if chain is not None and not isinstance(chain, list):
            raise InputError(f"generator config: postprocessors must be a list, not {chain!r}")
        return cls(part_spec(config.get("rewriter"), defaults.rewriter, "rewriter"),
                   part_spec(config.get("sampler"), defaults.sampler, "sampler"),
                   part_spec(config.get("mesher"), defaults.mesher, "mesher"),
                   part_spec(config.get("selector"), defaults.selector, "selector"),
                   defaults.postprocessors if chain is None else tuple(
                       _named(entry, "postprocessor") for entry in chain))

    def with_args(self, kind: str, **args: Any) -> "PartSpecs":
        """These specs with ``args`` added to (or replacing) those of part ``kind``."""
        spec = getattr(self, kind)
        return replace(self, **{kind: PartSpec(spec.name, {**spec.args, **args})})

    def to_config(self) -> dict[str, Any]:
        """The ``config.json`` entries that name these parts."""
        return {"rewriter": self.rewriter.to_dict(), "sampler": self.sampler.to_dict(),
                "mesher": self.mesher.to_dict(), "selector": self.selector.to_dict(),
                "postprocessors": [p.to_dict() for p in self.postprocessors]}

    def build(self, device: str | None = None) -> Parts:
        """The parts themselves; the selector, which loads a model, gets ``device``."""
        return Parts(build_part(rewriters, self.rewriter), build_part(samplers, self.sampler),
                     build_part(meshers, self.mesher), build_part(selectors, self.selector, device=device),
                     tuple(build_part(postprocessors, p) for p in self.postprocessors))


def _named(value: Any, kind: str) -> PartSpec:
    if not isinstance(value, Mapping) or "name" not in value:
        raise InputError(f"generator config: each {kind} needs a \"name\", not {value!r}")
    return part_spec(value, PartSpec(str(value["name"])), kind)
