"""Differentiable mesh rendering of a triplane: nvdiffrast's rasterize / interpolate / antialias
split (Laine et al., 2020) over text3d's OpenGL rasterizer.

1. The SDF is meshed by :func:`text3d.triplane.marching.march` (vertices differentiable in it).
2. OpenGL (:mod:`text3d.render.raster`) resolves visibility: a triangle id per pixel.
3. In torch, each covered pixel's ray is intersected with its triangle (Möller–Trumbore), which
   gives perspective-correct barycentrics and depth that are differentiable in the vertices;
   attributes (colors from the triplane, normals) are interpolated with them.
4. Silhouettes are antialiased analytically so coverage has gradients: for every pair of
   4-neighbour pixels p (front) and q (background, or a clearly deeper face), the mesh's
   outermost silhouette edge in front of q (one adjacent face towards the camera, the other
   away) crosses the segment p → q at fraction t (2D, projected vertices); p keeps
   min(1, ½ + t) of its value and q takes max(0, t − ½) of p's (nvdiffrast's antialias op).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from text3d.errors import InputError
from text3d.render.cameras import Camera
from text3d.render.raster import rasterize
from text3d.triplane.field import TriplaneField
from text3d.triplane.marching import MarchedMesh, marching_cubes, vertex_normals
from text3d.triplane.rays import camera_rays, cameras_per_item, project


@dataclass
class MeshRender:
    """Views of B triplanes' meshes from V cameras each, rows top-down.

    ``rgb``: (B, V, H, W, 3) linear albedo over the background, antialiased; ``opacity``:
    (B, V, H, W) antialiased coverage; ``depth``: (B, V, H, W) camera z, 0 on background;
    ``normals``: (B, V, H, W, 3) world unit normals (0 on background); ``triangle_id``:
    (B, V, H, W) int64, −1 on background; ``meshes``: the B marched meshes (empty, and the
    views plain background without gradients, where a field has no negative SDF on the lattice).
    """

    rgb: torch.Tensor
    opacity: torch.Tensor
    depth: torch.Tensor
    normals: torch.Tensor
    triangle_id: torch.Tensor
    meshes: list[MarchedMesh]


def interpolate(attributes: torch.Tensor, faces: torch.Tensor, triangle_id: torch.Tensor,
                barycentrics: torch.Tensor) -> torch.Tensor:
    """Per-pixel attributes (..., C) = Σ_k b_k · attr[face[id]][k]; 0 where id = −1.

    ``attributes`` (V, C), ``faces`` (F, 3), ``triangle_id`` (...) int, ``barycentrics`` (..., 3).
    """
    covered = triangle_id >= 0
    corners = attributes[faces[triangle_id.clamp_min(0)]]  # (..., 3, C)
    values = (barycentrics[..., None] * corners).sum(-2)
    return values * covered[..., None].to(values.dtype)


def ray_barycentrics(vertices: torch.Tensor, faces: torch.Tensor, triangle_id: torch.Tensor,
                     camera: Camera) -> tuple[torch.Tensor, torch.Tensor]:
    """(barycentrics (H, W, 3), camera depth z (H, W)) of each pixel's ray with its triangle,
    differentiable in ``vertices`` (Möller–Trumbore); 0 on background (id −1)."""
    origins, directions, z_per_t = camera_rays(camera)
    ids = triangle_id.reshape(-1)
    covered = ids >= 0
    tri = vertices[faces[ids.clamp_min(0)]]  # (N, 3, 3)
    e1, e2 = tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
    pvec = torch.cross(directions, e2, dim=-1)
    det = (e1 * pvec).sum(-1)
    det = torch.where(det.abs() < 1e-12, torch.full_like(det, 1e-12), det)
    tvec = origins - tri[:, 0]
    u = (tvec * pvec).sum(-1) / det
    qvec = torch.cross(tvec, e1, dim=-1)
    v = (directions * qvec).sum(-1) / det
    t = (e2 * qvec).sum(-1) / det
    bary = torch.stack([1.0 - u - v, u, v], dim=-1) * covered[:, None]
    depth = t * z_per_t * covered
    size = camera.resolution
    return bary.reshape(size, size, 3), depth.reshape(size, size)


def edge_faces(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(edges (E, 2) vertex indices, their faces (E, 2), −1 where an edge has one face)."""
    pairs = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    owner = np.tile(np.arange(len(faces)), 3)
    edges, inverse, counts = np.unique(np.sort(pairs, axis=1), axis=0, return_inverse=True, return_counts=True)
    order = np.argsort(inverse.reshape(-1), kind="stable")
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    adjacent = np.full((len(edges), 2), -1, np.int64)
    adjacent[:, 0] = owner[order[first]]
    two = counts >= 2
    adjacent[two, 1] = owner[order[first[two] + 1]]
    return edges, adjacent


