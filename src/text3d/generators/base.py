"""The generator protocol: a :class:`Condition` → an :class:`~text3d.assets.Asset`.

Backends follow the diffusers / Hunyuan3D-2 habit: ``from_pretrained(name_or_path,
device=..., **options)`` builds a ready generator; ``generate(condition, seed=…)`` returns the
asset (z-up, normalized to [-0.5, 0.5]³) and backend-specific information. ``steps`` and
``cfg`` are the one sampling setting every backend shares; anything else (``candidates`` of the
embedded backend) is an option of the backend's constructor, declared in its ``options``::

    generator = create_generator("embedded", candidates=4)
    output = generator.generate(Condition("small blue sailboat"), seed=0)

Devices are resolved by :func:`text3d.device.resolve_device` (cpu, cuda, mps); nothing is hard-coded.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from text3d.assets.asset import Asset
from text3d.errors import InputError, ModelNotAvailableError
from text3d.registry import Registry


@dataclass
class Condition:
    """What to generate from.

    ``prompt`` is the user's short prompt and ``caption`` its augmentation (what text
    conditions the model when present). ``tokens`` replaces the backend's own encoder output
    (e.g. GAP3D's generated image-encoder tokens); ``image`` is an RGB uint8 image for
    image-conditioned backends.
    """

    prompt: str
    caption: str | None = None
    tokens: Any | None = None
    image: np.ndarray | None = None

    @property
    def text(self) -> str:
        return self.caption or self.prompt


@dataclass
class GeneratorOutput:
    """The asset and what the backend wants recorded (parsed attributes, warnings, …)."""

    asset: Asset
    info: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


class Generator:
    """Base class of generator backends; ``options`` names the keywords ``from_pretrained`` takes
    beyond the weights and the device."""

    name: ClassVar[str] = ""
    options: ClassVar[frozenset[str]] = frozenset()
    token_conditioned: ClassVar[bool] = False
    """True when ``generate`` honours ``Condition.tokens`` (image-encoder tokens, e.g. GAP3D's)."""
    model: str = ""
    default_steps: int | None = None
    default_cfg: float | None = None

    @classmethod
    def from_pretrained(cls, name_or_path: str | None = None, device: str | None = None,
                        **options: Any) -> "Generator":
        raise NotImplementedError

    weights_folder: ClassVar[str | None] = None
    """Name of the backend's shipped weights folder (``text3d/weights/``), for backends loading local weights."""

    requires: ClassVar[str] = ""
    """The package an external backend imports (not a dependency of text3d), and ``install`` how to
    get it: :meth:`check_installed` refuses the backend without loading anything."""
    install: ClassVar[str] = ""

    @classmethod
    def check_installed(cls) -> None:
        """A one-line :class:`ModelNotAvailableError` when :attr:`requires` cannot be imported here
        (found, not imported: a GPU package stays unloaded until a job runs)."""
        if not cls.requires:
            return
        try:
            found = importlib.util.find_spec(cls.requires.split(".")[0]) is not None
        except (ImportError, ValueError):  # imported already, without a spec: it is there
            found = True
        if not found:
            raise ModelNotAvailableError(f"{cls.name}: cannot import {cls.requires} (not installed); {cls.install}")

    @classmethod
    def weights_sha256(cls, name_or_path: str | None = None) -> str | None:
        """Digest of the local weights ``from_pretrained(name_or_path)`` would load, so a run made
        with other weights at the same path is not resumed; None for backends without such weights
        or when there are none to read (``from_pretrained`` then says why)."""
        if cls.weights_folder is None:
            return None
        from text3d.nn.checkpoint import local_weights_sha256

        return local_weights_sha256(name_or_path, cls.weights_folder)

    def generate(self, condition: Condition, seed: int = 0, steps: int | None = None,
                 cfg: float | None = None) -> GeneratorOutput:
        """One asset for ``condition``. ``steps`` and ``cfg`` override the sampler's defaults
        (a backend without guidance ignores ``cfg`` and says so in the warnings)."""
        raise NotImplementedError


generators: Registry[type[Generator]] = Registry("generator", ("text3d.generators.backends",))


def backend_options(backend: str, **options: Any) -> dict[str, Any]:
    """The ``options`` given (not ``None``), checked against those ``backend`` declares: an unknown
    backend or option is a one-line :class:`InputError` naming both."""
    factory = generators.get(backend)
    given = {key: value for key, value in options.items() if value is not None}
    for key in sorted(given):
        if key not in factory.options:
            takes = ", ".join(sorted(factory.options)) or "none"
            raise InputError(f"generator {backend!r} has no option {key!r} (its options: {takes})")
    return given


def create_generator(backend: str, model: str | None = None, device: str | None = None,
                     **options: Any) -> Generator:
    """``generators.get(backend).from_pretrained(model, device, **options)`` with the options
    :func:`backend_options` keeps."""
    return generators.get(backend).from_pretrained(model, device=device, **backend_options(backend, **options))
