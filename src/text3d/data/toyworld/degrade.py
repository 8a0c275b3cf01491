"""Controlled degradations with a known dimension and level: the training data of the
multidimensional evaluator (MATE-3D's HyperScore, Zhang et al., 2024).

Each degradation lowers exactly one quality dimension by a known amount. Levels are on
MATE-3D's 0–10 scale (10 = flawless); the overall level is the mean of the other three.

* geometry (pure functions on :class:`~text3d.assets.asset.Asset`, strength s ∈ [0, 1]):
  surface noise (a smooth random displacement field of amplitude 0.03·s unit-cube lengths),
  holes (faces inside random balls removed, ≈ 45 %·s of the area), blobbing (the surface
  splatted onto an R³ grid, R = 20 − 14·s, blurred and re-meshed); level = 10 − 8·s.
* texture (pure functions on Asset, strength s): washed out (colors blended towards a pale
  grey by 0.85·s), shuffled (a fraction s of vertex colors permuted among the vertices);
  level = 10 − 8·s.
* alignment (on a toyworld instance, because they need its semantics): another category's
  shape (level 1), a wrong main color (level 4), a missing part (level 7).

Every function is deterministic given its ``rng`` and never modifies its input.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from text3d.assets.asset import Asset
from text3d.assets.normals import crease_normals
from text3d.assets.voxels import VoxelGrid
from text3d.errors import InputError

if TYPE_CHECKING:
    from text3d.data.toyworld.instance import Instance

DIMENSIONS = ("alignment", "geometry", "texture", "overall")
"""The evaluator's quality dimensions, in output order."""
PERFECT = 10.0
ALIGNMENT_LEVELS = {"category": 1.0, "color": 4.0, "part": 7.0}
"""Alignment level of each alignment degradation (other category, wrong main color, missing part)."""
NOISE_AMPLITUDE = 0.03
"""Largest surface-noise displacement scale, in unit-cube lengths."""
SUBDIVIDE_FACES = 4000
"""Meshes are split (midpoint subdivision) until they have at least this many faces, so noise
and holes are smooth at 64-px renders even on boxes of 12 triangles."""


@dataclass(frozen=True)
class Levels:
    """True quality levels (0–10) of one degraded asset."""

    alignment: float = PERFECT
    geometry: float = PERFECT
    texture: float = PERFECT

    @property
    def overall(self) -> float:
        """(alignment + geometry + texture) / 3."""
        return (self.alignment + self.geometry + self.texture) / 3.0

    def as_array(self) -> np.ndarray:
        """[alignment, geometry, texture, overall] float32 (the order of :data:`DIMENSIONS`)."""
        return np.array([self.alignment, self.geometry, self.texture, self.overall], np.float32)


def strength_level(strength: float) -> float:
    """Level of a geometry or texture degradation of strength s: 10 − 8·s."""
    return PERFECT - 8.0 * float(strength)


def _check_strength(strength: float) -> float:
    if not 0.0 <= strength <= 1.0:
        raise InputError(f"degradation strength {strength}: outside [0, 1]")
    return float(strength)


def _colors(asset: Asset) -> np.ndarray:
    if asset.vertex_colors is None:
        return np.ones((asset.n_vertices, 4), np.float32)
    return asset.vertex_colors


def subdivide(asset: Asset, min_faces: int = SUBDIVIDE_FACES) -> Asset:
    """Midpoint subdivision (each triangle → 4) until ≥ ``min_faces`` faces; colors, roughness
    and normals of new vertices are the means of the edge's ends."""
    v, f = asset.vertices.astype(np.float64), asset.faces.astype(np.int64)
    attrs = _attributes(asset)
    while 0 < len(f) < min_faces:
        edges = np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1)  # (3F, 2)
        unique, inverse = np.unique(edges, axis=0, return_inverse=True)
        mid = len(v) + inverse.reshape(3, -1)  # (3, F): new vertex of edges 01, 12, 20
        v = np.concatenate([v, v[unique].mean(axis=1)])
        attrs = {k: np.concatenate([a, a[unique].mean(axis=1)]) for k, a in attrs.items()}
        a, b, c = f[:, 0], f[:, 1], f[:, 2]
        m01, m12, m20 = mid
        f = np.concatenate([np.stack([a, m01, m20], 1), np.stack([m01, b, m12], 1),
                            np.stack([m20, m12, c], 1), np.stack([m01, m12, m20], 1)])
    if "n" not in attrs:
        return _with_normals(asset, v, f, attrs)
    normals = attrs["n"] / np.maximum(np.linalg.norm(attrs["n"], axis=1, keepdims=True), 1e-12)
    rough = attrs["r"][:, 0] if "r" in attrs else None
    return Asset(vertices=v, faces=f, vertex_normals=normals, vertex_colors=attrs["c"], vertex_roughness=rough,
                 roughness=asset.roughness, metadata=dict(asset.metadata))


