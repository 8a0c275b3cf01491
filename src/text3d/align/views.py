"""Stage 2's view choice: the least occluded of a few candidate yaws.

GAP3D (Gkotsi et al., 2026), App. A.1.2, renders one view per asset for fine-tuning, chosen to
minimize occlusion: 5,000 points sampled uniformly on the mesh, rays cast from 4 cameras at yaw
0°, 90°, 180° and 270° to the points, and the camera that sees the most points wins.

Method: exact ray casting in numpy. A point P is visible from the eye E when no triangle
crosses the open segment P → E (Möller–Trumbore ray–triangle tests, vectorized over
(point, triangle) pairs and processed in chunks of :data:`PAIR_CHUNK` pairs so memory stays
bounded). Testing every triangle against every point costs 5,000 × F tests per camera
(≈ 1 s per camera for a 2,700-face toyworld mesh on one core), so candidates are culled first: an
occluder of P must cover P's projection on the camera's image plane, so triangles are binned
by their projected bounding boxes on a grid over the points' projections and each point is
tested only against the triangles of its own cell. Culling drops no true occluder, so the result
is the brute-force one (checked in tests/align/test_views.py against an independent brute-force
ray cast); a 2,700-face mesh takes tens of milliseconds per camera. The rasterizer's depth buffer
was not used: it would need a depth tolerance and a resolution, and the exact test is fast enough.

Conventions (``text3d.render.cameras``): a camera at (yaw, pitch, radius) sits at
``r · (sin yaw · cos pitch, cos yaw · cos pitch, sin pitch)`` (degrees) and looks at the origin,
+Z up; the defaults are the canonical4 protocol's pitch 30°, radius 2 and FoV 40°. Points
outside a camera's field of view still count when nothing hides them (assets lie in the unit
cube, which that camera sees whole).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from text3d.assets.asset import Asset
from text3d.errors import InputError
from text3d.limits import MAX_POINTS, MAX_RESOLUTION, MIN_RESOLUTION, check_range
from text3d.render.cameras import Camera

log = logging.getLogger(__name__)

CANDIDATE_YAWS = (0.0, 90.0, 180.0, 270.0)
"""The four yaws of GAP3D's App. A.1.2 (degrees)."""
N_POINTS = 5000
"""Surface points per asset (GAP3D App. A.1.2)."""
PAIR_CHUNK = 65_536
"""(point, triangle) pairs tested at once: ~10 float64 arrays of (PAIR_CHUNK, 3), about 16 MB."""
SELF_HIT = 1e-5
"""World units: a hit closer than this to the point is the point's own surface, not an occluder
(vertices are float32, ~1e-7 relative error on unit-cube assets)."""
_PARALLEL = 1e-14  # |det| below this: the ray runs parallel to the triangle's plane
_BEHIND = 1e-6  # camera-space z below this cannot be projected: fall back to testing every triangle


@dataclass(frozen=True)
class ViewChoice:
    """The chosen candidate and how much each candidate sees.

    ``visible[i]`` is the fraction of the sampled points visible from ``yaws[i]`` (degrees);
    ``index`` is the chosen position in ``yaws`` (the first of equal maxima).
    """

    yaw: float
    index: int
    camera: Camera
    yaws: tuple[float, ...]
    visible: tuple[float, ...]


