"""Differentiable marching cubes: skimage's topology, vertex positions recomputed in torch.

``skimage.measure.marching_cubes`` (Lewiner et al., 2003) on the detached SDF grid gives the
triangles; every one of its vertices lies on a lattice edge (a, b) whose ends change sign. The
position is then recomputed as that edge's linear zero crossing

    v = p_a + (p_b − p_a) · s_a / (s_a − s_b),

a differentiable function of the grid values s_a, s_b (and so of the planes and the decoder),
which is the gradient path of nvdiffrast-style mesh rendering of an SDF (as in DMTet /
FlexiCubes, with plain marching-cubes topology). The grid is padded with one layer of positive
values so the mesh is closed where the surface meets the box.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from text3d.assets.asset import Asset
from text3d.errors import InputError
from text3d.triplane.field import TriplaneField


@dataclass
class MarchedMesh:
    """A mesh whose ``vertices`` (V, 3) are differentiable in the SDF; ``faces`` (F, 3) int64."""

    vertices: torch.Tensor
    faces: torch.Tensor


def marching_cubes(sdf: torch.Tensor, bound: float) -> MarchedMesh:
    """Zero level set of ``sdf`` (G, G, G) sampled on the lattice of [-bound, bound]³ (index
    i, j, k ↔ x, y, z). Faces wind counter-clockwise seen from outside (sdf > 0).

    Raises :class:`InputError` when the grid has no sign change.
    """
    from skimage.measure import marching_cubes as sk_marching_cubes

    g = sdf.shape[0]
    if sdf.ndim != 3 or sdf.shape != (g, g, g) or g < 2:
        raise InputError(f"marching_cubes: sdf grid of shape {tuple(sdf.shape)}; expected (G, G, G), G ≥ 2")
    step = 2.0 * bound / (g - 1)
    padded = F.pad(sdf[None, None], (1, 1, 1, 1, 1, 1), value=step)[0, 0]  # (G+2)³, outside = +1 cell
    values = padded.detach().cpu().numpy().astype(np.float64)
    if not np.isfinite(values).all():
        raise InputError("marching_cubes: the SDF grid has NaN or infinite values")
    if not values.min() < 0.0 < values.max():
        raise InputError(f"marching_cubes: no surface (SDF range [{values.min():.3g}, {values.max():.3g}] "
                         "has no sign change)")
    verts, faces, _, _ = sk_marching_cubes(values, level=0.0, gradient_direction="descent", allow_degenerate=False)
    verts = verts.astype(np.float64)
    # the lattice edge of each vertex: the axis with a fractional coordinate, a = floor, b = a + 1 along it
    nearest = np.rint(verts)
    frac_dist = np.abs(verts - nearest)
    axis = frac_dist.argmax(axis=1)
    on_node = frac_dist.max(axis=1) < 1e-6  # crossing exactly at a lattice node: a = b
    rows = np.arange(len(verts))
    a = nearest.astype(np.int64)
    a[rows, axis] = np.floor(verts[rows, axis]).astype(np.int64)
    b = a.copy()
    b[rows, axis] += np.where(on_node, 0, 1)
    a, b = np.clip(a, 0, g + 1), np.clip(b, 0, g + 1)
    flat = padded.reshape(-1)
    stride = np.array([(g + 2) ** 2, g + 2, 1])
    s_a = flat[torch.from_numpy(a @ stride)]
    s_b = flat[torch.from_numpy(b @ stride)]
    den = s_a - s_b
    safe = torch.where(den.abs() > 1e-12, den, torch.ones_like(den))
    t = torch.where(den.abs() > 1e-12, s_a / safe, torch.zeros_like(den)).clamp(0.0, 1.0)
    p_a = torch.from_numpy(a).to(sdf.dtype)
    p_b = torch.from_numpy(b).to(sdf.dtype)
    index_coords = p_a + (p_b - p_a) * t[:, None]  # in the padded lattice
    vertices = -bound + (index_coords - 1.0) * step
    return MarchedMesh(vertices=vertices, faces=torch.from_numpy(faces.astype(np.int64)))


def march(field: TriplaneField, planes: torch.Tensor, resolution: int = 48) -> MarchedMesh:
    """The zero level set of one triplane ``planes`` (1, 3, C, R, R) on a ``resolution``³ lattice."""
    field.check_planes(planes)
    if planes.shape[0] != 1:
        raise InputError(f"march: one triplane at a time (got a batch of {planes.shape[0]})")
    return marching_cubes(field.sdf_grid(planes, resolution)[0], field.config.bound)


def vertex_normals(vertices: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
    """Area-weighted unit vertex normals (V, 3) of a counter-clockwise mesh (differentiable)."""
    tri = vertices[faces]  # (F, 3, 3)
    face_n = torch.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0], dim=-1)  # length = 2·area
    acc = torch.zeros_like(vertices).index_add(0, faces.reshape(-1), face_n.repeat_interleave(3, dim=0))
    return acc / acc.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def extract_asset(field: TriplaneField, planes: torch.Tensor, resolution: int = 64) -> Asset:
    """A vertex-colored :class:`Asset` of one triplane (1, 3, C, R, R): marching cubes on a
    ``resolution``³ SDF lattice, colors = the field's linear RGB at the vertices, normals from
    the SDF gradient."""
    with torch.no_grad():
        mesh = march(field, planes, resolution)
    points = mesh.vertices[None].detach().requires_grad_(True)
    with torch.enable_grad():
        sdf = field.sdf(planes.detach(), points)
        (grad,) = torch.autograd.grad(sdf.sum(), points)
    with torch.no_grad():
        rgb = field.rgb(planes, mesh.vertices[None])[0]
    normals = grad[0] / grad[0].norm(dim=-1, keepdim=True).clamp_min(1e-12)
    colors = torch.cat([rgb.clamp(0, 1), torch.ones_like(rgb[:, :1])], dim=1)
    return Asset(vertices=mesh.vertices.detach().numpy(), faces=mesh.faces.numpy(),
                 vertex_colors=colors.numpy(), vertex_normals=normals.detach().numpy(),
                 metadata={"source": "triplane", "mc_resolution": resolution})
