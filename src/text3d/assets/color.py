"""Color-space conversions (pure functions).

text3d keeps colors *linear* in memory (vertex colors, voxel colors, shading) because
glTF's ``COLOR_0`` and all lighting math are linear; images (PNG, textures) are sRGB.
"""

from __future__ import annotations

import numpy as np


def srgb_to_linear(srgb: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] → linear in [0, 1] (IEC 61966-2-1).

    c ≤ 0.04045: c / 12.92, else ((c + 0.055) / 1.055)^2.4.
    """
    c = np.clip(np.asarray(srgb, dtype=np.float32), 0.0, 1.0)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear in [0, 1] → sRGB in [0, 1]; the inverse of :func:`srgb_to_linear`.

    c ≤ 0.0031308: 12.92·c, else 1.055·c^(1/2.4) − 0.055.
    """
    c = np.clip(np.asarray(linear, dtype=np.float32), 0.0, 1.0)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1.0 / 2.4) - 0.055).astype(np.float32)


def to_uint8(values: np.ndarray) -> np.ndarray:
    """[0, 1] floats → uint8 with rounding (0.5/255 maximum error)."""
    return np.clip(np.rint(np.asarray(values, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)


def hex_to_srgb(code: str) -> np.ndarray:
    """``"#1f77b4"`` → sRGB floats in [0, 1], shape (3,)."""
    text = code.lstrip("#")
    if len(text) != 6:
        raise ValueError(f"color {code!r} is not #rrggbb")
    return np.array([int(text[i : i + 2], 16) / 255.0 for i in (0, 2, 4)], dtype=np.float32)
