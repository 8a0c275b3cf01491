"""Render a protocol's views of an asset into a folder (the views part of the asset-folder
contract): ``000.png, 001.png, …`` in protocol order, ``cameras.json``, and on request
``depth/NNN.png`` (uint16, world units × ``DEPTH_SCALE``, 0 = background),
``normals/NNN.png`` (world normals, rgb = (n + 1)/2 · 255) and ``mask/NNN.png``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from text3d.assets.asset import Asset
from text3d.render.cameras import cameras_json, protocol_cameras
from text3d.store.atomic import write_json, write_png

DEPTH_SCALE = 10000.0
"""Depth PNGs store round(depth · 10000): 0.1 mm steps, up to 6.5535 world units."""


def encode_depth(depth: np.ndarray) -> np.ndarray:
    """float depth (world units, 0 = none) → uint16 PNG values."""
    return np.clip(np.rint(depth * DEPTH_SCALE), 0, 65535).astype(np.uint16)


def decode_depth(values: np.ndarray) -> np.ndarray:
    """uint16 PNG values → float32 depth in world units (0 = background)."""
    return values.astype(np.float32) / DEPTH_SCALE


def render_views(asset: Asset, out_dir: str | Path, protocol: str = "canonical4", resolution: int = 512,
                 background: str = "white", depth: bool = False, normals: bool = False,
                 mask: bool = False, frames: int | None = None, antialias: bool = False) -> dict:
    """Render ``protocol`` views of ``asset`` into ``out_dir``; returns the cameras.json document."""
    from text3d.render.renderer import render

    out = Path(out_dir)
    cameras = protocol_cameras(protocol, resolution, frames=frames)
    result = render(asset, cameras, background=background, depth=depth, normals=normals, antialias=antialias)
    files = [f"{i:03d}.png" for i in range(len(cameras))]
    for i, name in enumerate(files):
        write_png(out / name, result.rgb[i])
        if depth:
            write_png(out / "depth" / name, encode_depth(result.depth[i]))
        if normals:
            encoded = np.rint((result.normals[i] + 1.0) * 127.5)
            write_png(out / "normals" / name, np.where(result.mask[i][..., None], encoded, 0).astype(np.uint8))
        if mask:
            write_png(out / "mask" / name, result.mask[i].astype(np.uint8) * 255)
    extra = {"background": background}
    if depth:
        extra["depth_scale"] = DEPTH_SCALE
    document = cameras_json(protocol, cameras, files, extra)
    write_json(out / "cameras.json", document)
    return document
