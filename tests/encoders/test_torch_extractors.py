"""Inception-v3 (FID) and PointNet++ extractors: text3d's own networks, user-supplied weights."""

import dataclasses

import numpy as np
import pytest
import torch

from tests.encoders.tiny_models import save_random_inception, save_tiny_pointnet2, tiny_pointnet2_config
from text3d.encoders import create_extractor
from text3d.encoders.inception_net import BlockE, FIDInceptionV3, prepare_inputs
from text3d.encoders.pointnet2_net import (
    PointNet2SSG,
    ball_query,
    config_from_state_dict,
    farthest_point_sample,
)
from text3d.errors import InputError, ModelNotAvailableError


@pytest.fixture(scope="module")
def inception_file(tmp_path_factory):
    return save_random_inception(tmp_path_factory.mktemp("inception") / "pt_inception.pth")


def test_inception_missing_weights_say_how(monkeypatch, tmp_path):
    monkeypatch.delenv("TEXT3D_WEIGHTS_INCEPTION", raising=False)
    with pytest.raises(ModelNotAvailableError, match="pt_inception-2015-12-05-6726825d.pth.*TEXT3D_WEIGHTS_INCEPTION"):
        create_extractor("inception-v3", device="cpu")
    with pytest.raises(ModelNotAvailableError, match="no file"):
        create_extractor("inception-v3", weights=str(tmp_path / "absent.pth"), device="cpu")


def test_inception_loads_a_state_dict_and_gives_pool3_features(inception_file):
    ext = create_extractor("inception-v3", weights=str(inception_file), device="cpu")
    rng = np.random.default_rng(0)
    imgs = [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), rng.integers(0, 256, (80, 60, 3), dtype=np.uint8)]
    feats = ext.image_features(imgs)
    assert feats.shape == (2, 2048) and feats.dtype == np.float32
    assert (feats >= 0).all() and feats.max() > 0  # ReLU → average pool
    assert not np.allclose(feats[0], feats[1], rtol=1e-3, atol=0)
    np.testing.assert_array_equal(feats, ext.image_features(imgs))
    # the same state dict loaded into a fresh network by hand gives the same features
    network = FIDInceptionV3().eval()
    network.load_state_dict(torch.load(inception_file, weights_only=True), strict=False)
    pixels = torch.from_numpy(imgs[0]).permute(2, 0, 1)[None].float() / 255.0
    with torch.no_grad():
        expected = network(prepare_inputs(pixels)).numpy()
    np.testing.assert_allclose(feats[:1], expected, rtol=1e-4, atol=0)


def test_inception_rejects_a_foreign_state_dict(tmp_path):
    path = save_tiny_pointnet2(tmp_path / "pn.pth", as_checkpoint=False)
    with pytest.raises(InputError, match="does not match"):
        create_extractor("inception-v3", weights=str(path), device="cpu")
    (tmp_path / "junk.pth").write_bytes(b"not a torch file")
    with pytest.raises(InputError, match="cannot read"):
        create_extractor("inception-v3", weights=str(tmp_path / "junk.pth"), device="cpu")


def test_inception_fid_details():
    x = torch.zeros(1, 3, 10, 10)
    out = prepare_inputs(x)
    assert out.shape == (1, 3, 299, 299) and float(out.min()) == -1.0
    assert float(prepare_inputs(torch.ones(1, 3, 299, 299)).max()) == 1.0
    assert set(FIDInceptionV3().state_dict()) >= {"Mixed_7c.branch_pool.conv.weight", "fc.weight",
                                                   "Conv2d_1a_3x3.bn.running_var"}
    assert FIDInceptionV3().fc.out_features == 1008
    torch.manual_seed(0)
    avg, mx = BlockE(8, max_pool=False).eval(), BlockE(8, max_pool=True).eval()
    mx.load_state_dict(avg.state_dict())
    feature = torch.rand(1, 8, 5, 5)
    with torch.no_grad():
        a, m = avg(feature), mx(feature)
    assert torch.allclose(a[:, :-192], m[:, :-192]) and not torch.allclose(a[:, -192:], m[:, -192:])


