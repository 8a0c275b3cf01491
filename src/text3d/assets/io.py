"""Load and save assets as GLB / glTF, OBJ and PLY: GLB written by :mod:`text3d.assets.glb`, the rest by trimesh.

Axis convention (TRELLIS ``to_glb``): text3d is z-up; files on disk are y-up. Writing
applies ``v_file = v @ Y_UP`` with ``Y_UP = [[1,0,0],[0,0,-1],[0,1,0]]`` (row vectors, as
TRELLIS writes ``vertices @ M``), i.e. (x, y, z) → (x, z, −y); reading applies the
inverse ``v = v_file @ Y_UP.T``. Pass ``up="z"`` for files that are already z-up.

Colors: GLB ``COLOR_0`` and ``baseColorFactor`` are linear (glTF spec) and are kept linear;
OBJ/PLY vertex colors and all textures are sRGB and converted on the way in and out.

Every failure a user can cause becomes a one-line :class:`~text3d.errors.InputError` that
names the file: missing, empty, corrupt, not a mesh, no faces, NaN vertices, too large.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from text3d.assets.asset import Asset
from text3d.assets.color import linear_to_srgb, srgb_to_linear, to_uint8
from text3d.assets.glb import glb_bytes, png_bytes
from text3d.assets.probe import check_readable, max_faces_limit, probe_face_count
from text3d.errors import InputError, one_line
from text3d.store.atomic import write_atomic, write_bytes

log = logging.getLogger(__name__)

Y_UP = np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], dtype=np.float64)
"""Row-vector rotation from text3d's z-up frame to the y-up frame of GLB files."""

ROUGHNESS_ATTRIBUTE = "_ROUGHNESS"


def to_file_frame(points: np.ndarray, up: str = "y") -> np.ndarray:
    """z-up text3d coordinates → file coordinates (``up="y"``: v @ Y_UP)."""
    return points @ Y_UP if up == "y" else points


def from_file_frame(points: np.ndarray, up: str = "y") -> np.ndarray:
    """File coordinates → z-up text3d coordinates (``up="y"``: v @ Y_UPᵀ). Non-finite input
    passes through quietly: loading rejects it afterwards with a message naming the file."""
    if up != "y":
        return points
    with np.errstate(invalid="ignore"):
        return points @ Y_UP.T


# --------------------------------------------------------------------------- loading
def _visual_arrays(mesh, srgb_vertex_colors: bool) -> tuple[np.ndarray | None, np.ndarray | None,
                                                             np.ndarray | None, float, float]:
    """(linear RGBA vertex colors, uv, sRGB texture, roughness, metallic) of one trimesh mesh."""
    from trimesh.visual.texture import TextureVisuals

    visual = mesh.visual
    colors = uv = texture = None
    roughness, metallic = 0.8, 0.0
    factor = np.ones(4, np.float32)
    if isinstance(visual, TextureVisuals):
        material = visual.material
        rough = getattr(material, "roughnessFactor", None)
        metal = getattr(material, "metallicFactor", None)
        roughness = float(rough) if rough is not None else roughness
        metallic = float(metal) if metal is not None else metallic
        base = getattr(material, "baseColorFactor", None)
        if base is None:
            base = getattr(material, "diffuse", None)
        if base is not None:
            factor = np.asarray(base, np.float32) / (255.0 if np.asarray(base).dtype == np.uint8 else 1.0)
        image = getattr(material, "baseColorTexture", None) or getattr(material, "image", None)
        if image is not None and visual.uv is not None and len(visual.uv) == len(mesh.vertices):
            texture = np.asarray(image.convert("RGBA") if image.mode not in ("RGB", "RGBA") else image)
            uv = np.asarray(visual.uv, np.float32)[:, :2]
        attrs = getattr(visual, "vertex_attributes", {})
        if "color" in attrs and len(attrs["color"]) == len(mesh.vertices):
            colors = np.asarray(attrs["color"], np.float32) / 255.0
    elif visual.kind in ("vertex", "face"):
        colors = np.asarray(visual.vertex_colors, np.float32) / 255.0
    if colors is not None and srgb_vertex_colors:
        colors = np.concatenate([srgb_to_linear(colors[:, :3]), colors[:, 3:]], axis=1)
    if colors is not None or (texture is None and not np.allclose(factor, 1.0)):
        base_colors = colors if colors is not None else np.ones((len(mesh.vertices), 4), np.float32)
        colors = base_colors * factor[None, : base_colors.shape[1]]
    return colors, uv, texture, roughness, metallic


