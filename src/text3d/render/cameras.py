"""Cameras and the standard view protocols (TRELLIS ``render_utils`` convention).

A camera at (yaw, pitch, radius r, vertical FoV) sits at
``r · (sin yaw · cos pitch, cos yaw · cos pitch, sin pitch)``, looks at the origin, up = +Z.
So yaw 0 looks from +Y towards −Y (world +X appears on the image's *left*), and yaw 90
looks from +X towards −X (world +Y appears on the image's *right*).

Camera-to-world matrices are given in the OpenCV axis convention (camera x right, y down,
z forward) as ``c2w``, and in the OpenGL/Blender convention (x right, y up, z backward) as
``c2w_opengl``. Intrinsics are pinhole with f = (H/2) / tan(FoV/2), principal point at the
image center, pixel (u, v) center at (u + 0.5, v + 0.5).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from text3d.errors import InputError

WORLD_UP = np.array([0.0, 0.0, 1.0])


@dataclass(frozen=True)
class Camera:
    """A look-at-origin pinhole camera. Angles in degrees, radius in world units."""

    yaw: float
    pitch: float
    radius: float = 2.0
    fov: float = 40.0
    resolution: int = 512
    near: float = 0.1
    far: float = 10.0

    def position(self) -> np.ndarray:
        """World position r·(sin y·cos p, cos y·cos p, sin p)."""
        y, p = math.radians(self.yaw), math.radians(self.pitch)
        return self.radius * np.array([math.sin(y) * math.cos(p), math.cos(y) * math.cos(p), math.sin(p)])

    def c2w(self) -> np.ndarray:
        """4×4 camera-to-world, OpenCV axes: columns (right, down, forward, position)."""
        eye = self.position()
        forward = -eye / np.linalg.norm(eye)
        right = np.cross(forward, WORLD_UP)
        if np.linalg.norm(right) < 1e-8:  # looking straight up or down: fall back to +Y
            right = np.cross(forward, np.array([0.0, 1.0, 0.0]))
        right /= np.linalg.norm(right)
        down = np.cross(forward, right)
        matrix = np.eye(4)
        matrix[:3, 0], matrix[:3, 1], matrix[:3, 2], matrix[:3, 3] = right, down, forward, eye
        return matrix

    def c2w_opengl(self) -> np.ndarray:
        """4×4 camera-to-world, OpenGL axes: columns (right, up, backward, position)."""
        return self.c2w() @ np.diag([1.0, -1.0, -1.0, 1.0])

    def focal(self) -> float:
        """Focal length in pixels: (H/2) / tan(FoV/2)."""
        return (self.resolution / 2.0) / math.tan(math.radians(self.fov) / 2.0)

    def intrinsics(self) -> np.ndarray:
        """3×3 pinhole matrix K (pixels)."""
        f, c = self.focal(), self.resolution / 2.0
        return np.array([[f, 0.0, c], [0.0, f, c], [0.0, 0.0, 1.0]])

    def view_matrix(self) -> np.ndarray:
        """World → OpenGL camera (inverse of :meth:`c2w_opengl`)."""
        return np.linalg.inv(self.c2w_opengl())

    def projection_matrix(self) -> np.ndarray:
        """OpenGL perspective projection for this FoV, a square image and near/far planes."""
        t = 1.0 / math.tan(math.radians(self.fov) / 2.0)
        n, f = self.near, self.far
        return np.array([
            [t, 0, 0, 0],
            [0, t, 0, 0],
            [0, 0, (f + n) / (n - f), 2 * f * n / (n - f)],
            [0, 0, -1, 0],
        ])

    def to_json(self, index: int, file: str | None = None) -> dict:
        """The per-view record of ``cameras.json``."""
        k = self.intrinsics()
        return {
            "index": index,
            "file": file,
            "yaw": self.yaw,
            "pitch": self.pitch,
            "radius": self.radius,
            "fov": self.fov,
            "resolution": [self.resolution, self.resolution],
            "c2w": np.round(self.c2w(), 9).tolist(),
            "c2w_opengl": np.round(self.c2w_opengl(), 9).tolist(),
            "fx": k[0, 0], "fy": k[1, 1], "cx": k[0, 2], "cy": k[1, 2],
        }


def _ring(yaws: list[float], pitch: float, resolution: int) -> list[Camera]:
    return [Camera(yaw=y, pitch=pitch, radius=2.0, fov=40.0, resolution=resolution) for y in yaws]


def canonical4(resolution: int = 512, frames: int | None = None) -> list[Camera]:
    """Yaw 0/90/180/270°, pitch 30°, r 2, FoV 40° (the FD/KD views of GAP3D (Gkotsi et al., 2026), App. C)."""
    return _ring([0.0, 90.0, 180.0, 270.0], 30.0, resolution)


def clip8(resolution: int = 512, frames: int | None = None) -> list[Camera]:
    """Yaw every 45°, pitch 30°, r 2, FoV 40° (CLIP score)."""
    return _ring([45.0 * i for i in range(8)], 30.0, resolution)


def depth20(resolution: int = 512, frames: int | None = None) -> list[Camera]:
    """20 views on a Fibonacci sphere, r 2, FoV 40° (depth → points for FD_PointNet).

    View i has height z_i = 1 − (2i + 1)/20 (pitch = asin z_i) and yaw i·137.508°.
    """
    golden = math.degrees(math.pi * (3.0 - math.sqrt(5.0)))
    cams = []
    for i in range(20):
        z = 1.0 - (2 * i + 1) / 20.0
        cams.append(Camera(yaw=round((i * golden) % 360.0, 6), pitch=round(math.degrees(math.asin(z)), 6),
                           radius=2.0, fov=40.0, resolution=resolution))
    return cams


def turntable(resolution: int = 512, frames: int | None = None) -> list[Camera]:
    """``frames`` views (default 36) sweeping yaw 0 → 360°, pitch 30°, r 2, FoV 40°."""
    n = frames or 36
    return _ring([360.0 * i / n for i in range(n)], 30.0, resolution)


PROTOCOLS: dict[str, Callable[..., list[Camera]]] = {
    "canonical4": canonical4,
    "clip8": clip8,
    "depth20": depth20,
    "turntable": turntable,
}


def protocol_cameras(name: str, resolution: int = 512, frames: int | None = None) -> list[Camera]:
    """The cameras of protocol ``name`` at ``resolution`` (square images)."""
    if name not in PROTOCOLS:
        raise InputError(f"unknown view protocol {name!r} (known: {', '.join(PROTOCOLS)})")
    if not 8 <= resolution <= 4096:
        raise InputError(f"resolution {resolution}: must be between 8 and 4096 pixels")
    return PROTOCOLS[name](resolution=resolution, frames=frames)


def cameras_json(protocol: str, cameras: list[Camera], files: list[str] | None = None,
                 extra: dict | None = None) -> dict:
    """The document written as ``cameras.json`` beside every set of views."""
    return {
        "protocol": protocol,
        "world": "z-up, right-handed; assets normalized to [-0.5, 0.5]^3",
        "c2w_convention": "opencv (camera x right, y down, z forward)",
        "c2w_opengl_convention": "opengl (camera x right, y up, z backward)",
        "angles": "degrees; position = r*(sin(yaw)cos(pitch), cos(yaw)cos(pitch), sin(pitch))",
        "views": [cam.to_json(i, files[i] if files else None) for i, cam in enumerate(cameras)],
        **(extra or {}),
    }
