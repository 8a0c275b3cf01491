"""What a mesh file is before trimesh reads it: size, format and face count from its header.

A file that cannot give a mesh (missing, empty, an unsupported suffix, binary data named as a
text format, an STL whose size does not match its header, a glTF whose buffers are missing)
is refused here with a one-line :class:`~text3d.errors.InputError` naming it, before any
parser runs.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

from text3d.errors import InputError

MESH_SUFFIXES = (".glb", ".gltf", ".obj", ".ply", ".stl", ".off")
DEFAULT_MAX_FACES = 2_000_000


def max_faces_limit() -> int:
    """Largest face count text3d accepts (``TEXT3D_MAX_FACES``, default 2,000,000)."""
    return int(os.environ.get("TEXT3D_MAX_FACES", DEFAULT_MAX_FACES))


def _glb_json(head: bytes, path: Path) -> dict:
    if len(head) < 20 or head[:4] != b"glTF":
        raise InputError(f"{path}: not a GLB file (bad magic bytes)")
    chunk_len, chunk_type = struct.unpack_from("<II", head, 12)
    if chunk_type != 0x4E4F534A:
        raise InputError(f"{path}: corrupt GLB (first chunk is not JSON)")
    with path.open("rb") as handle:
        handle.seek(20)
        raw = handle.read(chunk_len)
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InputError(f"{path}: corrupt GLB (unreadable JSON chunk)") from None


def _gltf_face_count(tree: dict) -> int:
    accessors = tree.get("accessors", [])
    total = 0
    for mesh in tree.get("meshes", []):
        for prim in mesh.get("primitives", []):
            if prim.get("mode", 4) != 4:
                continue
            index = prim.get("indices", prim.get("attributes", {}).get("POSITION"))
            if isinstance(index, int) and 0 <= index < len(accessors):
                total += int(accessors[index].get("count", 0)) // 3
    return total


_TEXT_FORMATS = (".obj", ".off", ".gltf")


def _check_text(path: Path, head: bytes) -> None:
    """Refuse binary data named as a text format (random bytes in ``.obj``), before a parser
    guesses an encoding."""
    if b"\x00" in head:
        raise InputError(f"{path}: not a text {path.suffix.lstrip('.').upper()} file (binary data)")
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in head)
    if head and printable / len(head) < 0.9:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"{path}: not a text {path.suffix.lstrip('.').upper()} file "
                             "(mostly non-text bytes)") from None


def _check_gltf(path: Path) -> None:
    """A .gltf is JSON whose external buffers and images must exist beside it."""
    try:
        tree = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise InputError(f"{path}: not a glTF file (not valid JSON)") from None
    if not isinstance(tree, dict) or "asset" not in tree:
        raise InputError(f"{path}: not a glTF file (no 'asset' object)")
    for key in ("buffers", "images"):
        for entry in tree.get(key, []) or []:
            uri = entry.get("uri") if isinstance(entry, dict) else None
            if isinstance(uri, str) and not uri.startswith("data:") and not (path.parent / uri).is_file():
                raise InputError(f"{path}: refers to {key[:-1]} file {uri!r}, which is missing "
                                 "(keep it beside the .gltf, or export a .glb)")


def _check_stl(path: Path, head: bytes) -> int | None:
    """Face count of a binary STL whose size matches its header (84 + 50·n bytes)."""
    if head.lstrip().startswith(b"solid"):
        try:
            head.decode("ascii")
            return None  # ASCII STL
        except UnicodeDecodeError:
            pass  # binary STLs may start with "solid" too
    if len(head) < 84:
        raise InputError(f"{path}: not an STL file (shorter than an 84-byte binary header)")
    declared = int(struct.unpack_from("<I", head, 80)[0])
    size = path.stat().st_size
    if size != 84 + 50 * declared:
        raise InputError(f"{path}: not a binary STL file (its header declares {declared:,} faces, "
                         f"which need {84 + 50 * declared:,} bytes; the file has {size:,})")
    return declared


def probe_face_count(path: Path) -> int | None:
    """Estimate the face count from the file header without loading the mesh.

    Returns ``None`` when the format gives no cheap answer. Raises :class:`InputError` for
    files that are visibly not of their format.
    """
    suffix = path.suffix.lower()
    with path.open("rb") as handle:
        head = handle.read(4096)
    if suffix in _TEXT_FORMATS:
        _check_text(path, head)
    if suffix == ".gltf":
        _check_gltf(path)
    if suffix == ".stl":
        return _check_stl(path, head)
    if suffix == ".glb":
        return _gltf_face_count(_glb_json(head, path))
    if suffix == ".ply":
        if not head.startswith(b"ply"):
            raise InputError(f"{path}: not a PLY file (missing 'ply' header)")
        for line in head.split(b"\n"):
            parts = line.split()
            if len(parts) == 3 and parts[0] == b"element" and parts[1] == b"face":
                return int(parts[2])
            if line.strip() == b"end_header":
                break
        return 0
    if suffix == ".obj":
        count = 0
        with path.open("rb") as handle:
            previous = b"\n"
            while chunk := handle.read(1 << 22):
                count += (previous[-1:] + chunk).count(b"\nf ")
                previous = chunk
        return count + (1 if head.startswith(b"f ") else 0)
    return None


def check_readable(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a mesh file")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
    if path.suffix.lower() not in MESH_SUFFIXES:
        raise InputError(f"{path}: unsupported mesh format {path.suffix!r} (use {', '.join(MESH_SUFFIXES)})")


