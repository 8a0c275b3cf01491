"""Controlled degradations: each lowers its own dimension by the documented level, changes what it
claims (geometry, colors, the object), leaves its input untouched and is deterministic."""

import numpy as np
import pytest

from text3d.data.toyworld.degrade import (
    ALIGNMENT_LEVELS,
    ASSET_DEGRADATIONS,
    DIMENSIONS,
    Levels,
    degrade_asset,
    misaligned,
    strength_level,
)
from text3d.data.toyworld.instance import make_instance
from text3d.errors import InputError


def area(asset) -> float:
    """Surface area: Σ ½‖(b − a) × (c − a)‖ over the triangles."""
    tri = asset.vertices[asset.faces].astype(np.float64)
    return float(0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1).sum())


@pytest.fixture(scope="module")
def chair():
    return make_instance("chair", 1_000_007)


@pytest.mark.parametrize("name", sorted(ASSET_DEGRADATIONS))
def test_asset_degradation_lowers_only_its_dimension(chair, name):
    asset = chair.scene().to_asset()
    before = asset.vertices.copy(), asset.vertex_colors.copy()
    out, levels = degrade_asset(asset, name, 0.75, np.random.default_rng(0))
    dimension = ASSET_DEGRADATIONS[name][0]
    expected = {"alignment": 10.0, "geometry": 10.0, "texture": 10.0, dimension: strength_level(0.75)}
    assert levels.as_array()[:3].tolist() == [expected[d] for d in DIMENSIONS[:3]]
    assert levels.overall == pytest.approx(sum(expected.values()) / 3)
    assert np.array_equal(asset.vertices, before[0]) and np.array_equal(asset.vertex_colors, before[1])
    out.validate(name)
    if dimension == "geometry":  # the surface moved, lost faces or was re-meshed
        assert abs(area(out) - area(asset)) > 0.02 * area(asset)
    else:  # same shape, other colors
        assert np.abs(out.vertex_colors[:, :3].mean(0) - asset.vertex_colors[:, :3].mean(0)).max() > 0.01 \
            or np.abs(out.vertex_colors[:, :3].std(0) - asset.vertex_colors[:, :3].std(0)).max() > 0.05
    again, _ = degrade_asset(asset, name, 0.75, np.random.default_rng(0))
    assert np.array_equal(again.vertices, out.vertices) and np.array_equal(again.vertex_colors, out.vertex_colors)


@pytest.mark.parametrize("kind", sorted(ALIGNMENT_LEVELS))
def test_misalignment_lowers_alignment_only(chair, kind):
    asset, levels, done = misaligned(chair, kind, np.random.default_rng(1))
    assert levels == Levels(alignment=ALIGNMENT_LEVELS[kind])
    assert done.split(":")[0] == kind
    reference = chair.scene().to_asset()
    assert asset.n_vertices != reference.n_vertices or not np.allclose(asset.vertex_colors, reference.vertex_colors)


def test_bad_inputs_are_one_line_errors(chair):
    asset = chair.scene().to_asset()
    with pytest.raises(InputError, match="strength 1.5: outside"):
        degrade_asset(asset, "noise", 1.5, np.random.default_rng(0))
    with pytest.raises(InputError, match="degradation 'melt': unknown"):
        degrade_asset(asset, "melt", 0.5, np.random.default_rng(0))
    with pytest.raises(InputError, match="alignment degradation 'size': unknown"):
        misaligned(chair, "size", np.random.default_rng(0))


def test_a_stated_flaw_is_one_the_text_names(chair):
    """With the text it is judged against, a missing part is a part the text names and a wrong main
    color needs the text to name that color; otherwise the flaw falls to what the text can show."""
    parts = ("back", "seat", "legs")
    for seed in range(12):  # the removed part is always the named one, never the unnamed back
        _, levels, done = misaligned(chair, "part", np.random.default_rng(seed), text="chair with black legs")
        assert done == "part:legs" and levels.alignment == ALIGNMENT_LEVELS["part"]
    without = {misaligned(chair, "part", np.random.default_rng(s))[2] for s in range(12)}
    assert without - {"part:legs"} and without <= {f"part:{p}" for p in parts[1:]}
    # no named part: a wrong color when the text names the main color, else another category
    assert misaligned(chair, "part", np.random.default_rng(0), text="a black chair")[2].startswith("color:")
    assert misaligned(chair, "color", np.random.default_rng(0), text="a chair with legs")[2] == "part:legs"
    _, levels, done = misaligned(chair, "color", np.random.default_rng(0), text="a wooden chair")
    assert done.startswith("category:") and levels.alignment == ALIGNMENT_LEVELS["category"]
    assert misaligned(chair, "color", np.random.default_rng(0), text="Black chair.")[2].startswith("color:")
