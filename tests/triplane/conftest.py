"""A sphere written into the planes analytically, so tests need no fitting."""

from __future__ import annotations

import pytest
import torch

from text3d.triplane import TriplaneConfig, TriplaneField


def sphere_field(center=(0.0, 0.0, 0.0), radius: float = 0.3, resolution: int = 64
                 ) -> tuple[TriplaneField, torch.Tensor]:
    """A linear decoder (no hidden layer) over summed features, and planes (1, 3, 4, R, R) whose
    channel 0 sums to ((x−cx)² + (y−cy)² + (z−cz)² − r²) / 2r (an SDF to first order at the
    sphere) and whose channels 1–3 are color logits (red grows with x, blue constant)."""
    config = TriplaneConfig(channels=4, resolution=resolution, layers=0, sdf_bias="none")
    field = TriplaneField(config)
    with torch.no_grad():
        field.head[-1].weight.copy_(torch.eye(4))
        field.head[-1].bias.zero_()
    b, (cx, cy, cz), r = config.bound, center, radius
    axis = torch.linspace(-b, b, resolution)
    w, h = axis[None, :].expand(resolution, -1), axis[:, None].expand(-1, resolution)  # plane[h, w]
    planes = torch.zeros(config.plane_shape(1))
    planes[0, 0, 0] = ((w - cx) ** 2 + (h - cy) ** 2) / (2 * r) - r / 2  # XY: w = x, h = y
    planes[0, 1, 0] = (h - cz) ** 2 / (2 * r)  # XZ: w = x, h = z
    planes[0, 0, 1] = 4.0 * w / b  # red logit from x
    planes[0, 0, 3] = -2.0  # blue logit
    return field, planes


@pytest.fixture
def sphere():
    return sphere_field()


@pytest.fixture
def offset_sphere():
    return sphere_field(center=(0.12, -0.05, 0.08), radius=0.28)


@pytest.fixture(autouse=True)
def one_thread():
    """Small tensors: one torch thread avoids thread-pool stalls on the shared 2 cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
