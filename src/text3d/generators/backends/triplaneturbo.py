"""TriplaneTurbo adapter (PRD, Ma et al. CVPR 2025): ``triplaneturbo``.

Uses the authors' ``triplaneturbo_executable.TriplaneTurboTextTo3DPipeline`` with its
adapter weights (``ZhiyuanthePony/TriplaneTurbo``, file ``triplane_turbo_sd_v1.pth``) on
Stable Diffusion 2.1-base: 4 denoising steps, one forward pass per step, ~1.2 s per
textured mesh on a GPU (TriplaneTurbo (Ma et al., 2025), Table 1). The condition is the SD text encoder's hidden
states (OpenCLIP ViT-H/14 for SD 2.1: 77 × 1024); ``Condition.tokens`` of that shape is
injected by handing the pipeline those states in place of its ``encode_prompt`` output.
The mesh is written with the package's ``export_obj`` and read back (y-up OBJ).
"""

from __future__ import annotations

import logging
from contextlib import contextmanager

import numpy as np

from text3d.device import resolve_device
from text3d.generators.backends._external import asset_from_mesh_file, import_external, load_weights
from text3d.generators.base import Condition, Generator, GeneratorOutput, generators

log = logging.getLogger(__name__)

INSTALL = ("install TriplaneTurbo from https://github.com/theEricMa/TriplaneTurbo (CUDA GPU required) so that "
           "`import triplaneturbo_executable` works, and download triplane_turbo_sd_v1.pth "
           "(hf download ZhiyuanthePony/TriplaneTurbo) plus stable-diffusion-2-1-base")
DEFAULT_WEIGHTS = "pretrained/triplane_turbo_sd_v1.pth"


@generators.register("triplaneturbo")
class TriplaneTurboGenerator(Generator):
    """Few-step text-to-mesh by progressive rendering distillation."""

    requires = "triplaneturbo_executable"
    install = INSTALL

    name = "triplaneturbo"
    default_steps = 4

    def __init__(self, pipeline, model: str, device) -> None:
        self.pipeline = pipeline
        self.model = model
        self.device = device

    @classmethod
    def from_pretrained(cls, name_or_path: str | None = None, device: str | None = None) -> "TriplaneTurboGenerator":
        package = import_external("triplaneturbo_executable", cls.name, INSTALL)
        source = name_or_path or DEFAULT_WEIGHTS
        pipeline = load_weights(package.TriplaneTurboTextTo3DPipeline.from_pretrained, source, cls.name, INSTALL)
        dev = resolve_device(device)
        pipeline.to(dev)
        return cls(pipeline, source, dev)

    def conditioning(self, text: str) -> "torch.Tensor":  # noqa: F821
        """The text encoder's hidden states for ``text`` (1, 77, D)."""
        encoded = self.pipeline.encode_prompt([text], self.device, 1)
        return encoded[0] if isinstance(encoded, tuple) else encoded

    @contextmanager
    def _injected(self, tokens):
        """Make the pipeline's ``encode_prompt`` return ``tokens`` for one call."""
        import torch

        states = torch.as_tensor(np.asarray(tokens), dtype=torch.float32, device=self.device)
        states = states if states.dim() == 3 else states[None]
        original = self.pipeline.encode_prompt
        self.pipeline.encode_prompt = lambda *args, **kwargs: (states, None)
        try:
            yield
        finally:
            self.pipeline.encode_prompt = original

    def generate(self, condition: Condition, seed: int = 0, steps: int | None = None,
                 cfg: float | None = None) -> GeneratorOutput:
        import torch

        exporter = import_external("triplaneturbo_executable.utils.mesh_exporter", self.name, INSTALL)
        generator = torch.Generator(device=self.device).manual_seed(int(seed))
        kwargs = {"prompt": condition.text, "num_inference_steps": steps or self.default_steps,
                  "num_results_per_prompt": 1, "generator": generator}
        if condition.tokens is not None:
            with self._injected(condition.tokens):
                output = self.pipeline(**kwargs)
        else:
            output = self.pipeline(**kwargs)
        mesh = output["mesh"][0]
        asset = asset_from_mesh_file(lambda path: exporter.export_obj(mesh, str(path)), ".obj")
        warnings = [] if cfg is None else ["triplaneturbo is distilled without classifier-free guidance; --cfg ignored"]
        return GeneratorOutput(asset=asset, info={"steps": kwargs["num_inference_steps"],
                                                  "injected_tokens": condition.tokens is not None},
                               warnings=warnings)
