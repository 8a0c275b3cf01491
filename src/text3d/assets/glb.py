"""Write an :class:`Asset` as binary glTF 2.0 (GLB) with numpy and the standard library.

The layout is the one trimesh's exporter writes for the same asset, so trimesh, three.js
and Blender read it alike: one scene → one node "asset" → one mesh with one triangle
primitive; ``indices`` uint32, ``POSITION``/``NORMAL`` float32 VEC3, ``COLOR_0`` uint8
normalized VEC4 (linear, as glTF defines it), ``TEXCOORD_0`` float32 VEC2 with v flipped
(glTF's origin is the image's top-left), ``_ROUGHNESS`` float32 SCALAR (an application
attribute, glTF §3.7.2.1), and a non-metallic PBR material named "text3d" with the
texture as a PNG in the binary chunk.

Writing it here keeps trimesh (and the scipy and networkx it imports, ~0.5 s) off the
cold ``text3d generate`` path; reading still goes through trimesh.
"""

from __future__ import annotations

import io
import json
import struct

import numpy as np

GLB_MAGIC = 0x46546C67  # "glTF"
CHUNK_JSON = 0x4E4F534A  # "JSON"
CHUNK_BIN = 0x004E4942  # "BIN\0"
UNSIGNED_BYTE, UNSIGNED_INT, FLOAT = 5121, 5125, 5126
TRIANGLES = 4


def _pad(data: bytes, fill: bytes = b"\0") -> bytes:
    """``data`` padded to a multiple of 4 bytes (glTF aligns every chunk and buffer view)."""
    return data + fill * (-len(data) % 4)


class _Buffer:
    """The binary chunk under construction: buffer views and accessors appended in order."""

    def __init__(self) -> None:
        self.blobs: list[bytes] = []
        self.length = 0
        self.views: list[dict] = []
        self.accessors: list[dict] = []

    def view(self, data: bytes) -> int:
        self.views.append({"buffer": 0, "byteOffset": self.length, "byteLength": len(data)})
        padded = _pad(data)
        self.blobs.append(padded)
        self.length += len(padded)
        return len(self.views) - 1

    def accessor(self, array: np.ndarray, kind: str, normalized: bool = False) -> int:
        """Add ``array`` (N,) or (N, C) as an accessor of glTF ``kind``; min/max per component."""
        component = {np.dtype(np.uint8): UNSIGNED_BYTE, np.dtype(np.uint32): UNSIGNED_INT,
                     np.dtype(np.float32): FLOAT}[array.dtype]
        columns = array.reshape(len(array), -1)
        entry = {"bufferView": self.view(np.ascontiguousarray(array).tobytes()), "byteOffset": 0,
                 "componentType": component, "count": int(len(array)), "type": kind,
                 "max": columns.max(axis=0).tolist(), "min": columns.min(axis=0).tolist()}
        if normalized:
            entry["normalized"] = True
        self.accessors.append(entry)
        return len(self.accessors) - 1


def glb_bytes(positions: np.ndarray, faces: np.ndarray, *, normals: np.ndarray | None = None,
              colors: np.ndarray | None = None, uv: np.ndarray | None = None,
              texture_png: bytes | None = None, roughness_attribute: tuple[str, np.ndarray] | None = None,
              roughness: float = 0.8, metallic: float = 0.0, extras: dict | None = None) -> bytes:
    """GLB bytes of one triangle mesh already in the file's frame.

    ``positions``/``normals`` (V, 3), ``faces`` (F, 3), ``colors`` (V, 4) uint8 linear RGBA,
    ``uv`` (V, 2) with v up (flipped here), ``texture_png`` the base-colour image.
    """
    buffer = _Buffer()
    attributes: dict[str, int] = {}
    indices = buffer.accessor(np.asarray(faces, np.uint32).reshape(-1), "SCALAR")
    attributes["POSITION"] = buffer.accessor(np.asarray(positions, np.float32), "VEC3")
    if colors is not None:
        attributes["COLOR_0"] = buffer.accessor(np.asarray(colors, np.uint8), "VEC4", normalized=True)
    if normals is not None:
        attributes["NORMAL"] = buffer.accessor(np.asarray(normals, np.float32), "VEC3")
    if uv is not None:
        flipped = np.asarray(uv, np.float32).copy()
        flipped[:, 1] = 1.0 - flipped[:, 1]
        attributes["TEXCOORD_0"] = buffer.accessor(flipped, "VEC2")
    if roughness_attribute is not None:
        name, values = roughness_attribute
        attributes[name] = buffer.accessor(np.asarray(values, np.float32), "SCALAR")
    pbr: dict = {"baseColorFactor": [1.0, 1.0, 1.0, 1.0], "roughnessFactor": float(roughness),
                 "metallicFactor": float(metallic)}
    tree: dict = {"asset": {"version": "2.0", "generator": "text3d"}, "scene": 0,
                  "scenes": [{"nodes": [0]}], "nodes": [{"name": "asset", "mesh": 0}],
                  "meshes": [{"name": "asset", "primitives": [
                      {"attributes": attributes, "indices": indices, "mode": TRIANGLES, "material": 0}]}],
                  "materials": [{"name": "text3d", "pbrMetallicRoughness": pbr, "doubleSided": False}]}
    if texture_png is not None:
        tree["images"] = [{"bufferView": buffer.view(texture_png), "mimeType": "image/png"}]
        tree["samplers"] = [{}]
        tree["textures"] = [{"source": 0, "sampler": 0}]
        pbr["baseColorTexture"] = {"index": 0, "texCoord": 0}
    if extras:
        tree["asset"]["extras"] = extras
    tree["accessors"], tree["bufferViews"] = buffer.accessors, buffer.views
    tree["buffers"] = [{"byteLength": buffer.length}]
    header_json = _pad(json.dumps(tree, separators=(",", ":")).encode("utf-8"), b" ")
    binary = b"".join(buffer.blobs)
    total = 12 + 8 + len(header_json) + 8 + len(binary)
    return b"".join([struct.pack("<III", GLB_MAGIC, 2, total),
                     struct.pack("<II", len(header_json), CHUNK_JSON), header_json,
                     struct.pack("<II", len(binary), CHUNK_BIN), binary])


def png_bytes(image: np.ndarray) -> bytes:
    """PNG bytes of a uint8 image (H, W, 3|4)."""
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(np.asarray(image, np.uint8)).save(out, format="PNG")
    return out.getvalue()