def silhouette_edges(vertices: np.ndarray, faces: np.ndarray, edges: np.ndarray, adjacent: np.ndarray,
                     eye: np.ndarray) -> np.ndarray:
    """The edges (S, 2) seen as silhouettes from ``eye``: one face front-facing and the other
    back-facing, or only one face."""
    tri = vertices[faces]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    front = np.einsum("fc,fc->f", normal, eye - tri[:, 0]) > 0
    boundary = adjacent[:, 1] < 0
    flips = front[adjacent[:, 0]] != front[np.maximum(adjacent[:, 1], 0)]
    return edges[boundary | flips]


def _pairs(mask: np.ndarray, ids: np.ndarray, depth: np.ndarray, di: int, dj: int, min_gap: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """4-neighbour pairs across a possible silhouette, oriented p (front) → q (behind):
    covered / background, or two faces whose depths differ by more than ``min_gap`` (H, W).
    Returns (pi, pj, qi, qj, depth of q (inf on background))."""
    h, w = mask.shape
    a, b = (slice(0, h - di), slice(0, w - dj)), (slice(di, h), slice(dj, w))
    za = np.where(mask[a], depth[a], np.inf)
    zb = np.where(mask[b], depth[b], np.inf)
    both = mask[a] & mask[b]
    gap = np.abs(np.where(both, depth[a] - depth[b], 0.0))
    edge = (mask[a] != mask[b]) | (both & (ids[a] != ids[b]) & (gap > min_gap[a]))
    ai, aj = np.nonzero(edge)
    bi, bj = ai + di, aj + dj
    a_front = za[ai, aj] < zb[ai, aj]
    pi, pj = np.where(a_front, ai, bi), np.where(a_front, aj, bj)
    qi, qj = np.where(a_front, bi, ai), np.where(a_front, bj, aj)
    return pi, pj, qi, qj, np.maximum(za[ai, aj], zb[ai, aj])


def antialias(image: torch.Tensor, triangle_id: np.ndarray, depth: np.ndarray, pixels: torch.Tensor,
              vertex_depth: np.ndarray, silhouettes: np.ndarray, focal: float, chunk: int = 512) -> torch.Tensor:
    """Blend ``image`` (H, W, C) across silhouette edges (see the module docstring), in the
    manner of nvdiffrast's antialiasing: for a pair p (front) → q (behind: background, or a
    face more than 3 pixel footprints deeper) the outermost silhouette edge crossing the segment
    in front of q gives t, and p += (min(1, ½ + t) − 1)(X_p − X_q), q += max(0, t − ½)(X_p − X_q).
    ``triangle_id`` / ``depth`` (H, W): the raster; ``pixels`` (V, 2) projected vertices in
    (u, v) pixel units and ``vertex_depth`` (V,) their camera z; ``silhouettes`` (S, 2) vertex
    indices. Gradients reach ``pixels`` and ``image``.
    """
    h, w, c = image.shape
    flat = image.reshape(-1, c)
    if not len(silhouettes):
        return image
    mask = triangle_id >= 0
    ends = pixels.detach().double().numpy()[silhouettes]  # (S, 2, 2)
    a_np, e_np = ends[:, 0], ends[:, 1] - ends[:, 0]
    z_ends = vertex_depth[silhouettes]  # (S, 2)
    delta = torch.zeros_like(flat)
    for di, dj in ((0, 1), (1, 0)):
        pi, pj, qi, qj, z_q = _pairs(mask, triangle_id, depth, di, dj, 3.0 * depth / focal)
        if not len(pi):
            continue
        start = np.stack([pj + 0.5, pi + 0.5], -1)  # (n, 2) pixel centers (u, v)
        step = np.stack([qj - pj, qi - pi], -1).astype(np.float64)  # ±(1, 0) or ±(0, 1)
        # as in nvdiffrast, a mostly vertical edge is resolved along rows and a mostly
        # horizontal one along columns, so a diagonal edge is not blended twice
        steep = (np.abs(e_np[:, 1]) >= np.abs(e_np[:, 0])) if dj else (np.abs(e_np[:, 0]) > np.abs(e_np[:, 1]))
        chosen = np.full(len(pi), -1)
        for s0 in range(0, len(pi), chunk):  # outermost silhouette crossing, chunked (n × S)
            sp, sd = start[s0:s0 + chunk, None], step[s0:s0 + chunk, None]
            denom = sd[..., 0] * e_np[None, :, 1] - sd[..., 1] * e_np[None, :, 0]
            rel = a_np[None] - sp
            ok = np.abs(denom) > 1e-12
            safe = np.where(ok, denom, 1.0)
            t = (rel[..., 0] * e_np[None, :, 1] - rel[..., 1] * e_np[None, :, 0]) / safe
            s = (rel[..., 0] * sd[..., 1] - rel[..., 1] * sd[..., 0]) / safe
            z_edge = z_ends[None, :, 0] + s * (z_ends[None, :, 1] - z_ends[None, :, 0])
            hit = ok & steep[None] & (t >= 0) & (t <= 1) & (s >= -1e-6) & (s <= 1 + 1e-6)
            hit &= z_edge < z_q[s0:s0 + chunk, None]  # the edge is in front of q's surface
            best = np.where(hit, t, -1.0).argmax(axis=1)
            chosen[s0:s0 + chunk] = np.where(hit.any(axis=1), best, -1)
        keep = chosen >= 0
        if not keep.any():
            continue
        ends_t = pixels[torch.from_numpy(silhouettes[chosen[keep]])]  # (k, 2, 2), differentiable
        edge_t = ends_t[:, 1] - ends_t[:, 0]
        rel_t = ends_t[:, 0] - torch.from_numpy(start[keep]).to(pixels.dtype)
        d = torch.from_numpy(step[keep]).to(pixels.dtype)
        cross = d[:, 0] * edge_t[:, 1] - d[:, 1] * edge_t[:, 0]  # ≠ 0: the edge crosses the segment
        t = ((rel_t[:, 0] * edge_t[:, 1] - rel_t[:, 1] * edge_t[:, 0]) / cross).clamp(0.0, 1.0)
        p_idx = torch.from_numpy(pi[keep] * w + pj[keep])
        q_idx = torch.from_numpy(qi[keep] * w + qj[keep])
        diff = flat[p_idx] - flat[q_idx]
        delta = delta.index_add(0, p_idx, ((0.5 + t).clamp(max=1.0) - 1.0)[:, None] * diff)
        delta = delta.index_add(0, q_idx, (t - 0.5).clamp(min=0.0)[:, None] * diff)
    return (flat + delta).reshape(h, w, c)


def render_marched(mesh: MarchedMesh, colors: torch.Tensor | None, cameras: Sequence[Camera],
                   background: float | Sequence[float] = 1.0,
                   pixel_color: Callable[[torch.Tensor], torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
    """Render one differentiable mesh with per-vertex ``colors`` (V, 3) (or ``pixel_color``:
    surface points (N, 3) → colors (N, 3)) from ``cameras``: dict of (V, H, W, …) tensors."""
    vertices, faces = mesh.vertices, mesh.faces
    bg = torch.as_tensor(background, dtype=vertices.dtype).expand(3)
    if not len(faces):  # nothing to draw: background, no coverage
        shape = (len(cameras), cameras[0].resolution, cameras[0].resolution)
        return {"rgb": bg.expand(*shape, 3).clone(), "opacity": torch.zeros(shape), "depth": torch.zeros(shape),
                "normals": torch.zeros(*shape, 3), "triangle_id": torch.full(shape, -1, dtype=torch.long)}
    vertices_np, faces_np = vertices.detach().cpu().numpy(), faces.numpy()
    raster = rasterize(vertices_np, faces_np, list(cameras))
    edges, adjacent = edge_faces(faces_np)
    normals_v = vertex_normals(vertices, faces)
    out: dict[str, list[torch.Tensor]] = {"rgb": [], "opacity": [], "depth": [], "normals": [], "triangle_id": []}
    for view, camera in enumerate(cameras):
        ids_np = raster.triangle_id[view]
        ids = torch.from_numpy(ids_np).long()
        covered = (ids >= 0)
        bary, depth = ray_barycentrics(vertices, faces, ids, camera)
        if pixel_color is not None:
            surface = interpolate(vertices, faces, ids, bary)
            rgb = torch.zeros(*ids.shape, 3, dtype=vertices.dtype)
            rgb = rgb.index_put((covered,), pixel_color(surface[covered]))
        else:
            rgb = interpolate(colors, faces, ids, bary)
        normal = interpolate(normals_v, faces, ids, bary)
        normal = normal / normal.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        mask = covered.to(vertices.dtype)
        image = torch.cat([rgb + (1.0 - mask)[..., None] * bg, mask[..., None]], dim=-1)
        pixels, vertex_depth = project(vertices, camera)
        silhouettes = silhouette_edges(vertices_np, faces_np, edges, adjacent, camera.position())
        image = antialias(image, ids_np, raster.depth[view], pixels, vertex_depth.detach().numpy(), silhouettes,
                          camera.focal())
        out["rgb"].append(image[..., :3])
        out["opacity"].append(image[..., 3])
        out["depth"].append(depth)
        out["normals"].append(normal)
        out["triangle_id"].append(ids)
    return {k: torch.stack(v) for k, v in out.items()}


def render_mesh(field: TriplaneField, planes: torch.Tensor,
                cameras: Sequence[Camera] | Sequence[Sequence[Camera]], *, resolution: int = 48,
                background: float | Sequence[float] = 1.0, color: str = "vertex") -> MeshRender:
    """Mesh-render the triplanes ``planes`` (B, 3, C, R, R): marching cubes on a ``resolution``³
    lattice, colors from the triplane at the vertices (``color="vertex"``) or at each pixel's
    surface point (``"pixel"``). Gradients reach the planes and the decoder through vertex
    positions (interior shading and silhouettes) and colors."""
    field.check_planes(planes)
    if color not in ("vertex", "pixel"):
        raise InputError(f"render_mesh color {color!r}: use 'vertex' or 'pixel'")
    views = cameras_per_item(cameras, planes.shape[0])
    results, meshes = [], []
    for b, cams in enumerate(views):
        plane = planes[b:b + 1]
        grid = field.sdf_grid(plane, resolution)[0]
        if grid.detach().min() < 0:
            mesh = marching_cubes(grid, field.config.bound)
        else:  # no surface (e.g. early in training): an empty mesh renders the background
            mesh = MarchedMesh(vertices=grid.new_zeros(0, 3), faces=torch.zeros(0, 3, dtype=torch.long))
        meshes.append(mesh)
        if color == "vertex":
            colors = field.rgb(plane, mesh.vertices[None])[0]
            results.append(render_marched(mesh, colors, cams, background))
        else:
            results.append(render_marched(mesh, None, cams, background,
                                          pixel_color=lambda p, plane=plane: field.rgb(plane, p[None])[0]))
    stacked = {k: torch.stack([r[k] for r in results]) for k in results[0]}
    return MeshRender(meshes=meshes, **stacked)
