"""The embedded few-step triplane generator: ``embedded-turbo``.

A student trained by ``text3d train turbo`` (progressive rendering distillation, TriplaneTurbo
(Ma et al., 2025)): MiniLM token states of the prompt → K ≤ 4 denoising steps of the PETA-adapted
backbone (:class:`~text3d.triplane.student.TriplaneStudent`) → one triplane → marching cubes on a
``resolution``³ SDF lattice decoded near the surface only
(:func:`~text3d.triplane.marching.narrow_band_sdf_grid`) with colors from the texture planes
(:func:`~text3d.triplane.marching.extract_asset`) → an :class:`~text3d.assets.Asset` centered and
scaled into [-0.5, 0.5]³ like every generator's.
"""

from __future__ import annotations

import logging

import numpy as np

from text3d.device import resolve_device
from text3d.encoders.minilm import shared_text_encoder
from text3d.errors import InputError, ModelNotAvailableError
from text3d.generators.base import Condition, Generator, GeneratorOutput, generators
from text3d.nn.checkpoint import resolve_model_folder

log = logging.getLogger(__name__)

MODEL_NAME = "triplane-turbo"
"""Folder of the shipped student (``text3d/weights/``) and of a ``text3d train turbo`` run's output."""
MESH_RESOLUTION = 64


@generators.register("embedded-turbo")
class EmbeddedTurboGenerator(Generator):
    """Text-to-mesh in K ≤ 4 steps of the distilled triplane student."""

    name = "embedded-turbo"
    weights_folder = MODEL_NAME

    def __init__(self, student, device, model: str) -> None:
        self.student = student
        self.device = device
        self.model = model
        self.default_steps = student.config.steps

    @classmethod
    def from_pretrained(cls, name_or_path: str | None = None, device: str | None = None,
                        **options) -> "EmbeddedTurboGenerator":
        """Load a student folder (default: the shipped one; a missing one is a one-line error)."""
        from text3d.triplane.student import TriplaneStudent

        try:
            folder = resolve_model_folder(name_or_path, MODEL_NAME)
        except ModelNotAvailableError as exc:
            raise ModelNotAvailableError(f"{cls.name}: {exc} (`text3d train turbo --out DIR` writes DIR/{MODEL_NAME})"
                                         ) from None
        dev = resolve_device(device)
        if dev.type != "cpu":
            log.info("embedded-turbo: mesh rendering and extraction run on the CPU; the student runs there too")
        return cls(TriplaneStudent.load(folder), "cpu", str(folder))

    def generate(self, condition: Condition, seed: int = 0, steps: int | None = None,
                 cfg: float | None = None) -> GeneratorOutput:
        """One asset for ``condition.text`` in ``steps`` (default K) student steps; ``cfg`` is unused
        (the teacher's guidance is distilled into the student)."""
        import torch

        from text3d.triplane.marching import extract_asset, narrow_band_sdf_grid
        from text3d.triplane.student import MAX_STEPS as STUDENT_MAX_STEPS

        encoding = shared_text_encoder(self.device).encode([condition.text])
        generator = torch.Generator().manual_seed(int(seed))
        k = steps or self.default_steps
        if not 1 <= k <= STUDENT_MAX_STEPS:
            raise InputError(f"--steps {k}: embedded-turbo samples in 1 to {STUDENT_MAX_STEPS} student steps "
                             f"(trained for {self.default_steps})")
        with torch.no_grad():
            planes = self.student.sample(encoding.tokens.float(), encoding.mask.bool(), steps=k, generator=generator)
            sdf = narrow_band_sdf_grid(self.student.field, planes, MESH_RESOLUTION)  # decoded once
            empty = float(sdf.min()) >= 0
        warnings = []
        if cfg is not None:
            warnings.append(f"cfg {cfg} is unused: embedded-turbo's guidance is distilled into the student")
        if k != self.default_steps:
            warnings.append(f"sampled with {k} steps; the student was trained for {self.default_steps}")
        if empty:
            warnings.append("the student's triplane has no surface: empty mesh")
            from text3d.assets.asset import Asset

            asset = Asset(vertices=np.zeros((0, 3)), faces=np.zeros((0, 3), dtype=np.int64),
                          metadata={"source": "triplane"})
        else:
            asset = extract_asset(self.student.field, planes, MESH_RESOLUTION, sdf).normalized()  # into [-0.5, 0.5]³
        asset.metadata.update({"generator": self.name, "steps": k, "prompt": condition.text})
        return GeneratorOutput(asset=asset, info={"steps": k, "model": self.model}, warnings=warnings)
