"""Vertex normals that keep creases sharp (pure numpy).

A corner's normal is the area-weighted mean of the normals of the faces around its
(welded) vertex whose normal is within ``crease_degrees`` of the corner's own face normal.
Corners that end up with the same position and normal share one output vertex, so smooth
surfaces stay welded and creases are split.
"""

from __future__ import annotations

import numpy as np


def face_normals(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(unit normals (F, 3), areas (F,)) of triangles; degenerate faces get a zero normal."""
    tri = vertices[faces]
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    length = np.linalg.norm(cross, axis=1)
    normals = np.where(length[:, None] > 0, cross / np.maximum(length, 1e-30)[:, None], 0.0)
    return normals, 0.5 * length


def unique_rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first, inverse) of the distinct rows of an integer array (N, K): ``first`` (U,) the index of each
    distinct row's first occurrence, in lexicographic row order, and ``inverse`` (N,) each row's distinct
    row, exactly as ``np.unique(keys, axis=0, return_index=True, return_inverse=True)`` gives them. A
    stable lexsort over the K columns is ~4× faster than the structured-dtype sort ``np.unique`` does."""
    if len(keys) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    order = np.lexsort(keys.T[::-1])  # the last key given is the primary one: column 0 first
    ranked = keys[order]
    new = np.r_[True, np.any(ranked[1:] != ranked[:-1], axis=1)]
    inverse = np.empty(len(keys), np.int64)
    inverse[order] = np.cumsum(new) - 1
    return order[new], inverse


def crease_normals(vertices: np.ndarray, faces: np.ndarray, crease_degrees: float = 35.0,
                   weld_tolerance: float = 1e-6, vertex_groups: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split at creases and smooth elsewhere.

    Vertices of different ``vertex_groups`` (e.g. parts of different colors) are never
    welded together.

    Returns (vertices (V', 3), faces (F', 3), normals (V', 3), source (V',)) where
    ``source`` maps each output vertex to an input vertex (to carry colors along).
    Degenerate faces are dropped.
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    fnorm, area = face_normals(vertices, faces)
    keep = area > 1e-14
    faces, fnorm, area = faces[keep], fnorm[keep], area[keep]
    n_faces = len(faces)
    if n_faces == 0:
        return np.zeros((0, 3)), np.zeros((0, 3), np.int64), np.zeros((0, 3)), np.zeros(0, np.int64)
    groups = np.zeros(len(vertices), np.int64) if vertex_groups is None else np.asarray(vertex_groups, np.int64)
    keys = np.column_stack([np.round(vertices / weld_tolerance).astype(np.int64), groups])
    weld = unique_rows(keys)[1]
    corner_vertex = faces.reshape(-1)
    corner_group = weld[corner_vertex]
    corner_face = np.repeat(np.arange(n_faces), 3)
    order = np.argsort(corner_group, kind="stable")
    sorted_group = corner_group[order]
    starts = np.flatnonzero(np.r_[True, sorted_group[1:] != sorted_group[:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    group_index = np.repeat(np.arange(len(starts)), sizes)
    partners = sizes[group_index]
    first = np.repeat(np.arange(len(order)), partners)
    offsets = np.arange(partners.sum()) - np.repeat(np.cumsum(partners) - partners, partners)
    second = starts[group_index[first]] + offsets
    corner_a, corner_b = order[first], order[second]
    face_a, face_b = corner_face[corner_a], corner_face[corner_b]
    close = np.einsum("ij,ij->i", fnorm[face_a], fnorm[face_b]) >= np.cos(np.radians(crease_degrees))
    summed = np.zeros((len(corner_vertex), 3))
    np.add.at(summed, corner_a[close], fnorm[face_b[close]] * area[face_b[close], None])
    length = np.linalg.norm(summed, axis=1, keepdims=True)
    normals = np.where(length > 0, summed / np.maximum(length, 1e-30), fnorm[corner_face])
    positions = vertices[corner_vertex]
    key = np.concatenate([np.round(positions / weld_tolerance), np.round(normals * 1e4),
                          groups[corner_vertex, None]], axis=1).astype(np.int64)
    first_corner, inverse = unique_rows(key)
    return (positions[first_corner], inverse.reshape(-1, 3), normals[first_corner],
            corner_vertex[first_corner])