def _attributes(asset: Asset) -> dict[str, np.ndarray]:
    """Per-vertex arrays carried through subdivision: colors "c", roughness "r", normals "n"."""
    attrs = {"c": _colors(asset).astype(np.float64)}
    if asset.vertex_roughness is not None:
        attrs["r"] = asset.vertex_roughness[:, None].astype(np.float64)
    if asset.vertex_normals is not None:
        attrs["n"] = asset.vertex_normals.astype(np.float64)
    return attrs


def _with_normals(asset: Asset, v: np.ndarray, f: np.ndarray, attrs: dict[str, np.ndarray]) -> Asset:
    """An Asset of (v, f) with crease normals; per-vertex ``attrs`` carried through the splits."""
    v2, f2, n2, source = crease_normals(v, f, 35.0)
    rough = attrs["r"][source, 0] if "r" in attrs else None
    return Asset(vertices=v2, faces=f2, vertex_normals=n2, vertex_colors=attrs["c"][source],
                 vertex_roughness=rough, roughness=asset.roughness, metadata=dict(asset.metadata))


def _smooth_field(points: np.ndarray, rng: np.random.Generator, waves: int = 12) -> np.ndarray:
    """A random smooth vector field at ``points`` (N, 3) → (N, 3), values in about [-1, 1]:
    Σ_k u_k·sin(ω_k·p + φ_k)/√K with |ω_k| ∈ [18, 40] rad per unit length."""
    directions = rng.normal(size=(waves, 3))
    omega = directions / np.linalg.norm(directions, axis=1, keepdims=True) * rng.uniform(18, 40, (waves, 1))
    phase = rng.uniform(0, 2 * np.pi, waves)
    amplitude = rng.normal(size=(waves, 3))
    return np.sin(points @ omega.T + phase) @ amplitude / np.sqrt(waves)


def surface_noise(asset: Asset, strength: float, rng: np.random.Generator) -> Asset:
    """Geometry: every vertex moved by 0.03·s·g(v), g a smooth random field (coincident vertices
    move together, so no cracks open); normals recomputed."""
    s = _check_strength(strength)
    dense = subdivide(asset)
    v = dense.vertices.astype(np.float64)
    moved = v + NOISE_AMPLITUDE * s * _smooth_field(v, rng)
    attrs = {k: a for k, a in _attributes(dense).items() if k != "n"}
    return _with_normals(dense, moved, dense.faces.astype(np.int64), attrs)


def holes(asset: Asset, strength: float, rng: np.random.Generator) -> Asset:
    """Geometry: faces whose centroid lies in 1–4 random balls around surface points removed,
    the radius grown until ≈ 0.45·s of the surface area is gone (at least one face kept)."""
    s = _check_strength(strength)
    dense = subdivide(asset)
    tri = dense.vertices[dense.faces]
    centroid = tri.mean(axis=1)
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    centers = centroid[rng.choice(len(centroid), size=int(rng.integers(1, 5)), p=area / area.sum())]
    distance = np.linalg.norm(centroid[:, None] - centers[None], axis=2).min(axis=1)  # (F,)
    order = np.argsort(distance)
    removed = np.cumsum(area[order]) <= 0.45 * s * area.sum()
    keep = np.ones(len(area), bool)
    keep[order[removed]] = False
    keep[order[-1]] = True
    out = dense.copy()
    out.faces = dense.faces[keep]
    return out


