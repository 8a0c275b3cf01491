import numpy as np
import pytest
import torch
import trimesh

from text3d.assets import Asset
from text3d.errors import InputError
from text3d.render.cameras import Camera
from text3d.render.renderer import render
from text3d.triplane import TriplaneConfig, TriplaneField, extract_asset
from text3d.triplane.fit import FitConfig, fit_views

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_fitting_renders_of_a_red_ball_learns_its_size_and_color():
    ball = trimesh.creation.icosphere(3, radius=0.4)
    target = Asset(ball.vertices, ball.faces, vertex_colors=np.tile([0.8, 0.05, 0.05, 1.0], (len(ball.vertices), 1)))
    cams = [Camera(yaw=90 * k, pitch=20, resolution=16) for k in range(4)]
    views = render(target, cams)
    field = TriplaneField(TriplaneConfig(channels=8, resolution=16, texture_channels=4, sdf_bias_radius=0.3))
    planes = field.init_planes(1)
    losses = fit_views(field, planes, cams, torch.from_numpy(views.rgb).float() / 255,
                       torch.from_numpy(views.mask).float(),
                       FitConfig(steps=16, views_per_step=2, mesh_after=0, mesh_resolution=16, samples=16))
    assert np.mean(losses[-3:]) < 0.5 * np.mean(losses[:3])
    asset = extract_asset(field, planes.detach(), 24)
    radius = np.linalg.norm(asset.vertices, axis=1).mean()
    assert radius > 0.33  # grew from the 0.3 prior towards 0.4
    red, green = asset.vertex_colors[:, 0].mean(), asset.vertex_colors[:, 1].mean()
    assert red > green + 0.1


def test_fit_checks_its_inputs():
    field = TriplaneField(TriplaneConfig(channels=4, resolution=8))
    cams = [Camera(yaw=0, pitch=0, resolution=8)]
    with pytest.raises(InputError, match="expected"):
        fit_views(field, field.init_planes(1), cams, torch.zeros(2, 8, 8, 3), torch.zeros(2, 8, 8))
    with pytest.raises(InputError, match="one triplane"):
        fit_views(field, field.init_planes(2), cams, torch.zeros(1, 8, 8, 3), torch.zeros(1, 8, 8))


@pytest.mark.parametrize("renderers", ["volume", "mesh"])
def test_each_renderer_alone_also_fits(renderers):
    ball = trimesh.creation.icosphere(2, radius=0.4)
    cams = [Camera(yaw=90 * k, pitch=20, resolution=16) for k in range(2)]
    views = render(Asset(ball.vertices, ball.faces), cams)
    field = TriplaneField(TriplaneConfig(channels=4, resolution=8, sdf_bias_radius=0.3))
    losses = fit_views(field, field.init_planes(1), cams, torch.from_numpy(views.rgb).float() / 255,
                       torch.from_numpy(views.mask).float(),
                       FitConfig(steps=8, views_per_step=2, mesh_resolution=16, samples=16, renderers=renderers))
    assert losses[-1] < 0.7 * losses[0]
    with pytest.raises(InputError, match="renderers"):
        FitConfig(renderers="raster")
