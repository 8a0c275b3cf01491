"""The multi-view denoiser, the teacher interface, the embedded teacher and the diffusers adapter."""

from __future__ import annotations

import pytest
import torch

from text3d.errors import InputError, ModelNotAvailableError
from text3d.nn.checkpoint import save_folder
from text3d.nn.mvdiffusion import MultiViewDiT, MVDiffusionConfig, camera_features, sample_views, velocity_to_x0
from text3d.nn.teachers.base import Teacher, guide, load_teacher, teachers

TINY = MVDiffusionConfig(views=4, image_size=8, channels=7, patch_size=4, width=16, depth=1, heads=2, text_dim=6)


def fake_text(prompts):
    """A deterministic stand-in text encoder: one 6-d state per character (codes folded)."""
    length = max(len(p) for p in prompts)
    states = torch.zeros(len(prompts), length, 6)
    mask = torch.zeros(len(prompts), length, dtype=torch.bool)
    for i, p in enumerate(prompts):
        for j, ch in enumerate(p):
            states[i, j, ord(ch) % 6] = 1.0
            mask[i, j] = True
    if length == 0:
        return torch.zeros(len(prompts), 1, 6), torch.ones(len(prompts), 1, dtype=torch.bool)
    return states, mask


def randomized(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Fill every parameter with noise (the zero-initialized output layers would hide the condition)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.3)
    return model


def test_views_attend_to_each_other_and_cameras_condition_each_view():
    torch.manual_seed(0)
    model = randomized(MultiViewDiT(TINY)).eval()
    x = torch.randn(2, 4, 7, 8, 8)
    cams = torch.randn(2, 4, 16)
    ctx, mask = model.text_context(*fake_text(["a red chair", "a blue lamp"]))
    s = torch.tensor([0.3, 0.7])
    out = model(x, s, cams, ctx, mask)
    assert out.shape == x.shape
    x2 = x.clone()
    x2[:, 3] += 1.0  # change view 3 only
    out2 = model(x2, s, cams, ctx, mask)
    assert (out2[:, 0] - out[:, 0]).abs().max() > 1e-4  # view 0 sees view 3 (3D self-attention)
    assert torch.allclose(out2[1:], model(x2[1:], s[1:], cams[1:], ctx[1:], mask[1:]), atol=1e-5)  # not across objects
    cams2 = cams.clone()
    cams2[:, 2] += 1.0
    assert (model(x, s, cams2, ctx, mask) - out).abs().max() > 1e-4
    ctx2, mask2 = model.text_context(*fake_text(["zzz", "qq"]))
    assert (model(x, s, cams, ctx2, mask2) - out).abs().max() > 1e-4


def test_patchify_round_trip_and_condition_dropout():
    model = MultiViewDiT(TINY)
    x = torch.randn(3, 4, 7, 8, 8)
    assert torch.equal(model.unpatchify(model.patchify(x)), x)
    states, mask = fake_text(["ab", "abcdefgh", "c"])
    ctx, m = model.text_context(states, mask, drop=torch.tensor([True, False, True]))
    null, null_mask = model.null_context(1, "cpu")
    assert torch.allclose(ctx[0, :TINY.null_tokens], null[0]) and m[0].sum() == TINY.null_tokens
    assert m[1].sum() == 8
    with pytest.raises(ValueError):
        MultiViewDiT(MVDiffusionConfig(image_size=10, patch_size=4))


def test_velocity_to_x0_is_exact_on_the_straight_path():
    x1, noise, s = torch.randn(2, 4, 7, 8, 8), torch.randn(2, 4, 7, 8, 8), torch.tensor([0.2, 0.9])
    xs = s.view(-1, 1, 1, 1, 1) * x1 + (1 - s.view(-1, 1, 1, 1, 1)) * noise
    assert torch.allclose(velocity_to_x0(xs, s, x1 - noise), x1, atol=1e-6)
    c2w = torch.arange(32.0).reshape(2, 4, 4)
    assert camera_features(c2w).shape == (2, 16) and camera_features(c2w)[0, 4] == 4.0


def test_sample_views_shape_and_guidance_changes_samples():
    model = randomized(MultiViewDiT(TINY)).eval()
    states, mask = fake_text(["a red chair", "a tall lamp"])
    cams = torch.randn(2, 4, 16)
    a = sample_views(model, states, mask, cams, steps=3, guidance=1.0, generator=torch.Generator().manual_seed(0))
    b = sample_views(model, states, mask, cams, steps=3, guidance=4.0, generator=torch.Generator().manual_seed(0))
    assert a.shape == (2, 4, 7, 8, 8) and torch.isfinite(b).all()
    assert (a - b).abs().max() > 1e-3


@pytest.fixture
def embedded_folder(tmp_path):
    model = randomized(MultiViewDiT(TINY))
    return save_folder(tmp_path / "toyworld-mvdiffusion", model.state_dict(), {"model": TINY.to_dict()}, "# card\n")


def test_embedded_teacher_interface_and_guidance(embedded_folder):
    teacher = load_teacher("embedded-mvdiffusion", str(embedded_folder), text_encoder=fake_text)
    assert isinstance(teacher, Teacher) and teacher.channels == 7 and teacher.views == 4
    x0 = torch.rand(2, 4, 7, 8, 8) * 2 - 1
    noise = torch.randn_like(x0)
    t = torch.tensor([0.25, 0.75])
    xt = teacher.add_noise(teacher.encode(x0), noise, t)
    assert torch.allclose(xt[0], 0.75 * x0[0] + 0.25 * noise[0])
    cams = torch.eye(4).expand(2, 4, 4, 4)
    prompts = ["a red chair", "a tall lamp"]
    cond = teacher.denoise(xt, t, prompts, cams, guidance=1.0)
    assert cond.shape == x0.shape
    # guidance w: x̂₀(∅) + w·(x̂₀(c) − x̂₀(∅)); x̂₀(∅) from the null context
    model = teacher.model
    s = 1 - t
    null, null_mask = model.null_context(2, "cpu")
    uncond = velocity_to_x0(xt, s, model(xt, s, camera_features(cams), null, null_mask))
    assert torch.allclose(teacher.denoise(xt, t, prompts, cams, guidance=3.0), guide(cond, uncond, 3.0), atol=1e-4)
    assert torch.allclose(teacher.denoise(xt, t, prompts, cams, guidance=3.0, guidance_rescale=0.7),
                          guide(cond, uncond, 3.0, 0.7), atol=1e-4)
    # gradients reach the noised views (score distillation backpropagates through x_t when asked)
    xt.requires_grad_(True)
    teacher.denoise(xt, t, prompts, cams).sum().backward()
    assert xt.grad is not None and xt.grad.abs().sum() > 0
    with pytest.raises(InputError, match="prompts"):
        teacher.denoise(xt.detach(), t, prompts[:1], cams)
    with pytest.raises(InputError, match="views of shape"):
        teacher.encode(torch.zeros(1, 4, 3, 8, 8))


def test_embedded_teacher_missing_model_or_text_encoder(tmp_path, embedded_folder):
    with pytest.raises(ModelNotAvailableError, match="toyworld-mvdiffusion"):
        load_teacher("embedded-mvdiffusion", str(tmp_path / "nowhere"), text_encoder=fake_text)
    with pytest.raises(InputError, match="text encoder"):
        load_teacher("embedded-mvdiffusion", str(embedded_folder))
    with pytest.raises(InputError, match="unknown teacher"):
        load_teacher("no-such-teacher")
    assert {"embedded-mvdiffusion", "mvdream", "stable-diffusion"} <= set(teachers.names())
