"""``embedded-hyperscore``: the embedded multidimensional evaluator (MATE-3D's HyperScore, Zhang et
al., 2024): alignment, geometry, texture and overall from 0 to 10 (:mod:`text3d.nn.hyperscore`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from text3d.device import resolve_device
from text3d.eval.evaluators.base import Evaluator, evaluators
from text3d.eval.evaluators.minilm_text import minilm_embed

FOLDER = "evaluator"
"""The shipped weights' folder under ``text3d/weights``."""


def load_network(model: str | Path | None = None):
    """The :class:`~text3d.nn.hyperscore.HyperScore` of a weights folder (default: the shipped one)."""
    from text3d.nn.checkpoint import load_folder, resolve_model_folder
    from text3d.nn.hyperscore import HyperScore, HyperScoreConfig

    folder = resolve_model_folder(model, FOLDER)
    state, config = load_folder(folder)
    network = HyperScore(HyperScoreConfig.from_dict(config["model"]))
    network.load_state_dict(state)
    return network


@evaluators.register("embedded-hyperscore")
class HyperScoreEvaluator(Evaluator):
    """A trained :class:`~text3d.nn.hyperscore.HyperScore` with the frozen MiniLM text encoder.

    ``network`` (a HyperScore module) replaces the weights folder and ``text_encoder`` the shared
    MiniLM: tests build tiny or float64 ones."""

    name = "embedded-hyperscore"
    scale = "0–10"

    weights_folder = FOLDER

    def __init__(self, model: str | Path | None = None, device: str | None = None, network=None,
                 text_encoder=None) -> None:
        from text3d.encoders.minilm import shared_text_encoder

        self.device = resolve_device(device)
        network = load_network(model) if network is None else network
        self.network = network.to(self.device).eval().requires_grad_(False)
        self.dimensions = tuple(network.config.dimensions)
        self.views = network.config.views
        self.normal_maps = bool(network.config.normal_maps)
        self.see_through = bool(network.config.see_through)
        self.back_normals = bool(network.config.back_normals)
        self.text_encoder = text_encoder or shared_text_encoder(str(self.device))

    def _embed(self, prompt: str) -> tuple:
        return minilm_embed(self.text_encoder, prompt)

    def _score_embeddings(self, views: np.ndarray, embeddings, mask):
        """MiniLM states of the D-times repeated embeddings → HyperScore scores (D, 4)."""
        from text3d.nn.hyperscore import views_tensor

        d = len(views)
        states, _ = self.text_encoder.forward_embeddings(embeddings.expand(d, -1, -1), mask.expand(d, -1))
        images = views_tensor(views).to(self.device, embeddings.dtype)
        return self.network(images, states, mask.expand(d, -1))
