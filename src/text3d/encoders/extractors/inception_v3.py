"""``inception-v3``: the FID Inception-v3 pool3 features (2048-d), pytorch-fid conventions.

Images are scaled to [0, 1], resized to 299×299 bilinearly (``align_corners=False``) and
mapped to [−1, 1]; the network is text3d's own implementation of the FID Inception
(:mod:`text3d.encoders.inception_net`). The weights are the standard FID file
``pt_inception-2015-12-05-6726825d.pth`` (a state dict), which the user supplies: the
``inception`` optional extra needs no extra package, only that file.
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
from text3d.encoders.inception_net import FIDInceptionV3, prepare_inputs
from text3d.encoders.preprocess import batches, to_rgb_uint8
from text3d.encoders.torch_weights import load_into, load_state_dict_file

ENV_VAR = "TEXT3D_WEIGHTS_INCEPTION"
WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"
HOW = (f"download {WEIGHTS_FILE} (the FID Inception weights released with pytorch-fid) on a connected "
       f"machine, then pass --weights inception-v3=FILE or set {ENV_VAR}=FILE")


@extractors.register("inception-v3")
class InceptionV3Extractor(FeatureExtractor):
    """FID Inception-v3 pool3 features; weights from a user-supplied state-dict file."""

    name = "inception-v3"
    modalities = frozenset({"image"})
    dim = 2048
    joint_space = False

    def __init__(self, weights: str | None = None, device: str | None = None, batch_size: int = 16) -> None:
        source = resolve_weights(weights, ENV_VAR, None)
        state = load_state_dict_file(source, self.name, HOW)
        self.device = resolve_device(device)
        network = FIDInceptionV3()
        load_into(network, state, self.name, str(source))
        self.network = network.to(self.device).eval()
        self.batch_size = batch_size
        self.weights_id = weights_fingerprint(str(source))

    def image_features(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """pool3 features (N, 2048)."""
        import torch

        chunks = []
        with torch.inference_mode():
            for part in batches(len(images), self.batch_size):
                inputs = [prepare_inputs(torch.from_numpy(to_rgb_uint8(image)).permute(2, 0, 1)[None].float()
                                         .div(255.0).to(self.device)) for image in images[part]]
                chunks.append(self.network(torch.cat(inputs)).float().cpu().numpy())
        return stack_features(chunks, self.dim)
