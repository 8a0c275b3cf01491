"""Primitive solids for toyworld: a triangle mesh and an exact inside test for each.

Every primitive is defined in its own local frame (z up, centered as documented) with its
final dimensions; a :class:`Part` places it with a rigid transform. Because each solid
also answers "is this point inside?", an object's occupancy grid is exact at any
resolution (no mesh voxelization needed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

Mesh = tuple[np.ndarray, np.ndarray]  # (vertices (V,3) float64, faces (F,3) int64)


# --------------------------------------------------------------------------- transforms
def rotation(axis: str, degrees: float) -> np.ndarray:
    """4×4 rotation about a world axis ('x', 'y' or 'z'), right-handed, degrees."""
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    m = np.eye(4)
    i, j = {"x": (1, 2), "y": (2, 0), "z": (0, 1)}[axis]
    m[i, i], m[i, j], m[j, i], m[j, j] = c, -s, s, c
    return m


def translation(x: float = 0.0, y: float = 0.0, z: float = 0.0) -> np.ndarray:
    """4×4 translation."""
    m = np.eye(4)
    m[:3, 3] = (x, y, z)
    return m


def place(x: float = 0.0, y: float = 0.0, z: float = 0.0, rx: float = 0.0, ry: float = 0.0,
          rz: float = 0.0) -> np.ndarray:
    """Translation · Rz · Ry · Rx (rotate about the local origin first, then move)."""
    return translation(x, y, z) @ rotation("z", rz) @ rotation("y", ry) @ rotation("x", rx)


# --------------------------------------------------------------------------- primitives
class Primitive:
    """A solid with a mesh and an inside test, both in its local frame."""

    def mesh(self) -> Mesh:
        raise NotImplementedError

    def contains(self, points: np.ndarray) -> np.ndarray:
        """Boolean (N,) for local-frame points (N, 3)."""
        raise NotImplementedError


def _grid_faces(rows: int, cols: int, wrap: bool) -> np.ndarray:
    """Quads of a rows×cols vertex grid as triangles; columns wrap around when ``wrap``."""
    faces = []
    ncols = cols if wrap else cols - 1
    for r in range(rows - 1):
        for c in range(ncols):
            a = r * cols + c
            b = r * cols + (c + 1) % cols
            d = (r + 1) * cols + c
            e = (r + 1) * cols + (c + 1) % cols
            faces.append((a, b, e))
            faces.append((a, e, d))
    return np.array(faces, dtype=np.int64).reshape(-1, 3)


@dataclass
class Box(Primitive):
    """Axis-aligned box centered at the origin with full side lengths (sx, sy, sz)."""

    sx: float
    sy: float
    sz: float

    def mesh(self) -> Mesh:
        hx, hy, hz = self.sx / 2, self.sy / 2, self.sz / 2
        v = np.array([[x, y, z] for x in (-hx, hx) for y in (-hy, hy) for z in (-hz, hz)], dtype=np.float64)
        f = np.array([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
                      [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]], dtype=np.int64)
        return v, f

    def contains(self, p: np.ndarray) -> np.ndarray:
        return (np.abs(p[:, 0]) <= self.sx / 2) & (np.abs(p[:, 1]) <= self.sy / 2) & (np.abs(p[:, 2]) <= self.sz / 2)


@dataclass
class Lathe(Primitive):
    """A solid of revolution about z: the profile is (radius, z) pairs from bottom to top.

    Radii may be 0 at the ends (closed tips); otherwise the ends are capped flat. The
    inside test is r(x, y) ≤ profile radius at z (linear in between), within z range.
    ``squash`` scales the y axis (ellipse cross-sections).
    """

    profile: list[tuple[float, float]]
    segments: int = 24
    squash: float = 1.0

    def mesh(self) -> Mesh:
        prof = np.asarray(self.profile, dtype=np.float64)
        n = self.segments
        angles = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
        ring = np.stack([np.cos(angles), np.sin(angles) * self.squash], axis=1)
        verts = np.concatenate([np.column_stack([r * ring, np.full(n, z)]) for r, z in prof])
        faces = [_grid_faces(len(prof), n, wrap=True)]
        verts_list = [verts]
        count = len(verts)
        for end, flip in ((0, True), (len(prof) - 1, False)):
            r, z = prof[end]
            if r > 1e-9:
                center = count
                verts_list.append(np.array([[0.0, 0.0, z]]))
                count += 1
                base = end * n
                cap = [(center, base + (i + 1) % n, base + i) if flip else (center, base + i, base + (i + 1) % n)
                       for i in range(n)]
                faces.append(np.array(cap, dtype=np.int64))
        return np.concatenate(verts_list), np.concatenate(faces)

    def contains(self, p: np.ndarray) -> np.ndarray:
        prof = np.asarray(self.profile, dtype=np.float64)
        z = p[:, 2]
        inside_z = (z >= prof[0, 1]) & (z <= prof[-1, 1])
        radius = np.interp(z, prof[:, 1], prof[:, 0])
        r = np.sqrt(p[:, 0] ** 2 + (p[:, 1] / self.squash) ** 2)
        return inside_z & (r <= radius)


def cylinder(radius: float, height: float, radius_top: float | None = None, segments: int = 24) -> Lathe:
    """Cylinder (or frustum / cone when ``radius_top`` differs) from z = 0 to z = height."""
    top = radius if radius_top is None else radius_top
    return Lathe([(radius, 0.0), (top, height)], segments)


def ellipsoid_profile(rx: float, rz: float, rings: int = 12) -> list[tuple[float, float]]:
    """Profile of an ellipsoid of revolution centered at z = 0 (radius rx, half-height rz)."""
    t = np.linspace(-np.pi / 2, np.pi / 2, rings + 1)
    return [(float(rx * np.cos(a)) if 0 < i < rings else 0.0, float(rz * np.sin(a))) for i, a in enumerate(t)]


def sphere(radius: float, rings: int = 12, segments: int = 20) -> Lathe:
    """Sphere centered at the origin."""
    return Lathe(ellipsoid_profile(radius, radius, rings), segments)


def ellipsoid(rx: float, ry: float, rz: float, rings: int = 12, segments: int = 20) -> Lathe:
    """Ellipsoid with semi-axes (rx, ry, rz) centered at the origin."""
    return Lathe(ellipsoid_profile(rx, rz, rings), segments, squash=ry / rx)


@dataclass
class Revolve(Primitive):
    """A closed polygon in the (r, z) half-plane (r ≥ 0, counter-clockwise) revolved about z.

    Unlike :class:`Lathe` the outline may fold back, so hollow shells (cups, bowls, pans)
    are exact: the inside test is point-in-polygon of (√(x² + y²), z).
    """

    outline: list[tuple[float, float]]
    segments: int = 28

    def mesh(self) -> Mesh:
        prof = np.asarray(self.outline, dtype=np.float64)
        n, m = self.segments, len(prof)
        angles = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
        ring = np.stack([np.cos(angles), np.sin(angles)], axis=1)
        verts = np.concatenate([np.column_stack([r * ring, np.full(n, z)]) for r, z in prof])
        faces = []
        for k in range(m):
            a0, a1 = k * n, ((k + 1) % m) * n
            for i in range(n):
                j = (i + 1) % n
                faces += [(a0 + i, a1 + j, a1 + i), (a0 + i, a0 + j, a1 + j)]
        return verts, np.array(faces, dtype=np.int64)

    def contains(self, p: np.ndarray) -> np.ndarray:
        rz = np.column_stack([np.sqrt(p[:, 0] ** 2 + p[:, 1] ** 2), p[:, 2]])
        return points_in_polygon(rz, np.asarray(self.outline, dtype=np.float64))


def shell_outline(radii: list[tuple[float, float]], thickness: float, bottom: float) -> list[tuple[float, float]]:
    """Outline of an open-topped vessel: outer wall (r, z) from the base up, then the inner
    wall back down (radius − thickness) to a floor ``bottom`` thick."""
    outer = [(0.0, 0.0)] + [(r, z) for r, z in radii]
    top_r, top_z = radii[-1]
    inner = [(max(r - thickness, 0.0), max(z, bottom)) for r, z in reversed(radii)]
    inner[0] = (max(top_r - thickness, 0.0), top_z)
    return outer + inner + [(0.0, bottom)]


@dataclass
class Torus(Primitive):
    """Torus around the z axis: ring radius ``major``, tube radius ``minor``."""

    major: float
    minor: float
    segments: int = 28
    sides: int = 10

    def mesh(self) -> Mesh:
        u = np.linspace(0, 2 * np.pi, self.segments, endpoint=False)
        v = np.linspace(0, 2 * np.pi, self.sides, endpoint=False)
        uu, vv = np.meshgrid(u, v, indexing="ij")
        rad = self.major + self.minor * np.cos(vv)
        verts = np.stack([rad * np.cos(uu), rad * np.sin(uu), self.minor * np.sin(vv)], axis=-1).reshape(-1, 3)
        faces = []
        for i in range(self.segments):
            for j in range(self.sides):
                a = i * self.sides + j
                b = ((i + 1) % self.segments) * self.sides + j
                c = ((i + 1) % self.segments) * self.sides + (j + 1) % self.sides
                d = i * self.sides + (j + 1) % self.sides
                faces += [(a, b, c), (a, c, d)]
        return verts, np.array(faces, dtype=np.int64)

    def contains(self, p: np.ndarray) -> np.ndarray:
        q = np.sqrt(p[:, 0] ** 2 + p[:, 1] ** 2) - self.major
        return q**2 + p[:, 2] ** 2 <= self.minor**2


@dataclass
class Extrusion(Primitive):
    """A simple polygon in the xy plane (counter-clockwise), extruded from z = −h/2 to h/2."""

    polygon: list[tuple[float, float]]
    height: float

    def mesh(self) -> Mesh:
        poly = np.asarray(self.polygon, dtype=np.float64)
        n = len(poly)
        tris = ear_clip(poly)
        h = self.height / 2
        bottom = np.column_stack([poly, np.full(n, -h)])
        top = np.column_stack([poly, np.full(n, h)])
        verts = np.concatenate([bottom, top])
        faces = [tris[:, ::-1], tris + n]
        side = []
        for i in range(n):
            j = (i + 1) % n
            side += [(i, j, n + j), (i, n + j, n + i)]
        faces.append(np.array(side, dtype=np.int64))
        return verts, np.concatenate(faces).astype(np.int64)

    def contains(self, p: np.ndarray) -> np.ndarray:
        inside = np.abs(p[:, 2]) <= self.height / 2
        inside[inside] = points_in_polygon(p[inside, :2], np.asarray(self.polygon, dtype=np.float64))
        return inside


def points_in_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Even–odd rule: a point is inside when a ray towards +x crosses the outline an odd
    number of times. Vectorized over points; one pass per polygon edge."""
    x, y = points[:, 0], points[:, 1]
    inside = np.zeros(len(points), dtype=bool)
    lo, hi = polygon.min(0), polygon.max(0)
    candidates = (x >= lo[0]) & (x <= hi[0]) & (y >= lo[1]) & (y <= hi[1])
    px, py = x[candidates], y[candidates]
    odd = np.zeros(len(px), dtype=bool)
    for (x0, y0), (x1, y1) in zip(polygon, np.roll(polygon, -1, axis=0)):
        if y0 == y1:
            continue
        straddles = (y0 > py) != (y1 > py)
        crossing_x = x0 + (py - y0) * (x1 - x0) / (y1 - y0)
        odd ^= straddles & (px < crossing_x)
    inside[candidates] = odd
    return inside


