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


def narrow_band_sdf_grid(field: TriplaneField, planes: torch.Tensor, resolution: int,
                         band_cells: float = 4.0) -> torch.Tensor:
    """SDF on the ``resolution``³ lattice of one triplane (1, 3, C, R, R), decoded exactly only near
    the surface, as Hunyuan3D-2's hierarchical volume decoding does: (G, G, G).

    The field is decoded on a coarse lattice of G_c = ⌈G / 2⌉ nodes a side and trilinearly
    upsampled; a fine node is decoded by the field when it lies in a coarse cell with a sign change
    (or next to one), or where the upsampled value is within ``band_cells`` coarse cell sizes of
    zero. Then, until none is left, both ends of every lattice edge that changes sign are decoded
    too (with their neighbours), so every vertex marching cubes places is the full lattice's. Other
    nodes keep the upsampled value, whose sign is all marching cubes reads there; a part of the
    surface smaller than a coarse cell and farther than the band from it can be missed. With the
    default band, a distilled student's 64³ meshes of 20 development prompts were all identical to
    the full lattice's, from a quarter of the nodes decoded.
    """
    g = resolution
    gc = max(2, (g + 1) // 2)
    bound = field.config.bound
    coarse = field.sdf_grid(planes, gc)[0]  # (G_c, G_c, G_c)
    grid = F.interpolate(coarse[None, None], size=(g, g, g), mode="trilinear", align_corners=True)[0, 0]
    # coarse cells (G_c − 1)³ whose 8 corners change sign, dilated by one cell
    high = F.max_pool3d(coarse[None, None], 2, stride=1)
    low = -F.max_pool3d(-coarse[None, None], 2, stride=1)
    crossing = F.max_pool3d(((low < 0) & (high > 0)).float(), 3, stride=1, padding=1)[0, 0] > 0
    cell = torch.clamp((torch.arange(g) * (gc - 1)) // (g - 1), max=gc - 2)  # fine node → its coarse cell
    todo = crossing[cell[:, None, None], cell[None, :, None], cell[None, None, :]]
    todo |= grid.abs() < band_cells * 2.0 * bound / (gc - 1)
    axis = torch.linspace(-bound, bound, g)
    decoded = torch.zeros_like(todo)
    while todo.any():
        index = todo.nonzero()  # (N, 3) lattice indices i, j, k ↔ x, y, z
        grid[todo] = field.sdf(planes, axis[index][None])[0]
        decoded |= todo
        ends = _sign_change_ends(grid)
        todo = F.max_pool3d((ends & ~decoded).float()[None, None], 3, stride=1, padding=1)[0, 0] > 0
        todo &= ~decoded
    return grid


def _sign_change_ends(grid: torch.Tensor) -> torch.Tensor:
    """Nodes (G, G, G) at either end of a lattice edge whose values change sign."""
    inside = grid < 0
    ends = torch.zeros_like(inside)
    for dim in range(3):
        n = grid.shape[dim]
        change = inside.narrow(dim, 1, n - 1) != inside.narrow(dim, 0, n - 1)
        ends.narrow(dim, 1, n - 1).logical_or_(change)
        ends.narrow(dim, 0, n - 1).logical_or_(change)
    return ends


def march(field: TriplaneField, planes: torch.Tensor, resolution: int = 48,
          sdf: torch.Tensor | None = None) -> MarchedMesh:
    """The zero level set of one triplane ``planes`` (1, 3, C, R, R) on a ``resolution``³ lattice
    (``sdf``: that lattice's values when already decoded, e.g. by :func:`narrow_band_sdf_grid`)."""
    field.check_planes(planes)
    if planes.shape[0] != 1:
        raise InputError(f"march: one triplane at a time (got a batch of {planes.shape[0]})")
    grid = field.sdf_grid(planes, resolution)[0] if sdf is None else sdf
    return marching_cubes(grid, field.config.bound)


def vertex_normals(vertices: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
    """Area-weighted unit vertex normals (V, 3) of a counter-clockwise mesh (differentiable)."""
    tri = vertices[faces]  # (F, 3, 3)
    face_n = torch.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0], dim=-1)  # length = 2·area
    acc = torch.zeros_like(vertices).index_add(0, faces.reshape(-1), face_n.repeat_interleave(3, dim=0))
    return acc / acc.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def extract_asset(field: TriplaneField, planes: torch.Tensor, resolution: int = 64,
                  sdf: torch.Tensor | None = None) -> Asset:
    """A vertex-colored :class:`Asset` of one triplane (1, 3, C, R, R): marching cubes on a
    ``resolution``³ SDF lattice (``sdf``: its values when already decoded), colors = the field's
    linear RGB at the vertices, normals from the SDF gradient."""
    with torch.no_grad():
        mesh = march(field, planes, resolution, sdf)
    points = mesh.vertices[None].detach().requires_grad_(True)
    with torch.enable_grad():
        values = field.sdf(planes.detach(), points)
        (grad,) = torch.autograd.grad(values.sum(), points)
    with torch.no_grad():
        rgb = field.rgb(planes, mesh.vertices[None])[0]
    normals = grad[0] / grad[0].norm(dim=-1, keepdim=True).clamp_min(1e-12)
    colors = torch.cat([rgb.clamp(0, 1), torch.ones_like(rgb[:, :1])], dim=1)
    return Asset(vertices=mesh.vertices.detach().numpy(), faces=mesh.faces.numpy(),
                 vertex_colors=colors.numpy(), vertex_normals=normals.detach().numpy(),
                 metadata={"source": "triplane", "mc_resolution": resolution})
