"""``Asset`` validates and normalizes its arrays on construction."""

import warnings

import numpy as np
import pytest

from text3d.assets.asset import Asset
from text3d.errors import InputError


def test_a_coordinate_past_float32_becomes_inf_without_a_numpy_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the CLI would print numpy's RuntimeWarning and a source line
        asset = Asset(vertices=np.array([[0, 0, 0], [1e300, 0, 0], [0, 1, 0]]), faces=np.array([[0, 1, 2]]))
    assert np.isinf(asset.vertices).any()


def test_a_coordinate_past_float32_is_refused_as_such():
    vertices = np.array([[1e39, 0, 0], [0, 1, 0], [0, 0, 1]], np.float64)  # finite, but not in float32
    with pytest.raises(InputError, match=r"mesh: 1 vertices have NaN or infinite coordinates \(or ones past float32"):
        Asset(vertices, [[0, 1, 2]]).validate("mesh")