def _bake_texture(mesh, texture: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Sample an sRGB texture at each vertex's UV → linear RGBA vertex colors."""
    h, w = texture.shape[:2]
    u = np.clip(np.mod(uv[:, 0], 1.0) * (w - 1), 0, w - 1).round().astype(int)
    v = np.clip((1.0 - np.mod(uv[:, 1], 1.0)) * (h - 1), 0, h - 1).round().astype(int)
    texels = texture[v, u].astype(np.float32) / 255.0
    if texels.shape[1] == 3:
        texels = np.concatenate([texels, np.ones((len(texels), 1), np.float32)], axis=1)
    return np.concatenate([srgb_to_linear(texels[:, :3]), texels[:, 3:4]], axis=1)


def _scene_meshes(scene) -> list:
    """Every triangle mesh instance of a scene with its node transform applied.

    (``Scene.dump`` would do this but drops the visuals' vertex attributes, i.e. COLOR_0
    next to a material.)
    """
    import trimesh

    meshes = []
    for node in scene.graph.nodes_geometry:
        matrix, name = scene.graph[node]
        geometry = scene.geometry.get(name)
        if not isinstance(geometry, trimesh.Trimesh):
            continue
        mesh = geometry.copy()
        if geometry.visual is not None and hasattr(geometry.visual, "vertex_attributes"):
            for key, value in geometry.visual.vertex_attributes.items():
                mesh.visual.vertex_attributes[key] = np.asarray(value).copy()
        if not np.allclose(matrix, np.eye(4)):
            mesh.vertices = trimesh.transform_points(np.asarray(geometry.vertices), matrix)
        meshes.append(mesh)
    return meshes


def load_asset(path: str | Path, up: str = "y", max_faces: int | None = None) -> Asset:
    """Load a mesh file as a validated :class:`Asset` in text3d's z-up frame.

    Multiple meshes in a scene are merged with their node transforms applied. A single
    textured mesh keeps its UV texture; several textured meshes are baked to vertex colors.
    """
    import trimesh

    path = Path(path)
    check_readable(path)
    limit = max_faces if max_faces is not None else max_faces_limit()
    estimate = probe_face_count(path)
    if estimate is not None and estimate > limit:
        raise InputError(f"{path}: mesh has {estimate:,} faces, more than the limit of {limit:,} "
                         "(set TEXT3D_MAX_FACES to raise it)")
    try:
        scene = trimesh.load(str(path), force="scene", process=False)
        meshes = _scene_meshes(scene)
    except InputError:
        raise
    except IndexError:  # trimesh indexes the vertex array with the faces as written
        raise InputError(f"{path}: corrupt {path.suffix.lstrip('.').upper()} file (a face names a vertex "
                         "the file does not have)") from None
    except Exception as exc:  # trimesh raises many types on malformed input
        if isinstance(exc, ValueError) and "escapes resolver root" in str(exc):  # "../" or absolute URIs
            raise InputError(f"{path}: a buffer or image URI points outside the file's folder; text3d reads "
                             "only files beside it") from None
        raise InputError(f"{path}: corrupt or unreadable {path.suffix.lstrip('.').upper()} file "
                         f"({one_line(type(exc).__name__ + ': ' + str(exc), 120)})") from None
    meshes = [m for m in meshes if len(m.faces) > 0]
    if not meshes:
        raise InputError(f"{path}: file contains no mesh with faces")
    total = sum(len(m.faces) for m in meshes)
    if total > limit:
        raise InputError(f"{path}: mesh has {total:,} faces, more than the limit of {limit:,}")

    srgb = path.suffix.lower() not in (".glb", ".gltf")
    parts = []
    for mesh in meshes:
        colors, uv, texture, roughness, metallic = _visual_arrays(mesh, srgb_vertex_colors=srgb)
        rough_attr = mesh.vertex_attributes.get(ROUGHNESS_ATTRIBUTE)
        parts.append((mesh, colors, uv, texture, roughness, metallic, rough_attr))

    if len(parts) == 1 and parts[0][3] is not None:
        mesh, colors, uv, texture, roughness, metallic, rough_attr = parts[0]
        asset = Asset(vertices=np.asarray(mesh.vertices), faces=np.asarray(mesh.faces), vertex_colors=colors,
                      uv=uv, texture=texture, roughness=roughness, metallic=metallic,
                      vertex_roughness=rough_attr)
    else:
        pieces = []
        for mesh, colors, uv, texture, roughness, metallic, rough_attr in parts:
            if texture is not None:
                baked = _bake_texture(mesh, texture, uv)
                colors = baked if colors is None else colors * baked
            pieces.append(Asset(vertices=np.asarray(mesh.vertices), faces=np.asarray(mesh.faces),
                                vertex_colors=colors, roughness=roughness, metallic=metallic,
                                vertex_roughness=rough_attr))
        asset = pieces[0] if len(pieces) == 1 else Asset.concatenate(pieces)
        if all(p[1] is None and p[3] is None for p in parts):
            asset.vertex_colors = None
    asset.vertices = from_file_frame(asset.vertices.astype(np.float64), up).astype(np.float32)
    asset.metadata["source"] = str(path)
    asset = asset.validate(str(path))
    _check_surface(asset, path)
    return asset


def _check_surface(asset: Asset, path: Path) -> None:
    """Refuse a mesh without surface: every face of zero area renders as an empty image."""
    v = asset.vertices.astype(np.float64)
    f = asset.faces
    doubled = np.linalg.norm(np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]]), axis=1)  # 2·area
    if not np.any(doubled > 1e-12 * max(1.0, float(np.abs(v).max()) ** 2)):
        raise InputError(f"{path}: mesh has no surface (all {len(f):,} faces have zero area)")


