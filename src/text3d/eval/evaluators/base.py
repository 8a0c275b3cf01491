"""The :class:`Evaluator` protocol, its registry and the views every embedded evaluator reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from text3d.assets.asset import Asset
from text3d.errors import InputError
from text3d.eval.evaluators.tokens import piece_offsets
from text3d.registry import Registry
from text3d.render.cameras import Camera

VIEW_SIZE = 64
"""Side of the views the embedded evaluators read (rendered at 2× and area-downsampled)."""


def evaluator_cameras(views: int = 4, yaw0: float = 45.0, pitch: float = 30.0,
                      resolution: int = 2 * VIEW_SIZE) -> list[Camera]:
    """``views`` cameras 360°/views apart from ``yaw0``, at ``pitch``, r 2, FoV 40°."""
    return [Camera(yaw=yaw0 + 360.0 * k / views, pitch=pitch, resolution=resolution) for k in range(views)]


def render_small(asset: Asset, cameras: list[Camera], normals: bool = False,
                 see_through: bool = False, back_normals: bool = False) -> np.ndarray:
    """(V, S/2, S/2, C) uint8 views on white: rendered at S² and 2×2 area-averaged.

    C = 3 (RGB), or 6 with ``normals``: RGB, then the camera-space unit normal n encoded as
    255·(n + 1)/2 (OpenGL axes: x right, y up, z towards the camera; background n = 0 → 128),
    where bumps and blobs show plainly, whatever the shading. ``see_through`` culls back faces,
    so a hole in an outward-wound surface shows the background rather than the surface's inside
    (two-sided, a hole looks like a dent: on 40 development objects the share of silhouette
    pixels that turn see-through separates holed from clean ones at AUC 0.99). ``back_normals`` keeps two-sided shading
    but lets back faces' normals face away from the camera (n_z < 0): the inside of a hole, seen
    through it, reads as facing away in the normal map."""
    from text3d.render.renderer import render

    result = render(asset, cameras, background="white", normals=normals, cull_back=see_through or None,
                    back_normals=back_normals)
    images = result.rgb.astype(np.float32)
    if normals:
        rotations = np.stack([c.c2w_opengl()[:3, :3] for c in cameras])  # (V, 3, 3) camera → world
        camera_normals = np.einsum("vhwi,vij->vhwj", result.normals, rotations)  # Rᵀn per pixel
        images = np.concatenate([images, 127.5 * (camera_normals + 1.0)], axis=-1)
    v, size, channels = len(cameras), images.shape[1] // 2, images.shape[-1]
    return np.rint(images.reshape(v, size, 2, size, 2, channels).mean(axis=(2, 4))).astype(np.uint8)


@dataclass
class PromptGradients:
    """∂q/∂e_i for one prompt, q = mean over its D assets of ``dimension``'s score.

    pieces: tokenizer pieces (L,) with specials; offsets: (start, end) of each piece in
    ``prompt`` ((0, 0) for specials); gradients: (L, E) float32; scores: (D, n_dimensions)
    of the D assets (all dimensions); q: the differentiated score (mean of one column).
    """

    prompt: str
    dimension: str
    pieces: list[str]
    offsets: list[tuple[int, int]]
    gradients: np.ndarray
    scores: np.ndarray
    q: float

    @property
    def saliency(self) -> np.ndarray:
        """e'_i = Σ_k |∂q/∂e_{i,k}|, per piece (L,)."""
        return np.abs(self.gradients).sum(axis=1)


