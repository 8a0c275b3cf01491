"""Crease normals' row deduplication (``unique_rows``) against numpy's own."""

import numpy as np
import pytest

from text3d.assets.normals import crease_normals, unique_rows


@pytest.mark.parametrize("seed", range(20))
def test_unique_rows_equals_numpy_unique_with_axis(seed):
    rng = np.random.default_rng(seed)
    keys = rng.integers(-3, 3, size=(int(rng.integers(1, 300)), int(rng.integers(1, 8)))).astype(np.int64)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    got_first, got_inverse = unique_rows(keys)
    assert np.array_equal(got_first, first) and np.array_equal(got_inverse, inverse.reshape(-1))
    assert np.array_equal(keys[got_first][got_inverse], keys)


def test_unique_rows_of_no_rows():
    first, inverse = unique_rows(np.zeros((0, 4), np.int64))
    assert first.shape == (0,) and inverse.shape == (0,)


def test_crease_normals_weld_a_smooth_strip_and_split_a_fold():
    # two triangles sharing an edge: flat (one welded normal per corner) vs folded at 90° (split)
    flat = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]], float)
    folded = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], float)
    faces = np.array([[0, 1, 2], [0, 2, 3]])
    faces_flat = np.array([[0, 1, 2], [1, 3, 2]])
    v, f, n, _ = crease_normals(flat, faces_flat)
    assert len(v) == 4 and np.allclose(n, [0, 0, 1])
    v, f, n, _ = crease_normals(folded, faces)
    assert len(v) == 6  # the shared edge's two vertices are split by the 90° crease
