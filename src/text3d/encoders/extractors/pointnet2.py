"""``pointnet2``: penultimate (256-d) features of a PointNet++ SSG point-cloud classifier.

Each cloud (P, 3) — or (P, 6) with normals when the weights expect them — is centred and
scaled into the unit sphere, then passed through text3d's own PointNet++ implementation
(:mod:`text3d.encoders.pointnet2_net`). The classifier weights are supplied by the user
(a state-dict or training-checkpoint file); widths and class count are read from it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from text3d.device import resolve_device
from text3d.encoders.base import (
    FeatureExtractor,
    extractors,
    resolve_weights,
    stack_features,
    weights_fingerprint,
)
from text3d.encoders.pointnet2_net import PointNet2SSG, config_from_state_dict
from text3d.encoders.preprocess import batches
from text3d.encoders.torch_weights import load_into, load_state_dict_file
from text3d.errors import InputError
from text3d.render.points import normalize_to_unit_sphere

ENV_VAR = "TEXT3D_WEIGHTS_POINTNET2"
HOW = ("train or download a PointNet++ SSG classification checkpoint (e.g. on ModelNet40) on a connected "
       f"machine, then pass --weights pointnet2=FILE or set {ENV_VAR}=FILE")


@extractors.register("pointnet2")
class PointNet2Extractor(FeatureExtractor):
    """PointNet++ SSG classifier features (FD_PointNet)."""

    name = "pointnet2"
    modalities = frozenset({"points"})
    dim = 256
    joint_space = False

    def __init__(self, weights: str | None = None, device: str | None = None, batch_size: int = 16,
                 npoints: tuple[int, int] = (512, 128), radii: tuple[float, float] = (0.2, 0.4),
                 nsamples: tuple[int, int] = (32, 64)) -> None:
        source = resolve_weights(weights, ENV_VAR, None)
        state = load_state_dict_file(source, self.name, HOW)
        try:
            config = config_from_state_dict(state, npoints=tuple(npoints), radii=tuple(radii),
                                            nsamples=tuple(nsamples))
        except KeyError as exc:
            raise InputError(f"extractor {self.name!r}: {source} is not a PointNet++ SSG state dict "
                             f"(no {exc.args[0]})") from None
        network = PointNet2SSG(config)
        load_into(network, state, self.name, str(source))
        self.device = resolve_device(device)
        self.network = network.to(self.device).eval()
        self.dim = config.fc_widths[1]
        self.point_channels = 6 if config.normal_channel else 3
        self.batch_size = batch_size
        self.weights_id = f"{weights_fingerprint(str(source))}|{config.npoints}|{config.radii}|{config.nsamples}"

    def _prepare(self, cloud: np.ndarray) -> np.ndarray:
        array = np.asarray(cloud, np.float32)
        channels = self.point_channels
        if array.ndim != 2 or array.shape[1] < channels or len(array) == 0:
            raise InputError(f"extractor {self.name!r}: point clouds must be (P, {channels}) arrays, got {array.shape}")
        prepared = array[:, :channels].copy()
        prepared[:, :3] = normalize_to_unit_sphere(prepared[:, :3])
        return prepared

    def point_features(self, clouds: Sequence[np.ndarray]) -> np.ndarray:
        """Penultimate features (N, 256); clouds of unequal sizes run one at a time."""
        import torch

        chunks = []
        with torch.inference_mode():
            for part in batches(len(clouds), self.batch_size):
                prepared = [self._prepare(c) for c in clouds[part]]
                size = min(len(c) for c in prepared)
                if any(len(c) != size for c in prepared):  # equal sizes batch; else one by one
                    outputs = [self.network.features(torch.from_numpy(c)[None].to(self.device)) for c in prepared]
                    chunks.append(torch.cat(outputs).float().cpu().numpy())
                else:
                    batch = torch.from_numpy(np.stack(prepared)).to(self.device)
                    chunks.append(self.network.features(batch).float().cpu().numpy())
        return stack_features(chunks, self.dim)
