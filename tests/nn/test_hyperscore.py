"""The HyperScore-style evaluator network: shapes, score range, frozen image encoder, and that a
score's gradient reaches the text token states (and so the token embeddings before them)."""

import numpy as np
import pytest
import torch

from text3d.nn.hyperscore import HyperScore, HyperScoreConfig, views_tensor
from text3d.nn.vit import ViTConfig

torch.set_num_threads(1)
TINY_VIT = ViTConfig(patch_size=16, width=16, depth=1, heads=2, embed_dim=8).to_dict()


def tiny_network(seed: int = 0, views: int = 2) -> HyperScore:
    """A HyperScore small enough for tests: width 16, one block, a 1-block ViT of width 16."""
    torch.manual_seed(seed)
    vit = ViTConfig(patch_size=16, width=16, depth=1, heads=2, embed_dim=8).to_dict()
    return HyperScore(HyperScoreConfig(width=16, depth=1, heads=2, views=views, stem_channels=(4, 8), vit=vit))


def tiny_evaluator_folder(folder):
    """A weights folder of a 4-view :func:`tiny_network` for ``--evaluator-model`` (returns ``folder``)."""
    from text3d.nn.checkpoint import save_folder

    network = tiny_network(views=4)
    save_folder(folder, network.state_dict(), {"model": network.config.to_dict()})
    return folder


def test_scores_are_in_range_per_dimension_and_the_vit_is_frozen():
    net = tiny_network()
    images = views_tensor(torch.randint(0, 256, (3, 2, 64, 64, 3), dtype=torch.uint8))
    states = torch.randn(3, 5, 384)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 1, 0, 0, 0]])
    scores = net(images, states, mask)
    assert scores.shape == (3, len(net.config.dimensions)) == (3, 4)
    assert bool(((scores >= 0) & (scores <= 10)).all())
    assert not any(p.requires_grad for p in net.vit.parameters())
    assert not any(p.requires_grad for p in net.text_proj_clip.parameters())
    net.train()
    assert not net.vit.training  # the frozen copy never switches to training mode


def test_padding_tokens_do_not_change_the_scores():
    net = tiny_network().eval()
    images = views_tensor(torch.randint(0, 256, (1, 2, 64, 64, 3), dtype=torch.uint8))
    states = torch.randn(1, 3, 384)
    short = net(images, states, torch.ones(1, 3, dtype=torch.long))
    padded = net(images, torch.cat([states, torch.randn(1, 4, 384)], 1),
                 torch.tensor([[1, 1, 1, 0, 0, 0, 0]]))
    torch.testing.assert_close(short, padded, rtol=1e-5, atol=1e-5)


def test_each_dimension_has_its_own_gradient_with_respect_to_the_text():
    net = tiny_network(seed=1)
    images = views_tensor(torch.randint(0, 256, (1, 2, 64, 64, 3), dtype=torch.uint8))
    states = torch.randn(1, 4, 384, requires_grad=True)
    scores = net(images, states, torch.ones(1, 4, dtype=torch.long))
    grads = [torch.autograd.grad(scores[0, i], states, retain_graph=True)[0] for i in range(4)]
    assert all(g.abs().sum() > 0 for g in grads)
    assert not torch.allclose(grads[0], grads[1])  # condition embeddings make the dimensions differ


def test_config_round_trips_through_json():
    config = tiny_network().config
    assert HyperScoreConfig.from_dict(config.to_dict()) == config


def test_normal_maps_reach_the_stem_but_not_the_frozen_vit():
    torch.manual_seed(2)
    vit = ViTConfig(patch_size=16, width=16, depth=1, heads=2, embed_dim=8).to_dict()
    net = HyperScore(HyperScoreConfig(width=16, depth=1, heads=2, views=2, stem_channels=(4, 8), normal_maps=True,
                                      vit=vit)).eval()
    rgb = torch.randint(0, 256, (1, 2, 64, 64, 3), dtype=torch.uint8)
    flat, bumpy = (views_tensor(torch.cat([rgb, torch.randint(0, 256, (1, 2, 64, 64, 3), dtype=torch.uint8)], -1))
                   for _ in range(2))
    assert flat.shape == (1, 2, 6, 64, 64)
    torch.testing.assert_close(net.vit_features(flat), net.vit_features(bumpy))  # the ViT sees RGB only
    states, mask = torch.randn(1, 3, 384), torch.ones(1, 3, dtype=torch.long)
    assert not torch.allclose(net(flat, states, mask), net(bumpy, states, mask))  # the stem sees normals


