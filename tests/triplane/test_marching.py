import numpy as np
import pytest
import torch

from text3d.assets import load_asset
from text3d.assets.io import save_asset
from text3d.errors import InputError
from text3d.triplane import extract_asset, march, marching_cubes


def test_vertices_are_skimages_and_lie_on_the_sphere(sphere):
    from skimage.measure import marching_cubes as sk_marching_cubes

    field, planes = sphere
    mesh = march(field, planes, resolution=32)
    grid = field.sdf_grid(planes, 32)[0].detach().numpy()
    padded = np.pad(grid, 1, constant_values=2 * 0.55 / 31)
    reference, faces, _, _ = sk_marching_cubes(padded, 0.0, gradient_direction="descent", allow_degenerate=False)
    reference = -0.55 + (reference - 1.0) * (2 * 0.55 / 31)
    assert np.array_equal(mesh.faces.numpy(), faces)
    assert np.abs(mesh.vertices.detach().numpy() - reference).max() < 1e-5
    radius = mesh.vertices.norm(dim=-1)
    assert (radius - 0.3).abs().max() < 0.01
    tri = mesh.vertices[mesh.faces]
    normal = torch.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0], dim=-1)
    assert ((normal * tri.mean(1)).sum(-1) > 0).all()  # counter-clockwise from outside


def test_vertex_positions_are_differentiable_in_the_sdf(sphere):
    """sdf − δ grows the sphere by δ: d(mean radius)/dδ = 1 through the edge interpolation."""
    field, planes = sphere
    grid = field.sdf_grid(planes, 24)[0].detach()
    delta = torch.zeros((), requires_grad=True)
    mesh = marching_cubes(grid - delta, bound=0.55)
    mesh.vertices.norm(dim=-1).mean().backward()
    assert delta.grad.item() == pytest.approx(1.0, abs=0.05)


def test_extracted_asset_round_trips_through_glb(sphere, tmp_path):
    field, planes = sphere
    asset = extract_asset(field, planes, resolution=32).validate()
    x = asset.vertices[:, 0]
    assert np.corrcoef(x, asset.vertex_colors[:, 0])[0, 1] > 0.95  # red grows with x, as planted
    assert np.allclose(asset.vertex_colors[:, 2], 1 / (1 + np.exp(2.0)), atol=1e-4)
    assert np.allclose(np.linalg.norm(asset.vertex_normals, axis=1), 1.0, atol=1e-4)
    back = load_asset(save_asset(asset, tmp_path / "sphere.glb"))
    assert back.n_faces == asset.n_faces
    assert np.allclose(back.bounds(), asset.bounds(), atol=1e-5)
    assert np.allclose(np.sort(back.vertex_colors[:, 0]), np.sort(asset.vertex_colors[:, 0]), atol=0.01)


def test_no_surface_is_an_input_error(sphere):
    with pytest.raises(InputError, match="no surface"):
        marching_cubes(torch.ones(8, 8, 8), bound=0.5)
    field, planes = sphere
    with pytest.raises(InputError, match="one triplane"):
        march(field, planes.expand(2, -1, -1, -1, -1), resolution=8)


@pytest.mark.parametrize("wrinkle", [0.0, 0.1])
def test_the_narrow_band_lattice_gives_the_full_lattices_mesh_from_a_fraction_of_the_decoding(wrinkle, monkeypatch):
    """A sphere-prior field, and one with a perturbed decoder and random planes (a wrinkled surface
    in several parts), mesh the same from the narrow-band lattice as from the full one, while less
    than half of the nodes are decoded."""
    from scipy import ndimage

    from text3d.triplane import TriplaneConfig, TriplaneField, narrow_band_sdf_grid

    torch.manual_seed(0)
    field = TriplaneField(TriplaneConfig(channels=8, resolution=32, texture_channels=4))
    with torch.no_grad():
        for parameter in field.parameters():
            parameter.add_(wrinkle * torch.randn_like(parameter))
        planes = field.init_planes(1, std=0.3)
        full = field.sdf_grid(planes, 48)[0]
        decoded = []
        sdf = field.sdf
        monkeypatch.setattr(field, "sdf", lambda p, points: decoded.append(points.shape[1]) or sdf(p, points))
        band = narrow_band_sdf_grid(field, planes, 48)
    assert ndimage.label(full.numpy() < 0)[1] >= (5 if wrinkle else 1)
    assert sum(decoded) < 0.5 * 48 ** 3
    assert torch.equal(torch.sign(band), torch.sign(full))
    exact = march(field, planes, 48, full)
    fast = march(field, planes, 48, band)
    assert torch.equal(fast.faces, exact.faces)
    assert torch.allclose(fast.vertices, exact.vertices, atol=1e-5)
