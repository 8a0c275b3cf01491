"""Render a protocol's views of an asset into a folder (the views part of the asset-folder
contract): ``000.png, 001.png, …`` in protocol order, ``cameras.json``, and on request
``depth/NNN.png`` (uint16, world units × ``DEPTH_SCALE``, 0 = background),
``normals/NNN.png`` (world normals, rgb = (n + 1)/2 · 255) and ``mask/NNN.png``.

Views rendered from a file record it in ``cameras.json`` (``asset``: its size in bytes and
blake2b-256 digest), so a later reader can tell whether the views still show that file
(:func:`reusable_views`).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import struct
from pathlib import Path

import numpy as np

from text3d.assets.asset import Asset
from text3d.errors import InputError
from text3d.render.cameras import Camera, cameras_json, protocol_cameras
from text3d.render.renderer import render
from text3d.store.atomic import write_atomic, write_json, write_png

log = logging.getLogger(__name__)

DEPTH_SCALE = 10000.0
"""Depth PNGs store round(depth · 10000): 0.1 mm steps, up to 6.5535 world units."""
ANGLE_TOLERANCE = 1e-6
"""Largest difference (degrees, world units) between a recorded camera and the protocol's."""


def encode_depth(depth: np.ndarray) -> np.ndarray:
    """float depth (world units, 0 = none) → uint16 PNG values."""
    return np.clip(np.rint(depth * DEPTH_SCALE), 0, 65535).astype(np.uint16)


def decode_depth(values: np.ndarray) -> np.ndarray:
    """uint16 PNG values → float32 depth in world units (0 = background)."""
    return values.astype(np.float32) / DEPTH_SCALE


def asset_record(path: str | Path) -> dict:
    """``{"bytes": size, "blake2b": hex digest}`` of an asset file (what views were rendered from)."""
    data = Path(path).read_bytes()
    return {"bytes": len(data), "blake2b": hashlib.blake2b(data, digest_size=32).hexdigest()}


def glb_is_whole(path: str | Path) -> bool:
    """True when a GLB's header and chunk table are consistent with its size (a cheap check
    that catches truncation and most corruption without loading the mesh).

    GLB layout: 12-byte header (magic ``glTF``, version 2, total length), then chunks of
    (length, type, data): a JSON chunk first, an optional BIN chunk; the JSON must parse and
    its buffer views must lie inside the BIN chunk.
    """
    try:
        data = Path(path).read_bytes()
        magic, version, length = struct.unpack_from("<4sII", data, 0)
        if magic != b"glTF" or version != 2 or length != len(data):
            return False
        json_length, json_type = struct.unpack_from("<II", data, 12)
        if json_type != 0x4E4F534A or 20 + json_length > length:
            return False
        document = json.loads(data[20:20 + json_length])
        offset, binary = 20 + json_length, 0
        if offset < length:
            binary, bin_type = struct.unpack_from("<II", data, offset)
            if bin_type != 0x004E4942 or offset + 8 + binary > length:
                return False
        return all(int(v.get("byteOffset", 0)) + int(v["byteLength"]) <= binary
                   for v in document.get("bufferViews", []) if v.get("buffer", 0) == 0)
    except (OSError, struct.error, ValueError, KeyError, TypeError, AttributeError):
        return False


def views_match(document: dict, protocol: str, resolution: int | None = None) -> bool:
    """True when a cameras.json document holds exactly ``protocol``'s cameras (yaw, pitch,
    radius, FoV within 1e-6, square images at ``resolution``, or any one size when None)."""
    views = document.get("views") or []
    if document.get("protocol") != protocol or not views:
        return False
    try:
        sizes = {tuple(v["resolution"]) for v in views}
        if len(sizes) != 1:
            return False
        size = sizes.pop()
        if size[0] != size[1] or (resolution is not None and size[0] != resolution):
            return False
        expected = protocol_cameras(protocol, int(size[0]), frames=len(views))
        if len(expected) != len(views):
            return False
        return all(abs(float(v[key]) - getattr(cam, key)) <= ANGLE_TOLERANCE
                   for v, cam in zip(views, expected) for key in ("yaw", "pitch", "radius", "fov"))
    except (KeyError, TypeError, ValueError, InputError):
        return False


