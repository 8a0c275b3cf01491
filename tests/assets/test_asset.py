"""``Asset`` validates and normalizes its arrays on construction."""

import warnings

import numpy as np

from text3d.assets.asset import Asset


def test_a_coordinate_past_float32_becomes_inf_without_a_numpy_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the CLI would print numpy's RuntimeWarning and a source line
        asset = Asset(vertices=np.array([[0, 0, 0], [1e300, 0, 0], [0, 1, 0]]), faces=np.array([[0, 1, 2]]))
    assert np.isinf(asset.vertices).any()
