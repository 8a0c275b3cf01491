"""Candidate selectors: surface sampling, the point encoder's choice, how many candidates are drawn."""

import numpy as np
import pytest

from text3d.assets.asset import Asset
from text3d.generators.selectors import BestOfCategory, select_by_category, selectors, surface_points


def cube() -> Asset:
    corners = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)], np.float32)
    faces = np.array([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
                      [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]], np.int64)
    return Asset(vertices=corners, faces=faces)


def test_surface_points_lie_on_the_surface_spread_by_area_and_repeat_by_seed():
    points = surface_points(cube(), 3000, seed=1)
    on_face = np.isclose(np.abs(points), 0.5, atol=1e-5).any(axis=1)
    assert points.shape == (3000, 3) and on_face.all()
    per_face = np.array([np.isclose(points[:, axis], side, atol=1e-5).sum() for axis in range(3) for side in (-.5, .5)])
    assert per_face.min() > 400  # six equal faces: about 500 each
    assert np.array_equal(points, surface_points(cube(), 3000, seed=1))
    assert not np.array_equal(points, surface_points(cube(), 3000, seed=2))


class FixedLogits:
    """A stand-in encoder whose logits are given, to check the selection arithmetic."""

    def __init__(self, logits):
        self.logits = np.asarray(logits, np.float32)

    def run(self, clouds):
        return np.zeros((len(clouds), 4), np.float32), self.logits[:len(clouds)]


def test_the_highest_probability_of_the_category_wins_not_the_highest_logit():
    from text3d.data.toyworld.vocabulary import CATEGORY_NAMES

    column = CATEGORY_NAMES.index("mug")
    logits = np.zeros((2, len(CATEGORY_NAMES)), np.float32)
    logits[0, column], logits[0, 0] = 5.0, 5.0  # mug and another category tie: probability 0.5
    logits[1, column] = 4.0  # mug alone: higher probability, lower logit
    selection = select_by_category([cube(), cube()], "mug", FixedLogits(logits))
    assert selection.index == 1 and selection.probabilities[1] > 0.5 > selection.probabilities[0] - 0.01


def test_a_candidate_without_surface_scores_zero_and_loses():
    from text3d.data.toyworld.vocabulary import CATEGORY_NAMES

    flat = Asset(vertices=np.zeros((3, 3), np.float32), faces=np.array([[0, 1, 2]]))
    logits = np.zeros((1, len(CATEGORY_NAMES)), np.float32)
    selection = select_by_category([flat, cube()], "mug", FixedLogits(logits))
    assert selection.index == 1 and selection.probabilities[0] == 0.0 and selection.probabilities[1] > 0


def test_best_of_category_draws_k_only_for_one_category_and_judges_with_its_encoder():
    from text3d.data.toyworld.vocabulary import CATEGORY_NAMES

    selector = selectors.get("best_of_category")(candidates=3)
    assert isinstance(selector, BestOfCategory) and (selector.count("mug"), selector.count(None)) == (3, 1)
    assert selectors.get("best_of_category")(candidates=0).count("mug") == 1  # at least one sample
    logits = np.zeros((2, len(CATEGORY_NAMES)), np.float32)
    logits[1, CATEGORY_NAMES.index("mug")] = 3.0
    selector._encoder = FixedLogits(logits)  # stands in for the shipped point encoder
    assert selector([cube(), cube()], "mug").index == 1


@pytest.mark.slow
def test_the_shipped_point_encoder_picks_the_toyworld_object_of_the_category():
    from text3d.data.toyworld.instance import make_object
    from text3d.encoders.embedded import EmbeddedPointEncoder

    encoder = EmbeddedPointEncoder.from_pretrained()
    assets = [make_object(name, 3).to_asset() for name in ("sailboat", "mug", "rocket")]
    assert select_by_category(assets, "mug", encoder).index == 1
    assert select_by_category(assets, "rocket", encoder).index == 2