def _surface_samples(asset: Asset, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(points (count, 3), linear RGB (count, 3)) drawn uniformly by area from the surface."""
    tri = asset.vertices[asset.faces].astype(np.float64)
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    face = rng.choice(len(area), size=count, p=area / area.sum())
    u, w = rng.random((2, count))
    flip = u + w > 1
    u, w = np.where(flip, 1 - u, u), np.where(flip, 1 - w, w)
    bary = np.stack([1 - u - w, u, w], axis=1)  # (count, 3)
    points = np.einsum("nk,nkd->nd", bary, tri[face])
    colors = np.einsum("nk,nkd->nd", bary, _colors(asset)[asset.faces[face], :3].astype(np.float64))
    return points, colors


def blob(asset: Asset, strength: float, rng: np.random.Generator) -> Asset:
    """Geometry: the surface splatted onto an R³ grid (R = round(20 − 14·s)), holes filled,
    blurred (σ = 0.6 + 0.6·s voxels) and re-meshed by marching cubes; colors from the nearest
    splatted voxel. ``rng`` jitters the grid by up to half a voxel."""
    s = _check_strength(strength)
    r = int(round(20 - 14 * s))
    points, point_colors = _surface_samples(asset, 20000, rng)
    index = np.clip(np.floor((points + rng.uniform(-0.5, 0.5, 3) / r + 0.5) * r).astype(int), 0, r - 1)
    occupied = np.zeros((r, r, r), bool)
    occupied[tuple(index.T)] = True
    color_sum = np.zeros((r, r, r, 3))
    np.add.at(color_sum, tuple(index.T), point_colors)
    counts = np.zeros((r, r, r))
    np.add.at(counts, tuple(index.T), 1.0)
    colors = color_sum / np.maximum(counts, 1)[..., None]
    nearest = ndimage.distance_transform_edt(~occupied, return_distances=False, return_indices=True)
    colors = colors[tuple(nearest)]  # every voxel takes the color of its nearest occupied one
    solid = ndimage.binary_fill_holes(occupied).astype(np.float32)
    smooth = ndimage.gaussian_filter(solid, 0.6 + 0.6 * s)
    level = min(0.5, 0.5 * float(smooth.max()))
    grid = VoxelGrid(smooth, colors.astype(np.float32))
    try:
        out = grid.to_asset(level=level)
    except ValueError:  # nothing left to mesh: fall back to the heaviest noise
        return surface_noise(asset, 1.0, rng)
    out.metadata = dict(asset.metadata)
    return out


def washed_out(asset: Asset, strength: float, rng: np.random.Generator) -> Asset:
    """Texture: c' = (1 − 0.85·s)·c + 0.85·s·g, g a pale grey (linear 0.55–0.75, drawn by ``rng``)."""
    s = _check_strength(strength)
    out = asset.copy()
    colors = _colors(asset).copy()
    grey = rng.uniform(0.55, 0.75)
    colors[:, :3] = (1 - 0.85 * s) * colors[:, :3] + 0.85 * s * grey
    out.vertex_colors = colors
    return out


def shuffled(asset: Asset, strength: float, rng: np.random.Generator) -> Asset:
    """Texture: a fraction s of the vertices (of the subdivided mesh) trade colors at random, each
    with its RGB channels in a random order; a traded color that stays grey (max − min < 0.1) is
    replaced by a uniform random one, so single-colored and grey objects are scrambled too."""
    s = _check_strength(strength)
    out = subdivide(asset)
    colors = _colors(out).copy()
    chosen = np.flatnonzero(rng.random(len(colors)) < s)
    traded = colors[rng.permutation(chosen), :3]
    order = np.argsort(rng.random((len(chosen), 3)), axis=1)  # a random channel order per vertex
    traded = np.take_along_axis(traded, order, axis=1)
    grey = (traded.max(axis=1) - traded.min(axis=1)) < 0.1
    traded[grey] = rng.random((int(grey.sum()), 3))
    colors[chosen, :3] = traded
    out.vertex_colors = colors
    return out


ASSET_DEGRADATIONS: dict[str, tuple[str, Callable[[Asset, float, np.random.Generator], Asset]]] = {
    "noise": ("geometry", surface_noise),
    "holes": ("geometry", holes),
    "blob": ("geometry", blob),
    "washed": ("texture", washed_out),
    "shuffled": ("texture", shuffled),
}
"""name → (dimension, function(asset, strength, rng)) of the asset-level degradations."""


def degrade_asset(asset: Asset, name: str, strength: float, rng: np.random.Generator) -> tuple[Asset, Levels]:
    """Apply the asset degradation ``name`` at ``strength``; (degraded asset, its true levels)."""
    if name not in ASSET_DEGRADATIONS:
        raise InputError(f"degradation {name!r}: unknown (known: {', '.join(ASSET_DEGRADATIONS)})")
    dimension, function = ASSET_DEGRADATIONS[name]
    level = strength_level(strength)
    levels = Levels(geometry=level) if dimension == "geometry" else Levels(texture=level)
    return function(asset, strength, rng), levels


def states(text: str, name: str) -> bool:
    """Whether ``text`` names ``name`` (its last word, as a whole word, singular or plural)."""
    word = name.lower().split()[-1]
    return any(w in (word, word + "s", word + "es") for w in re.findall(r"[a-z]+", text.lower()))


def _stated_kind(instance: "Instance", kind: str, text: str, removable: list[str]) -> str:
    """``kind``, or the nearest one whose flaw ``text`` can show: a missing part must be a part the
    text names, a wrong main color needs the text to name that color; otherwise the other of the
    two, else another category."""
    color_stated = states(text, instance.obj.attributes["main_color"])
    order = {"part": ("part", "color"), "color": ("color", "part")}.get(kind, (kind,))
    for choice in order:
        if choice == "part" and removable or choice == "color" and color_stated:
            return choice
    return "category"


def misaligned(instance: "Instance", kind: str, rng: np.random.Generator,
               text: str | None = None) -> tuple[Asset, Levels, str]:
    """Alignment: the instance's scene built wrong in one named way; (asset, levels, what was done).

    ``kind``: "category" (another category's object, same main color), "color" (the same object
    in another main color) or "part" (one part other than the largest removed; an object with
    a single kind of part gets the wrong color instead). With ``text`` (the prompt the asset is
    judged against), the flaw is one the text states: only a part it names is removed, a wrong
    main color only when it names the color; otherwise the other of the two, else another
    category (alignment is agreement with the text: a ball without the stripe a prompt never
    mentions is still a faithful "orange ball").
    """
    from text3d.data.toyworld.instance import make_object, part_texts, side_by_side
    from text3d.data.toyworld.objects import ToyObject
    from text3d.data.toyworld.vocabulary import CATEGORY_NAMES, COLOR_NAMES, load_programs

    if kind not in ALIGNMENT_LEVELS:
        raise InputError(f"alignment degradation {kind!r}: unknown (known: {', '.join(ALIGNMENT_LEVELS)})")
    color = instance.obj.attributes["main_color"]
    names = [p.name for p in part_texts(instance.obj)]
    removable = names[1:]  # the largest part stays
    if text is not None:
        removable = [n for n in removable if states(text, n)]
        kind = _stated_kind(instance, kind, text, removable)
    elif kind == "part" and not removable:
        kind = "color"
    if kind == "category":
        others = [c for c in CATEGORY_NAMES if c != instance.category and c in load_programs()]
        other = others[int(rng.integers(len(others)))]
        return make_object(other, instance.seed, main=color).to_asset(), Levels(alignment=ALIGNMENT_LEVELS[kind]), \
            f"category:{other}"
    if kind == "color":
        wrong = [c for c in COLOR_NAMES if c != color]
        new_color = wrong[int(rng.integers(len(wrong)))]
        obj = make_object(instance.category, instance.seed, main=new_color)
        done = f"color:{new_color}"
    else:
        dropped = removable[int(rng.integers(len(removable)))]
        obj = ToyObject(instance.category, [p for p in instance.obj.parts if p.name != dropped],
                        dict(instance.obj.attributes))
        done = f"part:{dropped}"
    if instance.partner is not None:
        obj = ToyObject(instance.category, side_by_side(obj, instance.partner), dict(obj.attributes))
    return obj.to_asset(), Levels(alignment=ALIGNMENT_LEVELS[kind]), done