def ear_clip(polygon: np.ndarray) -> np.ndarray:
    """Triangulate a simple counter-clockwise polygon by ear clipping; (n−2, 3) indices."""
    def cross(o: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
        return float((a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]))

    remaining = list(range(len(polygon)))
    triangles = []
    guard = 0
    while len(remaining) > 3 and guard < 10_000:
        guard += 1
        for k in range(len(remaining)):
            i, j, n = remaining[k - 1], remaining[k], remaining[(k + 1) % len(remaining)]
            a, b, c = polygon[i], polygon[j], polygon[n]
            if cross(a, b, c) <= 1e-12:
                continue  # reflex or degenerate corner
            others = [m for m in remaining if m not in (i, j, n)]
            if any(cross(a, b, polygon[m]) >= 0 and cross(b, c, polygon[m]) >= 0 and cross(c, a, polygon[m]) >= 0
                   for m in others):
                continue  # another vertex inside: not an ear
            triangles.append((i, j, n))
            remaining.pop(k)
            break
        else:
            raise ValueError("polygon is not simple or not counter-clockwise")
    triangles.append(tuple(remaining))
    return np.array(triangles, dtype=np.int64)


# --------------------------------------------------------------------------- parts
@dataclass
class Part:
    """A primitive placed in the object frame, with a name, a palette color and a material."""

    name: str
    shape: Primitive
    color: str
    material: str
    transform: np.ndarray = field(default_factory=lambda: np.eye(4))

    def world_mesh(self) -> Mesh:
        verts, faces = self.shape.mesh()
        homo = np.column_stack([verts, np.ones(len(verts))])
        return (homo @ self.transform.T)[:, :3], faces

    def contains(self, points: np.ndarray) -> np.ndarray:
        inv = np.linalg.inv(self.transform)
        local = np.column_stack([points, np.ones(len(points))]) @ inv.T
        return self.shape.contains(local[:, :3])