def sample_surface(vertices: np.ndarray, faces: np.ndarray, n_points: int,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n_points`` points uniform by area on a triangle mesh.

    A triangle is drawn with probability area / total area, then a point inside it with
    barycentric weights (1 − √r₁, √r₁ (1 − r₂), √r₁ r₂), r₁, r₂ ~ U[0, 1). Returns points
    (n, 3) float64 and the index of each point's triangle (n,) int64.
    """
    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    tri = v[f]  # (F, 3 corners, 3)
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    total = float(area.sum())
    if not np.isfinite(total) or total <= 0:
        raise InputError("mesh has no surface area to sample points on")
    rng = np.random.default_rng(seed)
    owner = rng.choice(len(f), size=n_points, p=area / total)
    r1, r2 = rng.random(n_points), rng.random(n_points)
    s = np.sqrt(r1)
    w = np.stack([1.0 - s, s * (1.0 - r2), s * r2], axis=1)  # (n, 3) barycentric weights
    points = np.einsum("nk,nkd->nd", w, tri[owner])
    return points, owner.astype(np.int64)


def _segment_hits(origins: np.ndarray, targets: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Möller–Trumbore for pairs: does triangle ``tri[k]`` (K, 3, 3) cross the segment
    ``origins[k]`` → ``targets[k]`` (K, 3) at a distance in (SELF_HIT, |target − origin|)?"""
    d = targets - origins  # unnormalized: t ∈ (0, 1) spans the segment
    e1 = tri[:, 1] - tri[:, 0]
    e2 = tri[:, 2] - tri[:, 0]
    p = np.cross(d, e2)
    det = np.einsum("kd,kd->k", e1, p)
    ok = np.abs(det) > _PARALLEL
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    s = origins - tri[:, 0]
    u = np.einsum("kd,kd->k", s, p) * inv
    q = np.cross(s, e1)
    w = np.einsum("kd,kd->k", d, q) * inv
    t = np.einsum("kd,kd->k", e2, q) * inv
    t_min = SELF_HIT / np.linalg.norm(d, axis=1)
    return ok & (u >= 0.0) & (w >= 0.0) & (u + w <= 1.0) & (t > t_min) & (t < 1.0)


def _candidates(tri: np.ndarray, points: np.ndarray, eye: np.ndarray, grid: int | None,
                depth: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Triangles to test per point, as (triangle ids T, start (n,), count (n,)): point i is tested
    against ``T[start[i]:start[i] + count[i]]``. ``grid`` None: every triangle for every point.

    With ``depth``, a cell's triangles are ordered by their nearest vertex's depth along the view
    axis and each point keeps only those nearer than itself: every point of the segment P → eye
    lies nearer than P, so a triangle wholly at P's depth or beyond cannot cross it (about half of
    a closed surface's candidates, dropped without changing the answer)."""
    n, n_faces = len(points), len(tri)
    everything = (np.arange(n_faces), np.zeros(n, np.int64), np.full(n, n_faces, np.int64))
    if grid is None:
        return everything
    # camera frame with z along the view axis (eye → centroid of the points); any such frame works
    forward = points.mean(axis=0) - eye
    forward /= np.linalg.norm(forward)
    helper = np.array([0.0, 0.0, 1.0]) if abs(forward[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    right = np.cross(forward, helper)
    right /= np.linalg.norm(right)
    basis = np.stack([right, np.cross(forward, right), forward], axis=1)  # (3, 3) world → camera columns
    p_cam = (points - eye) @ basis
    t_cam = (tri - eye) @ basis  # (F, 3, 3)
    if p_cam[:, 2].min() < _BEHIND or t_cam[..., 2].min() < _BEHIND:
        log.debug("visibility: geometry at or behind the eye plane; testing every triangle")
        return everything
    p_xy = p_cam[:, :2] / p_cam[:, 2:]  # (n, 2) image-plane coordinates
    t_xy = t_cam[..., :2] / t_cam[..., 2:]  # (F, 3, 2)
    lo, hi = p_xy.min(axis=0), p_xy.max(axis=0)
    cell = np.maximum(hi - lo, 1e-12) / grid

    def index(xy: np.ndarray) -> np.ndarray:
        return np.clip(np.floor((xy - lo) / cell), 0, grid - 1).astype(np.int64)

    t_lo, t_hi = t_xy.min(axis=1), t_xy.max(axis=1)
    inside = np.all((t_hi >= lo) & (t_lo <= hi), axis=1)  # others cannot cover any point's projection
    ids = np.nonzero(inside)[0]
    c_lo, c_hi = index(t_lo[ids]), index(t_hi[ids])
    span = c_hi - c_lo + 1  # (m, 2) cells per axis
    per_tri = span[:, 0] * span[:, 1]
    owner = np.repeat(np.arange(len(ids)), per_tri)
    k = np.arange(len(owner)) - np.repeat(np.cumsum(per_tri) - per_tri, per_tri)  # position in its box
    cx = c_lo[owner, 0] + k % span[owner, 0]
    cy = c_lo[owner, 1] + k // span[owner, 0]
    cells = cy * grid + cx
    p_cell = index(p_xy)
    p_cell = p_cell[:, 1] * grid + p_cell[:, 0]
    if not depth:
        order = np.argsort(cells, kind="stable")
        cells, tri_ids = cells[order], ids[owner[order]]
        start = np.searchsorted(cells, p_cell, side="left")
        count = np.searchsorted(cells, p_cell, side="right") - start
        return tri_ids, start, count
    # key = cell + depth scaled into [0, 0.5]: sorted keys run cell by cell, nearest triangle first
    t_near = t_cam[ids, :, 2].min(axis=1)  # (m,) nearest vertex of each kept triangle
    near, far = float(min(t_near.min(), p_cam[:, 2].min())), float(max(t_near.max(), p_cam[:, 2].max()))
    scale = 0.5 / max(far - near, 1e-12)
    keys = cells + (t_near[owner] - near) * scale
    order = np.argsort(keys, kind="stable")
    keys, tri_ids = keys[order], ids[owner[order]]
    start = np.searchsorted(keys, p_cell, side="left")
    count = np.searchsorted(keys, p_cell + (p_cam[:, 2] - near) * scale, side="left") - start
    return tri_ids, start, count


def _point_ranges(count: np.ndarray, limit: int) -> Iterator[tuple[int, int]]:
    """Consecutive point ranges [a, b) whose pairs add up to about ``limit`` (at least one point each)."""
    total = np.cumsum(count)
    a = 0
    while a < len(count):
        base = int(total[a - 1]) if a else 0
        b = max(int(np.searchsorted(total, base + limit, side="right")), a + 1)
        yield a, b
        a = b


def visible_points(vertices: np.ndarray, faces: np.ndarray, points: np.ndarray, owner: np.ndarray,
                   eye: Sequence[float], cull: bool = True, depth_cull: bool = True) -> np.ndarray:
    """bool (n,): True where no triangle lies between ``points[i]`` (on triangle ``owner[i]``)
    and ``eye`` (world units). Exact ray casting; ``cull`` False tests every triangle, and
    ``depth_cull`` False keeps the triangles behind a point among its candidates (both slower,
    same answer)."""
    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    pts = np.asarray(points, np.float64)
    own = np.asarray(owner, np.int64)
    eye_v = np.asarray(eye, np.float64)
    tri = v[f]  # (F, 3, 3)
    grid = int(np.clip(2.0 * np.sqrt(len(f)), 4, 128)) if cull else None  # ~2 cells per side per √F
    tri_ids, start, count = _candidates(tri, pts, eye_v, grid, depth_cull)
    hidden = np.zeros(len(pts), bool)
    for a, b in _point_ranges(count, PAIR_CHUNK):
        c = count[a:b]
        pair_point = np.repeat(np.arange(a, b), c)
        offset = np.arange(len(pair_point)) - np.repeat(np.cumsum(c) - c, c)
        pair_tri = tri_ids[np.repeat(start[a:b], c) + offset]
        keep = pair_tri != own[pair_point]  # a point's own triangle never hides it
        pair_point, pair_tri = pair_point[keep], pair_tri[keep]
        if len(pair_point) == 0:
            continue
        hit = _segment_hits(pts[pair_point], np.broadcast_to(eye_v, (len(pair_point), 3)), tri[pair_tri])
        hidden[pair_point[hit]] = True
    return ~hidden


def least_occluded_view(asset: Asset, yaws: Sequence[float] = CANDIDATE_YAWS, pitch: float = 30.0,
                        n_points: int = N_POINTS, resolution: int = 512, radius: float = 2.0, fov: float = 40.0,
                        seed: int = 0) -> ViewChoice:
    """The candidate camera that sees the most of ``n_points`` surface points (GAP3D App. A.1.2).

    Cameras at each yaw (degrees) with ``pitch`` (degrees), ``radius`` (world units) and
    vertical ``fov`` (degrees), looking at the origin; ``resolution`` only sets the returned
    camera's image size. Points are sampled with ``seed``; ties go to the first yaw.
    """
    if not len(yaws):
        raise InputError("least_occluded_view: no candidate yaws given")
    check_range("n_points", n_points, 1, MAX_POINTS)
    check_range("resolution", resolution, MIN_RESOLUTION, MAX_RESOLUTION)
    check_range("radius", radius, 1e-3)
    asset.validate("least_occluded_view")
    points, owner = sample_surface(asset.vertices, asset.faces, n_points, seed)
    cameras = [Camera(yaw=float(y), pitch=float(pitch), radius=float(radius), fov=float(fov), resolution=resolution)
               for y in yaws]
    counts = [int(visible_points(asset.vertices, asset.faces, points, owner, cam.position()).sum()) for cam in cameras]
    best = int(np.argmax(counts))  # argmax returns the first of equal maxima
    log.debug("least occluded view: visible %s of %d points at yaws %s -> %g°", counts, n_points, list(yaws),
              cameras[best].yaw)
    return ViewChoice(yaw=cameras[best].yaw, index=best, camera=cameras[best],
                      yaws=tuple(float(y) for y in yaws), visible=tuple(c / n_points for c in counts))
