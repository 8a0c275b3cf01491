import pytest
import torch

from text3d.errors import InputError
from text3d.triplane import TriplaneConfig, TriplaneField


@pytest.mark.parametrize("aggregate,texture,width", [("sum", 0, 8), ("concat", 0, 24), ("sum", 3, 8)])
def test_shapes(aggregate, texture, width):
    field = TriplaneField(TriplaneConfig(channels=8, resolution=16, aggregate=aggregate, texture_channels=texture))
    planes = field.init_planes(2, std=0.1, generator=torch.Generator().manual_seed(0))
    assert planes.shape == (2, 3, 8, 16, 16)
    points = torch.rand(2, 50, 3) - 0.5
    assert field.features(planes, points).shape == (2, 50, width)
    sdf, rgb = field(planes, points)
    assert sdf.shape == (2, 50) and rgb.shape == (2, 50, 3)
    assert torch.allclose(sdf, field.sdf(planes, points)) and torch.allclose(rgb, field.rgb(planes, points))
    assert ((rgb > 0) & (rgb < 1)).all()


def test_plane_axes_and_bilinear_sampling():
    """XY is indexed (w = x, h = y), XZ (w = x, h = z), YZ (w = y, h = z); linear functions are
    reproduced exactly at any point."""
    config = TriplaneConfig(channels=3, resolution=9, aggregate="concat", bound=0.5)
    field = TriplaneField(config)
    axis = torch.linspace(-0.5, 0.5, 9)
    w, h = axis[None, :].expand(9, -1), axis[:, None].expand(-1, 9)
    planes = torch.zeros(config.plane_shape(1))
    for plane in range(3):
        planes[0, plane, 0], planes[0, plane, 1] = w, h
    p = torch.tensor([[[0.1, -0.23, 0.37], [-0.41, 0.05, -0.12]]])
    feats = field.features(planes, p)[0].reshape(2, 3, 3)[..., :2]  # (P, plane, (w, h))
    expected = torch.stack([p[0][:, [0, 1]], p[0][:, [0, 2]], p[0][:, [1, 2]]], dim=1)
    assert torch.allclose(feats, expected, atol=1e-6)


def test_sphere_prior_and_gradient():
    field = TriplaneField(TriplaneConfig(channels=4, resolution=8, sdf_bias_radius=0.3))
    with torch.no_grad():
        for module in field.modules():
            if isinstance(module, torch.nn.Linear):
                module.weight.zero_()
    planes = field.init_planes(1)
    p = torch.tensor([[[0.3, 0.0, 0.0], [0.0, 0.1, 0.0], [0.2, 0.2, 0.2]]])
    assert torch.allclose(field.sdf(planes, p), p.norm(dim=-1) - 0.3, atol=1e-6)
    assert torch.allclose(field.rgb(planes, p), torch.full((1, 3, 3), 0.5))
    grad = field.sdf_gradient(planes, p, eps=1e-3)
    assert torch.allclose(grad, p / p.norm(dim=-1, keepdim=True), atol=1e-3)


def test_save_load_round_trip(tmp_path):
    field = TriplaneField(TriplaneConfig(channels=6, resolution=8, texture_channels=2, aggregate="concat"))
    planes = field.init_planes(1, std=0.3, generator=torch.Generator().manual_seed(1))
    field.save(tmp_path / "tp", planes=planes)
    loaded, loaded_planes = TriplaneField.load(tmp_path / "tp")
    assert loaded.config == field.config and torch.equal(loaded_planes, planes)
    p = torch.rand(1, 20, 3) - 0.5
    for a, b in zip(field(planes, p), loaded(loaded_planes, p)):
        assert torch.allclose(a, b)


def test_bad_input():
    with pytest.raises(InputError, match="aggregate"):
        TriplaneConfig(aggregate="mean")
    with pytest.raises(InputError, match="texture_channels"):
        TriplaneConfig(channels=4, texture_channels=4)
    field = TriplaneField(TriplaneConfig(channels=4))
    with pytest.raises(InputError, match="expected"):
        field.check_planes(torch.zeros(1, 3, 5, 8, 8))


def test_zero_points_decode_to_empty_outputs_with_split_channels():
    for aggregate in ("sum", "concat"):  # C or 3C features, split into geometry and texture blocks
        field = TriplaneField(TriplaneConfig(channels=4, resolution=8, texture_channels=2, aggregate=aggregate))
        planes = torch.zeros(field.config.plane_shape(1))
        sdf, rgb = field(planes, torch.zeros(1, 0, 3))
        assert sdf.shape == (1, 0) and rgb.shape == (1, 0, 3)