def test_the_full_resolution_stem_keeps_a_one_pixel_defect_that_the_patchify_stem_averages():
    from text3d.nn.hyperscore import ConvStem

    torch.manual_seed(3)
    images = torch.zeros(1, 3, 64, 64)
    spot = images.clone()
    spot[0, :, 20, 20] = 4.0  # one pixel differs
    for kind in ("patchify", "full"):
        stem = ConvStem((4, 8), 2, 3, kind)
        assert stem(images).shape == (1, 4, 8)
    full, patchify = ConvStem((4, 8), 2, 3, "full"), ConvStem((4, 8), 2, 3, "patchify")
    with torch.no_grad():  # max pooling passes the defect's response on; the average divides it by 32²
        changed_full = (full(spot) - full(images)).abs().max()
        changed_patchify = (patchify(spot) - patchify(images)).abs().max()
    assert changed_full > 5 * changed_patchify
    config = tiny_network().config.to_dict()
    del config["stem"]  # a folder written before the option loads as the patchify stem
    assert HyperScoreConfig.from_dict(config).stem == "patchify"


def test_the_defect_branch_starts_silent_then_one_views_defect_reaches_every_dimension():
    from text3d.nn.hyperscore import DefectBranch

    torch.manual_seed(4)
    vit = ViTConfig(patch_size=16, width=16, depth=1, heads=2, embed_dim=8).to_dict()
    plain = HyperScore(HyperScoreConfig(width=16, depth=1, heads=2, views=2, stem_channels=(4, 8), vit=vit)).eval()
    branched = HyperScore(HyperScoreConfig(width=16, depth=1, heads=2, views=2, stem_channels=(4, 8),
                                           geometry_branch=4, vit=vit)).eval()
    branched.load_state_dict(plain.state_dict(), strict=False)  # everything but the branch
    images = views_tensor(torch.randint(0, 256, (1, 2, 64, 64, 3), dtype=torch.uint8))
    states, mask = torch.randn(1, 3, 384), torch.ones(1, 3, dtype=torch.long)
    torch.testing.assert_close(branched(images, states, mask), plain(images, states, mask))  # zero head at start
    scores = branched(images, states, mask)
    scores.sum().backward()
    assert branched.defects.head.weight.grad.abs().sum() > 0  # and it learns from every dimension's loss
    branch = DefectBranch(3, 4, 4)
    torch.nn.init.normal_(branch.head.weight)
    clean = torch.zeros(1, 2, 3, 64, 64)
    spot = clean.clone()
    spot[0, 1, :, 30, 30] = 4.0  # one pixel of the second view
    with torch.no_grad():
        changed = (branch(spot) - branch(clean)).abs()
    assert changed.shape == (1, 4) and bool((changed > 0).all())
    config = tiny_network().config.to_dict()
    del config["geometry_branch"]  # a folder written before the option loads without a branch
    assert HyperScoreConfig.from_dict(config).geometry_branch == 0


def _normal_views(normals: np.ndarray) -> torch.Tensor:
    """(S, S, 3) camera-space normals in [−1, 1] (0 = background) → one sample of 4 normalized white views."""
    rgb = np.full(normals.shape, 255, np.uint8)
    encoded = np.rint(127.5 * (normals + 1.0)).astype(np.uint8)
    return views_tensor(np.concatenate([rgb, encoded], -1)[None, None].repeat(4, axis=1))


