"""Shared fixtures: small deterministic meshes and a marked, asymmetric test object."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import trimesh  # noqa: E402

from text3d.assets import Asset  # noqa: E402

RED = (1.0, 0.0, 0.0, 1.0)
GREEN = (0.0, 1.0, 0.0, 1.0)
GREY = (0.4, 0.4, 0.4, 1.0)


def colored(mesh: trimesh.Trimesh, rgba: tuple[float, ...]) -> Asset:
    return Asset(vertices=mesh.vertices, faces=mesh.faces, vertex_colors=np.tile(rgba, (len(mesh.vertices), 1)))


@pytest.fixture
def marked_asset() -> Asset:
    """A grey cube with a red ball on its +X side and a green ball on its +Y side."""
    cube = colored(trimesh.creation.box((0.5, 0.5, 0.5)), GREY)
    red = trimesh.creation.icosphere(2, radius=0.15)
    red.apply_translation((0.33, 0.0, 0.0))
    green = trimesh.creation.icosphere(2, radius=0.15)
    green.apply_translation((0.0, 0.33, 0.0))
    return Asset.concatenate([cube, colored(red, RED), colored(green, GREEN)])


@pytest.fixture
def sphere_asset() -> Asset:
    sphere = trimesh.creation.icosphere(3, radius=0.4)
    colors = np.concatenate([np.abs(sphere.vertices) / 0.4, np.ones((len(sphere.vertices), 1))], axis=1)
    return Asset(vertices=sphere.vertices, faces=sphere.faces, vertex_colors=np.clip(colors, 0, 1))


@pytest.fixture
def interrupt_at(monkeypatch):
    """``interrupt_at(owner, "name", n)`` makes ``owner.name`` raise KeyboardInterrupt on its n-th
    call (a Ctrl-C or a kill in the middle of a run) and returns the real one, to put back with
    ``monkeypatch.setattr`` when the test resumes the run."""

    def patch(owner, name: str, n: int):
        real, calls = getattr(owner, name), [0]

        def interrupted(*args, **kwargs):
            calls[0] += 1
            if calls[0] == n:
                raise KeyboardInterrupt
            return real(*args, **kwargs)

        monkeypatch.setattr(owner, name, interrupted)
        return real

    return patch