# --------------------------------------------------------------------------- saving
def _trimesh_for_export(asset: Asset, up: str, linear_colors: bool):
    import trimesh
    from PIL import Image
    from trimesh.visual.material import PBRMaterial
    from trimesh.visual.texture import TextureVisuals

    vertices = to_file_frame(asset.vertices.astype(np.float64), up)
    mesh = trimesh.Trimesh(vertices, asset.faces, process=False)
    if asset.vertex_normals is not None:
        mesh.vertex_normals = to_file_frame(asset.vertex_normals.astype(np.float64), up)
    colors = None
    if asset.vertex_colors is not None:
        rgba = asset.vertex_colors
        if not linear_colors:
            rgba = np.concatenate([linear_to_srgb(rgba[:, :3]), rgba[:, 3:4]], axis=1)
        colors = to_uint8(rgba)
    image = Image.fromarray(asset.texture) if asset.is_textured else None
    material = PBRMaterial(
        name="text3d",
        baseColorFactor=[255, 255, 255, 255],
        baseColorTexture=image,
        metallicFactor=float(asset.metallic),
        roughnessFactor=float(asset.roughness),
        doubleSided=False,
    )
    visual = TextureVisuals(uv=asset.uv if asset.is_textured else None, material=material)
    if colors is not None:
        visual.vertex_attributes["color"] = colors
    mesh.visual = visual
    if asset.vertex_roughness is not None:
        mesh.vertex_attributes[ROUGHNESS_ATTRIBUTE] = asset.vertex_roughness.astype(np.float32)
    return mesh


def asset_to_glb_bytes(asset: Asset, up: str = "y") -> bytes:
    """Serialize an asset as GLB bytes (y-up, linear COLOR_0, non-metallic PBR material)."""
    extras = {k: v for k, v in asset.metadata.items() if isinstance(v, (str, int, float, bool))}
    return glb_bytes(
        to_file_frame(asset.vertices.astype(np.float64), up), asset.faces,
        normals=None if asset.vertex_normals is None else to_file_frame(asset.vertex_normals.astype(np.float64), up),
        colors=None if asset.vertex_colors is None else to_uint8(asset.vertex_colors),
        uv=asset.uv if asset.is_textured else None,
        texture_png=png_bytes(asset.texture) if asset.is_textured else None,
        roughness_attribute=None if asset.vertex_roughness is None else (ROUGHNESS_ATTRIBUTE, asset.vertex_roughness),
        roughness=asset.roughness, metallic=asset.metallic, extras=extras or None)


def save_asset(asset: Asset, path: str | Path, up: str = "y") -> Path:
    """Atomically write ``asset`` to ``path``; the suffix picks GLB, OBJ or PLY."""
    path = Path(path)
    asset.validate(str(path))
    suffix = path.suffix.lower()
    if suffix == ".glb":
        return write_bytes(path, asset_to_glb_bytes(asset, up))
    import trimesh  # OBJ and PLY go through trimesh's exporters

    if suffix == ".ply":
        mesh = trimesh.Trimesh(to_file_frame(asset.vertices.astype(np.float64), up), asset.faces, process=False)
        colors = asset.vertex_colors
        if colors is None and asset.is_textured:
            colors = _bake_texture(mesh, asset.texture, asset.uv)
        if colors is not None:
            mesh.visual.vertex_colors = to_uint8(
                np.concatenate([linear_to_srgb(colors[:, :3]), colors[:, 3:4]], axis=1))
        data = trimesh.exchange.ply.export_ply(mesh, encoding="binary")
        return write_bytes(path, data)
    if suffix == ".obj":
        mesh = _trimesh_for_export(asset, up, linear_colors=False)
        if not asset.is_textured:
            mesh.visual = trimesh.visual.ColorVisuals(
                mesh, vertex_colors=mesh.visual.vertex_attributes.get("color"))
            text = trimesh.exchange.obj.export_obj(mesh, include_color=asset.vertex_colors is not None,
                                                   include_texture=False, header="text3d")
            return write_bytes(path, text.encode("utf-8"))
        stem = path.stem
        text, files = trimesh.exchange.obj.export_obj(mesh, include_texture=True, return_texture=True,
                                                      mtl_name=f"{stem}.mtl", header="text3d")
        for name, blob in files.items():
            write_bytes(path.parent / name, blob)
        return write_atomic(path, lambda f: f.write(text.encode("utf-8")))
    raise InputError(f"{path}: cannot save as {suffix!r} (use .glb, .obj or .ply)")