def test_normal_statistics_separate_a_flat_face_a_bumpy_one_a_crease_and_a_back_face():
    from text3d.nn.hyperscore import normal_statistics

    flat = np.zeros((64, 64, 3))
    flat[16:48, 16:48] = (0.0, 0.0, 1.0)
    stats = normal_statistics(_normal_views(flat))[0, 0].numpy()
    assert stats[0] == pytest.approx(1.0) and stats[6] == 0.0 and stats[7] == pytest.approx(0.25)
    rng = np.random.default_rng(0)
    bumpy = flat.copy()
    bumpy[16:48, 16:48, :2] = rng.normal(0.0, 0.3, (32, 32, 2))  # tilts of ≈ 20° from pixel to pixel
    bumpy[16:48, 16:48] /= np.linalg.norm(bumpy[16:48, 16:48], axis=-1, keepdims=True)
    noisy = normal_statistics(_normal_views(bumpy))[0, 0].numpy()
    assert noisy[0] < 0.05 and noisy[2:5].sum() > 0.6  # the pairs leave the flat bin for the 5–40° ones
    crease = flat.copy()
    crease[16:48, 32:48] = (np.sin(np.pi / 3), 0.0, np.cos(np.pi / 3))  # two faces 60° apart
    edge = normal_statistics(_normal_views(crease))[0, 0].numpy()
    assert edge[5] == pytest.approx(32 / (2 * 32 * 31), rel=0.05)  # one column of pairs crosses the crease
    inside = flat.copy()
    inside[16:32, 16:48] = (0.0, 0.0, -1.0)  # half the face seen from behind, as through a hole
    assert normal_statistics(_normal_views(inside))[0, 0, 6].item() == pytest.approx(0.5)


def test_normal_statistics_give_each_view_a_token_that_reaches_the_scores():
    torch.manual_seed(0)
    config = HyperScoreConfig(width=16, depth=1, normal_maps=True, normal_stats=True, vit=TINY_VIT)
    model = HyperScore(config).eval()
    flat = np.zeros((64, 64, 3))
    flat[16:48, 16:48] = (0.0, 0.0, 1.0)
    text, mask = torch.randn(1, 3, 384), torch.ones(1, 3, dtype=torch.long)
    model(_normal_views(flat), text, mask)[0, 1].backward()  # geometry
    assert model.stats_proj[0].weight.grad.abs().sum() > 0
    with torch.no_grad():
        with_token = model(_normal_views(flat), text, mask)
        model.stats_proj = None
        assert not torch.allclose(with_token, model(_normal_views(flat), text, mask))
    with pytest.raises(ValueError, match="normal_maps"):
        HyperScore(HyperScoreConfig(normal_stats=True, vit=TINY_VIT))


def _color_views(rgb: np.ndarray) -> torch.Tensor:
    """(S, S, 3) uint8 colours, white = background → one sample of 4 normalized views, RGB only."""
    return views_tensor(rgb[None, None].repeat(4, axis=1))


def test_color_statistics_tell_a_wrong_hue_from_a_washed_out_or_shuffled_one():
    from text3d.nn.hyperscore import HUE_BINS, color_statistics

    image = np.full((64, 64, 3), 255, np.uint8)
    red, blue = image.copy(), image.copy()
    red[16:48, 16:48] = (200, 20, 20)
    blue[16:48, 16:48] = (20, 20, 200)
    hues = {name: color_statistics(_color_views(im))[0, 0].numpy() for name, im in (("red", red), ("blue", blue))}
    saturation = 180 / 200
    assert hues["red"][0] == pytest.approx(saturation, rel=0.02) and hues["red"][1:HUE_BINS].sum() == 0
    assert hues["blue"][240 // 30] == pytest.approx(saturation, rel=0.02) and hues["blue"][0] == 0  # 240°
    washed = image.copy()
    washed[16:48, 16:48] = (215, 200, 200)  # the red blended towards pale grey
    pale = color_statistics(_color_views(washed))[0, 0].numpy()
    assert pale[HUE_BINS + 2] == pytest.approx(1.0) and pale[:HUE_BINS].sum() < 0.1  # white-ish, unsaturated
    dark = image.copy()
    dark[16:48, 16:48] = (30, 30, 30)
    assert color_statistics(_color_views(dark))[0, 0, HUE_BINS].item() == pytest.approx(1.0)  # black
    shuffled = red.copy()
    shuffled[16:48:2, 16:48] = (20, 20, 200)  # every other row another colour
    jumps = color_statistics(_color_views(shuffled))[0, 0].numpy()
    assert jumps[-1] > 0.4 and hues["red"][-1] == 0.0  # colour jumps between neighbours
    model = HyperScore(HyperScoreConfig(width=16, depth=1, color_stats=True, vit=TINY_VIT)).eval()
    text, mask = torch.randn(1, 3, 384), torch.ones(1, 3, dtype=torch.long)
    model(_color_views(red), text, mask)[0, 0].backward()  # alignment reaches the colour token
    assert model.color_proj[0].weight.grad.abs().sum() > 0
    with torch.no_grad():
        assert not torch.allclose(model(_color_views(red), text, mask), model(_color_views(blue), text, mask))
