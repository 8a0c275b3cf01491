"""The Stable Diffusion / MVDream adapter on tiny random diffusers UNets saved to a folder."""

from __future__ import annotations

import pytest
import torch

from text3d.errors import ModelNotAvailableError
from text3d.nn.teachers.base import Teacher, guide, load_teacher

diffusers = pytest.importorskip("diffusers")


def text8(prompts):
    """Stand-in text encoder: (B, 5, 8) states from character codes."""
    states = torch.zeros(len(prompts), 5, 8)
    for i, p in enumerate(prompts):
        for j, ch in enumerate(p[:5]):
            states[i, j, ord(ch) % 8] = 1.0
    return states, torch.ones(len(prompts), 5, dtype=torch.bool)


def save_tiny_pipeline(folder, cameras: bool, prediction: str = "epsilon"):
    torch.manual_seed(0)
    unet = diffusers.UNet2DConditionModel(
        sample_size=8, in_channels=4, out_channels=4, layers_per_block=1, block_out_channels=(8, 16),
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=8, attention_head_dim=2, norm_num_groups=4,
        **({"class_embed_type": "projection", "projection_class_embeddings_input_dim": 16} if cameras else {}))
    unet.save_pretrained(folder / "unet")
    diffusers.DDPMScheduler(num_train_timesteps=100, prediction_type=prediction).save_pretrained(folder / "scheduler")
    return folder


@pytest.mark.parametrize("name", ["mvdream", "stable-diffusion"])
def test_adapter_loads_a_saved_unet_and_returns_x0(tmp_path, name):
    folder = save_tiny_pipeline(tmp_path / "pipe", cameras=name == "mvdream")
    teacher = load_teacher(name, str(folder), text_encoder=text8)
    assert isinstance(teacher, Teacher) and teacher.channels == 4
    x0 = torch.randn(2, 4, 4, 8, 8)
    noise = torch.randn_like(x0)
    t = torch.tensor([0.0, 0.5])
    xt = teacher.add_noise(teacher.encode(x0), noise, t)
    a = teacher.alphas_cumprod[torch.tensor([0, 50])].view(-1, 1, 1, 1, 1)
    assert torch.allclose(xt, a.sqrt() * x0 + (1 - a).sqrt() * noise)
    cams = torch.randn(2, 4, 4, 4)
    prompts = ["a red chair", "a lamp"]
    cond = teacher.denoise(xt, t, prompts, cams)
    assert cond.shape == x0.shape and torch.isfinite(cond).all()
    uncond = teacher.denoise(xt, t, ["", ""], cams)
    assert torch.allclose(teacher.denoise(xt, t, prompts, cams, guidance=5.0), guide(cond, uncond, 5.0), atol=1e-4)
    assert torch.allclose(teacher.denoise(xt, t, prompts, cams, guidance=5.0, guidance_rescale=1.0),
                          guide(cond, uncond, 5.0, 1.0), atol=1e-4)
    # x̂₀ is the ε-prediction inverted: recompute from the UNet by hand for view 0 of object 1
    eps = teacher.unet(xt[1, :], torch.full((4,), 50), encoder_hidden_states=text8(["a lamp"] * 4)[0],
                       class_labels=cams[1].reshape(4, 16) if name == "mvdream" else None).sample
    expected = (xt[1] - (1 - a[1, 0]).sqrt() * eps) / a[1, 0].sqrt()
    assert torch.allclose(cond[1], expected, atol=1e-4)


def test_mvdream_views_attend_to_each_other_and_sd_views_do_not(tmp_path):
    x = torch.randn(1, 4, 4, 8, 8)
    t = torch.tensor([0.5])
    cams = torch.eye(4).expand(1, 4, 4, 4)
    for name, joint in (("mvdream", True), ("stable-diffusion", False)):
        teacher = load_teacher(name, str(save_tiny_pipeline(tmp_path / name, cameras=joint)), text_encoder=text8)
        out = teacher.denoise(x, t, ["chair"], cams)
        x2 = x.clone()
        x2[0, 3] += 1.0
        changed = (teacher.denoise(x2, t, ["chair"], cams)[0, 0] - out[0, 0]).abs().max()
        assert (changed > 1e-5) == joint, name


