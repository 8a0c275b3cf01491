"""TRELLIS adapters (Xiang et al. 2024): ``trellis-text`` and ``trellis-image``.

Both drive TRELLIS's own pipeline classes stage by stage — ``get_cond`` →
``sample_sparse_structure`` → ``sample_slat`` → ``decode_slat`` — which is what
``pipeline.run`` does, so a caller can replace the encoder's output:

* ``trellis-text`` (``microsoft/TRELLIS-text-base|large|xlarge``): the condition is CLIP
  ViT-L/14 ``last_hidden_state``, 77 × 768, with the empty prompt's as the negative;
* ``trellis-image`` (``microsoft/TRELLIS-image-large``): DINOv2 ViT-L/14-with-registers
  pre-norm tokens at 518², 1 + 4 + 37·37 = 1374 × 1024, after a non-affine layer norm, with
  zeros as the negative. ``Condition.tokens`` of that shape injects GAP3D's generated tokens
  in place of the image encoder.

Sampler settings follow TRELLIS: ``steps`` and ``cfg`` map to ``steps`` and
``cfg_strength`` of both samplers. The GLB comes from ``postprocessing_utils.to_glb``
(simplify 0.95, 1024² texture), which is y-up like every text3d file.
"""

from __future__ import annotations

import logging

import numpy as np

from text3d.device import resolve_device
from text3d.errors import InputError
from text3d.generators.backends._external import asset_from_mesh_file, import_external, load_weights
from text3d.generators.base import Condition, Generator, GeneratorOutput, generators

log = logging.getLogger(__name__)

INSTALL = ("install TRELLIS from https://github.com/microsoft/TRELLIS (CUDA GPU required) so that "
           "`import trellis` works, and download the weights (hf download microsoft/TRELLIS-…) for offline use")
TEXT_MODELS = ("microsoft/TRELLIS-text-base", "microsoft/TRELLIS-text-large", "microsoft/TRELLIS-text-xlarge")
IMAGE_MODEL = "microsoft/TRELLIS-image-large"


class _TrellisBase(Generator):
    """Stage-by-stage driving of a TRELLIS pipeline object."""

    pipeline_class = ""
    default_model = ""
    requires = "trellis.pipelines"
    install = INSTALL

    def __init__(self, pipeline, model: str, device) -> None:
        self.pipeline = pipeline
        self.model = model
        self.device = device

    @classmethod
    def from_pretrained(cls, name_or_path: str | None = None, device: str | None = None) -> "_TrellisBase":
        pipelines = import_external("trellis.pipelines", cls.name, INSTALL)
        source = name_or_path or cls.default_model
        pipeline = load_weights(getattr(pipelines, cls.pipeline_class).from_pretrained, source, cls.name, INSTALL)
        dev = resolve_device(device)
        pipeline.to(dev)
        return cls(pipeline, source, dev)

    def sampler_params(self, steps: int | None, cfg: float | None) -> dict:
        params = {}
        if steps is not None:
            params["steps"] = int(steps)
        if cfg is not None:
            params["cfg_strength"] = float(cfg)
        return params

    def conditioning(self, condition: Condition) -> dict:
        raise NotImplementedError

    def generate(self, condition: Condition, seed: int = 0, steps: int | None = None,
                 cfg: float | None = None) -> GeneratorOutput:
        import torch

        postprocessing = import_external("trellis.utils.postprocessing_utils", self.name, INSTALL)
        cond = self.conditioning(condition)
        params = self.sampler_params(steps, cfg)
        torch.manual_seed(int(seed))
        coords = self.pipeline.sample_sparse_structure(cond, 1, params)
        slat = self.pipeline.sample_slat(cond, coords, params)
        outputs = self.pipeline.decode_slat(slat, ["mesh", "gaussian"])
        glb = postprocessing.to_glb(outputs["gaussian"][0], outputs["mesh"][0], simplify=0.95, texture_size=1024,
                                    verbose=False)
        asset = asset_from_mesh_file(lambda path: glb.export(str(path)), ".glb")
        info = {"sampler_params": params, "injected_tokens": condition.tokens is not None,
                "cond_shape": list(cond["cond"].shape)}
        return GeneratorOutput(asset=asset, info=info)


@generators.register("trellis-text")
class TrellisTextGenerator(_TrellisBase):
    """TRELLIS text-to-3D (``TrellisTextTo3DPipeline``)."""

    name = "trellis-text"
    pipeline_class = "TrellisTextTo3DPipeline"
    default_model = "microsoft/TRELLIS-text-xlarge"

    def conditioning(self, condition: Condition) -> dict:
        """{"cond": CLIP last_hidden_state (1, 77, 768), "neg_cond": the empty prompt's}."""
        import torch

        if condition.tokens is not None:
            tokens = torch.as_tensor(np.asarray(condition.tokens), dtype=torch.float32, device=self.device)
            return {"cond": tokens if tokens.dim() == 3 else tokens[None],
                    "neg_cond": self.pipeline.text_cond_model["null_cond"]}
        return self.pipeline.get_cond([condition.text])


@generators.register("trellis-image")
class TrellisImageGenerator(_TrellisBase):
    """TRELLIS image-to-3D (``TrellisImageTo3DPipeline``); the GAP3D injection point."""

    name = "trellis-image"
    pipeline_class = "TrellisImageTo3DPipeline"
    default_model = IMAGE_MODEL

    def conditioning(self, condition: Condition) -> dict:
        """{"cond": DINOv2 tokens (1, 1374, 1024), "neg_cond": zeros}, or the injected tokens."""
        import torch
        from PIL import Image

        if condition.tokens is not None:
            tokens = torch.as_tensor(np.asarray(condition.tokens), dtype=torch.float32, device=self.device)
            tokens = tokens if tokens.dim() == 3 else tokens[None]
            return {"cond": tokens, "neg_cond": torch.zeros_like(tokens)}
        if condition.image is None:
            raise InputError("trellis-image needs an image or image-encoder tokens, not text alone "
                             "(use trellis-text, or GAP3D tokens)")
        image = self.pipeline.preprocess_image(Image.fromarray(np.asarray(condition.image)))
        return self.pipeline.get_cond([image])