class Evaluator:
    """Base class of evaluators. Subclasses set ``name``, ``dimensions``, ``scale`` and implement
    :meth:`_embed` and :meth:`_score_embeddings`; the rest is shared."""

    name: ClassVar[str] = ""
    scale: ClassVar[str] = "0–10"
    dimensions: tuple[str, ...] = ()
    views: int = 4
    normal_maps: bool = False
    """Whether the views carry camera-space normal maps after RGB (6 channels, :func:`render_small`)."""
    see_through: bool = False
    """Whether the views cull back faces (:func:`render_small`)."""
    back_normals: bool = False
    """Whether the normal maps keep back faces facing away (:func:`render_small`)."""

    weights_folder: ClassVar[str | None] = None
    """Name of the backend's shipped weights folder (``text3d/weights/``), for backends loading local weights."""

    @classmethod
    def weights_sha256(cls, model: str | None = None) -> str | None:
        """Digest of the local weights the backend would load for ``model`` (None: none to read), so a
        run scored with other weights at the same path is not resumed."""
        from text3d.nn.checkpoint import local_weights_sha256

        return None if cls.weights_folder is None else local_weights_sha256(model, cls.weights_folder)

    def render_views(self, asset: Asset) -> np.ndarray:
        """The views this evaluator reads: (V, 64, 64, 3) uint8, or (V, 64, 64, 6) with normal maps."""
        return render_small(asset, evaluator_cameras(self.views), normals=self.normal_maps,
                            see_through=self.see_through, back_normals=self.back_normals)

    def dimension_index(self, dimension: str) -> int:
        """Column of ``dimension``; a one-line :class:`InputError` for one this evaluator lacks."""
        if dimension not in self.dimensions:
            raise InputError(f"evaluator {self.name!r} has no dimension {dimension!r} "
                             f"(its dimensions: {', '.join(self.dimensions)})")
        return self.dimensions.index(dimension)

    # ------------------------------------------------------------------ backend hooks
    def _embed(self, prompt: str) -> tuple[Any, Any, list[str]]:
        """(input token embeddings (1, L, E) tensor, mask (1, L), pieces (L,)) of ``prompt``."""
        raise NotImplementedError

    def _score_embeddings(self, views: np.ndarray, embeddings: Any, mask: Any) -> Any:
        """Scores (D, n_dimensions) tensor of D view sets (D, V, S, S, 3) against one prompt's
        embeddings (1, L, E), differentiable with respect to ``embeddings``."""
        raise NotImplementedError

    # ------------------------------------------------------------------ shared
    def score(self, views: Sequence[np.ndarray], prompts: Sequence[str]) -> np.ndarray:
        """Scores (N, n_dimensions) of view sets ``views[n]`` (V, S, S, 3) against ``prompts[n]``."""
        import torch

        if len(views) != len(prompts):
            raise InputError(f"score: {len(views)} view sets for {len(prompts)} prompts")
        out = np.zeros((len(prompts), len(self.dimensions)), np.float32)
        by_prompt: dict[str, list[int]] = {}
        for index, prompt in enumerate(prompts):
            by_prompt.setdefault(prompt, []).append(index)
        with torch.no_grad():
            for prompt, rows in by_prompt.items():
                embeddings, mask, _ = self._embed(prompt)
                out[rows] = self._score_embeddings(np.stack([views[i] for i in rows]), embeddings, mask).float().numpy()
        return out

    def prompt_gradients(self, views: Sequence[np.ndarray], prompt: str, dimension: str,
                         weight: float = 1.0) -> PromptGradients:
        """∂q/∂e_i with q = weight · (1/D) Σ_d score_d[dimension] over the D view sets of ``prompt``
        (q_l of the paper; q_g's gradient for this prompt is the same with weight 1/N)."""
        import torch

        column = self.dimension_index(dimension)
        if not len(views):
            raise InputError(f"prompt {prompt!r}: no assets to score")
        embeddings, mask, pieces = self._embed(prompt)
        leaf = embeddings.detach().clone().requires_grad_(True)
        scores = self._score_embeddings(np.stack(list(views)), leaf, mask)  # (D, n_dimensions)
        q = weight * scores[:, column].mean()
        (gradient,) = torch.autograd.grad(q, leaf)
        return PromptGradients(prompt=prompt, dimension=dimension, pieces=pieces,
                               offsets=piece_offsets(prompt, pieces), gradients=gradient[0].float().numpy(),
                               scores=scores.detach().float().numpy(), q=float(q.detach()))


evaluators: Registry[Evaluator] = Registry("evaluator", ("text3d.eval.evaluators.backends",))
"""Registered evaluators, discovered lazily from ``text3d.eval.evaluators.backends``."""


def create_evaluator(name: str, model: str | None = None, device: str | None = None) -> Evaluator:
    """Build the evaluator registered as ``name`` (``model``: its weights; None = the default)."""
    return evaluators.create(name, model=model, device=device)