def test_missing_folder_and_wrong_unet_fail_in_one_line(tmp_path):
    with pytest.raises(ModelNotAvailableError, match="no unet/config.json") as info:
        load_teacher("mvdream", str(tmp_path / "absent"), text_encoder=text8)
    assert "\n" not in str(info.value)
    with pytest.raises(ModelNotAvailableError, match="no path given"):
        load_teacher("stable-diffusion")
    folder = save_tiny_pipeline(tmp_path / "sd", cameras=False)
    with pytest.raises(Exception, match="camera embedding"):
        load_teacher("mvdream", str(folder), text_encoder=text8)


def test_v_prediction_schedule(tmp_path):
    folder = save_tiny_pipeline(tmp_path / "v", cameras=False, prediction="v_prediction")
    teacher = load_teacher("stable-diffusion", str(folder), text_encoder=text8)
    x = torch.randn(1, 2, 4, 8, 8)
    t = torch.tensor([0.3])
    k = round(0.3 * 99)
    a = teacher.alphas_cumprod[k]
    v = teacher.unet(x[0], torch.full((2,), k), encoder_hidden_states=text8(["x", "x"])[0]).sample
    expected = a.sqrt() * x[0] - (1 - a).sqrt() * v
    assert torch.allclose(teacher.denoise(x, t, ["x"], torch.zeros(1, 2, 4, 4))[0], expected, atol=1e-4)


def test_a_pipeline_with_a_vae_takes_rgb_views_and_works_on_latents(tmp_path):
    folder = save_tiny_pipeline(tmp_path / "sd-vae", cameras=False)
    vae = diffusers.AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8, 8),
                                  down_block_types=("DownEncoderBlock2D",) * 2,
                                  up_block_types=("UpDecoderBlock2D",) * 2, norm_num_groups=4, scaling_factor=0.5)
    vae.save_pretrained(folder / "vae")
    teacher = load_teacher("stable-diffusion", str(folder), text_encoder=text8)
    assert teacher.channels == 3
    rgb = torch.rand(1, 2, 3, 16, 16) * 2 - 1
    latents = teacher.encode(rgb)
    assert latents.shape == (1, 2, 4, 8, 8)
    expected = teacher.vae.encode(rgb[0]).latent_dist.mean * 0.5
    assert torch.allclose(latents[0], expected, atol=1e-5)
    x0 = teacher.denoise(teacher.add_noise(latents, torch.randn_like(latents), torch.tensor(0.4)), torch.tensor(0.4),
                         ["a chair"], torch.zeros(1, 2, 4, 4), guidance=2.0)
    assert x0.shape == latents.shape


def test_guidance_rescale_matches_the_conditional_spread_about_the_guided_mean():
    torch.manual_seed(0)
    cond, uncond = torch.randn(3, 4, 7, 8, 8) + 0.5, torch.randn(3, 4, 7, 8, 8)
    plain = guide(cond, uncond, 5.0)
    assert torch.equal(guide(cond, uncond, 5.0, 0.0), plain)
    full = guide(cond, uncond, 5.0, 1.0)
    axes = (1, 2, 3, 4)
    # φ = 1: the conditional estimate's spread, the guided estimate's mean (a white background stays white)
    assert torch.allclose(full.std(axes), cond.std(axes), atol=1e-5)
    assert torch.allclose(full.mean(axes), plain.mean(axes), atol=1e-5)
    assert (plain.std(axes) > 2 * cond.std(axes)).all()  # guidance 5 inflated it, so the rescale is not a no-op
    # φ in between interpolates linearly
    assert torch.allclose(guide(cond, uncond, 5.0, 0.7), 0.7 * full + 0.3 * plain, atol=1e-5)