def reusable_views(views_dir: str | Path, protocol: str, resolution: int | None = None,
                   asset_path: str | Path | None = None) -> list[Path] | None:
    """The view files in ``views_dir`` when they can stand for ``asset_path``, else None.

    Reused only when cameras.json holds the protocol's cameras (:func:`views_match`), every
    listed file exists, and the asset (if it exists) is the one they show: the recorded
    size and blake2b digest match, or, for views without a record, the GLB is whole
    (:func:`glb_is_whole`) and cameras.json is not older than it.
    """
    folder = Path(views_dir)
    try:
        document = json.loads((folder / "cameras.json").read_text())
    except (OSError, ValueError):
        return None
    if not views_match(document, protocol, resolution):
        return None
    files = [folder / str(v.get("file")) for v in document["views"]]
    if not all(f.is_file() for f in files):
        return None
    asset = Path(asset_path) if asset_path is not None else None
    if asset is None or not asset.exists():
        return files
    record = document.get("asset")
    if isinstance(record, dict):
        return files if record == asset_record(asset) else None
    if asset.suffix.lower() == ".glb" and not glb_is_whole(asset):
        return None
    return files if (folder / "cameras.json").stat().st_mtime_ns >= asset.stat().st_mtime_ns else None


def _png_bytes(image: np.ndarray) -> bytes:
    """PNG encoding of a uint8 (H, W[, C]) or uint16 (H, W) array, as :func:`write_png` writes it."""
    from PIL import Image

    array = np.ascontiguousarray(image)
    pil = Image.fromarray(array if array.dtype == np.uint16 else array.astype(np.uint8))
    buffer = io.BytesIO()
    pil.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def render_protocols(asset: Asset, out_dirs: dict[str, str | Path], resolution: int = 512,
                     background: str = "white", source: str | Path | None = None,
                     label: str = "asset") -> dict[str, dict]:
    """Render several protocols' views of one asset in one batched call: {protocol: cameras.json}.

    Cameras shared by protocols (canonical4's four are clip8's even views) are drawn once
    and their PNG written to each folder. Raises :class:`InputError` naming ``label`` when
    every view is blank (no visible face, e.g. a mesh whose faces all have zero area).
    """

    plans = {protocol: protocol_cameras(protocol, resolution) for protocol in out_dirs}
    unique: dict[Camera, int] = {}
    for cameras in plans.values():
        for camera in cameras:
            unique.setdefault(camera, len(unique))
    result = render(asset, list(unique), background=background)
    if not result.mask.any():
        raise InputError(f"{label}: every view is blank (no visible surface: are all faces of zero area?)")
    record = {"asset": asset_record(source)} if source is not None else {}
    encoded: dict[int, bytes] = {}
    documents = {}
    for protocol, cameras in plans.items():
        out = Path(out_dirs[protocol])
        files = [f"{i:03d}.png" for i in range(len(cameras))]
        for name, camera in zip(files, cameras):
            index = unique[camera]
            if index not in encoded:
                encoded[index] = _png_bytes(result.rgb[index])
            data = encoded[index]
            write_atomic(out / name, lambda handle, data=data: handle.write(data))
        documents[protocol] = cameras_json(protocol, cameras, files, {"background": background, **record})
        write_json(out / "cameras.json", documents[protocol])
    return documents


def render_views(asset: Asset, out_dir: str | Path, protocol: str = "canonical4", resolution: int = 512,
                 background: str = "white", depth: bool = False, normals: bool = False,
                 mask: bool = False, frames: int | None = None, antialias: bool = False,
                 source: str | Path | None = None) -> dict:
    """Render ``protocol`` views of ``asset`` into ``out_dir``; returns the cameras.json document.

    ``source``: the file ``asset`` was loaded from, recorded in cameras.json. Raises
    :class:`InputError` when every view is blank (no visible face).
    """

    out = Path(out_dir)
    cameras = protocol_cameras(protocol, resolution, frames=frames)
    result = render(asset, cameras, background=background, depth=depth, normals=normals, antialias=antialias)
    if not result.mask.any():
        raise InputError(f"{source or 'asset'}: every {protocol} view is blank "
                         "(no visible surface: are all faces of zero area?)")
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
    if source is not None:
        extra["asset"] = asset_record(source)
    document = cameras_json(protocol, cameras, files, extra)
    write_json(out / "cameras.json", document)
    return document