def numpy_fps(points, k):
    chosen, dist = [0], np.sum((points - points[0]) ** 2, axis=1)
    while len(chosen) < k:
        chosen.append(int(np.argmax(dist)))
        dist = np.minimum(dist, np.sum((points - points[chosen[-1]]) ** 2, axis=1))
    return np.array(chosen)


def test_pointnet_fps_matches_a_numpy_loop_and_ball_query():
    points = np.random.default_rng(1).random((300, 3)).astype(np.float32)
    ours = farthest_point_sample(torch.from_numpy(points)[None], 40)[0].numpy()
    np.testing.assert_array_equal(ours, numpy_fps(points, 40))
    xyz = torch.tensor([[[0.0, 0, 0], [0.1, 0, 0], [5, 5, 5], [0, 0.15, 0], [0.05, 0, 0]]])
    index = ball_query(0.2, 3, xyz, xyz[:, :1])
    assert index.tolist() == [[[0, 1, 3]]]
    index = ball_query(0.2, 6, xyz, xyz[:, 2:3])  # only itself within radius: padded with itself
    assert index.tolist() == [[[2, 2, 2, 2, 2, 2]]]


def test_pointnet_config_is_read_from_the_state_dict(tmp_path):
    state = PointNet2SSG(dataclasses.replace(tiny_pointnet2_config(), normal_channel=True)).state_dict()
    config = config_from_state_dict(state)
    assert config.normal_channel and config.sa_mlps == ((8, 8, 16), (16, 16, 32), (32, 32, 64))
    assert config.fc_widths == (32, 24) and config.num_classes == 5


def test_pointnet_extractor_features(tmp_path, monkeypatch):
    path = save_tiny_pointnet2(tmp_path / "best_model.pth")
    ext = create_extractor("pointnet2", weights=str(path), device="cpu")
    assert ext.dim == 24 and ext.point_channels == 3 and ext.modalities == {"points"}
    rng = np.random.default_rng(2)
    clouds = [rng.standard_normal((500, 3)).astype(np.float32) * s for s in (1.0, 0.3)]
    clouds[1][:, 2] *= 4.0
    feats = ext.point_features(clouds)
    assert feats.shape == (2, 24) and np.isfinite(feats).all() and not np.allclose(feats[0], feats[1])
    np.testing.assert_array_equal(feats, ext.point_features(clouds))
    # unit-sphere normalization: translation and uniform scale do not change the features
    np.testing.assert_allclose(ext.point_features([clouds[0] * 7.5 + 3.0]), feats[:1], atol=1e-4)
    # reload the same file via the environment variable: identical features
    monkeypatch.setenv("TEXT3D_WEIGHTS_POINTNET2", str(path))
    np.testing.assert_array_equal(create_extractor("pointnet2", device="cpu").point_features(clouds), feats)
    # unequal cloud sizes run one by one and agree with single calls
    mixed = ext.point_features([clouds[0], clouds[1][:300]])
    np.testing.assert_allclose(mixed[1:], ext.point_features([clouds[1][:300]]), atol=1e-5)


def test_pointnet_with_normals_needs_six_columns(tmp_path):
    path = save_tiny_pointnet2(tmp_path / "n.pth", normal_channel=True)
    ext = create_extractor("pointnet2", weights=str(path), device="cpu")
    assert ext.point_channels == 6
    cloud = np.random.default_rng(0).standard_normal((200, 6)).astype(np.float32)
    assert ext.point_features([cloud]).shape == (1, 24)
    with pytest.raises(InputError, match="P, 6"):
        ext.point_features([cloud[:, :3]])


def test_pointnet_missing_and_foreign_weights(tmp_path, inception_file, monkeypatch):
    monkeypatch.delenv("TEXT3D_WEIGHTS_POINTNET2", raising=False)
    with pytest.raises(ModelNotAvailableError, match="TEXT3D_WEIGHTS_POINTNET2"):
        create_extractor("pointnet2", device="cpu")
    with pytest.raises(InputError, match="not a PointNet"):
        create_extractor("pointnet2", weights=str(inception_file), device="cpu")
