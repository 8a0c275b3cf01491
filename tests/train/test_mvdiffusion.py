"""``text3d train mvdiffusion`` on a tiny model: renders with normals and depth, resume after a
kill equals an uninterrupted run, the weights load as a teacher, the held-out figures and the card."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import text3d.train.mvdiffusion as mvdiffusion_training
from text3d.cli import main
from text3d.nn.teachers.base import Teacher
from text3d.train.loop import optimizer_step
from text3d.train.mvdiffusion import evaluate_folder, load_embedded_teacher, train_mvdiffusion
from text3d.train.mvdiffusion_config import MVDiffusionTrainConfig
from text3d.train.mvdiffusion_data import ViewSpec, build_views, dequantize, encode_views, item_cameras, make_item
from text3d.train.mvdiffusion_eval import recognition, rgb_uint8, silhouette_agreement, target_error

TINY = dict(items=4, image_size=8, patch_size=4, width=16, depth=1, heads=2, steps=4, batch=2, warmup=1,
            time_sampling="uniform", dev_prompts=0, test_prompts=4, sample_steps=2, workers=1, checkpoint_every=2)


def test_views_hold_rgb_normals_and_depth_at_the_item_cameras():
    item = make_item(3, ViewSpec(4, image_size=16))
    views = dequantize(item["views"])
    assert views.shape == (4, 7, 16, 16) and item["c2w"].shape == (4, 4, 4)
    background = views[:, :3].min(1) > 0.99  # white
    assert background.any() and (~background).any()
    assert np.all(views[:, 6][background] > 0.99)  # depth: far on the background
    assert np.all(views[:, 6][~background].mean() < 0.5)
    inside = np.linalg.norm(views[:, 3:6], axis=1)[views[:, :3].max(1) < 0.9]
    assert inside.size and np.median(inside) > 0.9  # unit normals inside the silhouette
    yaws = [c.yaw for c in item_cameras(3, ViewSpec(4))]
    assert np.allclose(np.diff(yaws), 90.0)
    assert [c.yaw for c in item_cameras(3, ViewSpec(4, random_cameras=False))] == [0.0, 90.0, 180.0, 270.0]
    assert silhouette_agreement(views[None]) > 0.8


def test_encode_views_area_averages_and_maps_depth():
    rgb = np.full((1, 4, 4, 3), 255, np.uint8)
    rgb[0, :2, :2] = 0
    normals = np.zeros((1, 4, 4, 3), np.float32)
    normals[0, :2, :2, 2] = 1.0
    depth = np.zeros((1, 4, 4), np.float32)
    depth[0, :2, :2] = 2.5
    views = encode_views(rgb, normals, depth, depth > 0)
    assert views.shape == (1, 7, 2, 2)
    assert np.allclose(views[0, :, 0, 0], [-1, -1, -1, 0, 0, 1, 0.5])
    assert np.allclose(views[0, :, 1, 1], [1, 1, 1, 0, 0, 0, 1])


def test_recognition_scores_true_renders_against_themselves(tmp_path):
    from text3d.encoders.embedded import EmbeddedImageEncoder

    truth = build_views(ViewSpec(6, 1_000_000, 32, random_cameras=False), tmp_path, workers=1)
    images = rgb_uint8(dequantize(truth.views))
    encoder = EmbeddedImageEncoder.from_pretrained(None, "cpu")
    same = recognition(encoder, images, images, list(truth.categories))
    assert same["r_at_1"] == 1.0 and same["category_accuracy"] == same["category_accuracy_true_renders"]
    blank = recognition(encoder, np.full_like(images, 255), images, list(truth.categories))
    assert blank["r_at_1"] <= 0.17  # every blank sample is the same: it finds one object at most


def test_killed_training_resumes_to_the_uninterrupted_weights_and_loads_as_a_teacher(tmp_path, monkeypatch,
                                                                                    interrupt_at):
    config = MVDiffusionTrainConfig(**TINY)
    train_mvdiffusion(tmp_path / "whole", config, progress=False)
    interrupt_at(mvdiffusion_training, "optimizer_step", 3)
    with pytest.raises(KeyboardInterrupt):
        train_mvdiffusion(tmp_path / "resumed", config, progress=False)
    saved = torch.load(tmp_path / "resumed" / "mvdiffusion.pt", weights_only=False)
    assert saved["step"] == 2 and saved["cpu_s"] > 0
    # The killed attempt's CPU counts in the recipe's cost: say it had spent 10 CPU-minutes by then.
    torch.save({**saved, "cpu_s": 600.0}, tmp_path / "resumed" / "mvdiffusion.pt")
    with (tmp_path / "resumed" / "train_log.jsonl").open("a") as log:  # a row the killed step had logged
        log.write(json.dumps({"model": "mvdiffusion", "step": 2, "loss": 9.9}) + "\n")
    monkeypatch.setattr(mvdiffusion_training, "optimizer_step", optimizer_step)
    figures = train_mvdiffusion(tmp_path / "resumed", config, progress=False)
    whole = load_file(str(tmp_path / "whole" / "toyworld-mvdiffusion" / "model.safetensors"))
    resumed = load_file(str(tmp_path / "resumed" / "toyworld-mvdiffusion" / "model.safetensors"))
    assert whole.keys() == resumed.keys() and all(torch.equal(whole[k], resumed[k]) for k in whole)
    steps = [json.loads(line)["step"] for line in (tmp_path / "resumed" / "train_log.jsonl").open()]
    assert steps == [0, 3]  # step 0, [killed in step 2], resumed at step 2: steps 2 and 3 run, the last logged
    assert not (tmp_path / "resumed" / "mvdiffusion.pt").exists()
    training = json.loads((tmp_path / "resumed" / "toyworld-mvdiffusion" / "config.json").read_text())["training"]
    assert 10.0 <= training["cpu_minutes"] < 15.0
    test = figures["test"]
    assert test["n"] == 4 and "test range" in test["seeds"] and 0 <= test["r_at_1"] <= 1
    folder = tmp_path / "resumed" / "toyworld-mvdiffusion"
    card = (folder / "README.md").read_text()
    assert "text3d train mvdiffusion" in card and "R@1" in card and f"{test['r_at_1']:.3f}" in card
    denoised = test["denoise_t0.5"]
    assert denoised["own_prompt"]["n"] == denoised["shuffled_prompt"]["n"] == 4
    assert f"| test | 0.5 | {denoised['own_prompt']['category_accuracy']:.3f} |" in card
    assert denoised['blurred_input']['n'] == 4
    dev = evaluate_folder(folder, tmp_path / "cache", "dev", n=3, guidance=2.0, sample_steps=1)
    assert dev["n"] == 3 and dev["guidance"] == 2.0 and "development range" in dev["seeds"]
    teacher = load_embedded_teacher(folder)
    assert isinstance(teacher, Teacher)
    x = torch.zeros(1, 4, 7, 8, 8)
    assert teacher.denoise(x, torch.tensor([0.5]), ["a red chair"], torch.eye(4).expand(1, 4, 4, 4),
                           guidance=3.0).shape == x.shape


def test_cli_trains_with_its_flags(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "mvdiffusion", "--out", str(out), "--items", "2", "--image-size", "8", "--patch-size", "4",
            "--width", "8", "--depth", "1", "--heads", "1", "--steps", "1", "--batch", "1", "--dev-prompts", "0",
            "--test-prompts", "0", "--workers", "1"]
    assert main(args) in (0, None)
    summary = json.loads((out / "summary.json").read_text())
    config = json.loads((out / "toyworld-mvdiffusion" / "config.json").read_text())
    assert config["model"]["width"] == 8 and config["training"]["config"]["steps"] == 1
    assert summary["parameters"] > 0
    capsys.readouterr()
    weights = (out / "toyworld-mvdiffusion" / "model.safetensors").read_bytes()
    assert main([*args, "--steps", "2"]) == 2  # would replace the finished teacher
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds a multi-view teacher trained with other settings (steps differ)" in err[0]
    assert (out / "toyworld-mvdiffusion" / "model.safetensors").read_bytes() == weights


def test_blurred_baseline_filters_the_same_noised_views():
    from text3d.train.mvdiffusion import blurred_held_out, noised_held_out
    from text3d.train.mvdiffusion_data import ViewSet

    views = np.full((2, 4, 7, 8, 8), 255, np.uint8)
    views[:, :, :, 4, 4] = 0  # one dark pixel
    data = ViewSet(views, np.zeros((2, 4, 4, 4), np.float32), np.array(["chair", "lamp"]), np.array([["a"] * 2] * 2))
    clean = blurred_held_out(data, 0.0, seed=0)
    assert clean.shape == (2, 4, 7, 8, 8)
    assert clean[0, 0, 0, 4, 4] == pytest.approx(1 - 2 * 4 / 16)  # centre weight 4/16 of a −1 pixel among +1
    assert clean[0, 0, 0, 2, 2] == pytest.approx(1.0)
    first = [xt for _, _, xt in noised_held_out(data, 0.5, seed=3)]
    again = [xt for _, _, xt in noised_held_out(data, 0.5, seed=3)]
    assert all(torch.equal(a, b) for a, b in zip(first, again))


class _ShrinkingTeacher:
    """x̂₀ = a·x₀ + (1 − a)·x̄₀ of the views it knows: a = 1 the truth, 0 the mean image, > 1 overshoot."""

    def __init__(self, x0: torch.Tensor, a: float) -> None:
        self.x0, self.a = x0, a

    def add_noise(self, x0, noise, t):
        t = t.view(-1, 1, 1, 1, 1)
        return (1 - t) * x0 + t * noise

    def denoise(self, x_t, t, prompts, cameras, guidance=1.0, guidance_rescale=0.0):
        assert x_t.shape == self.x0.shape and len(prompts) == len(x_t) and guidance == 5.0 and guidance_rescale == 0
        return self.a * self.x0 + (1 - self.a) * self.x0.mean(0, keepdim=True)


def test_target_error_is_the_share_of_the_mean_images_error_per_channel_group():
    x0 = torch.randn(6, 4, 7, 8, 8, generator=torch.Generator().manual_seed(0))
    cameras = torch.eye(4).expand(6, 4, 4, 4)
    for a, expected in ((1.0, 0.0), (0.0, 1.0), (3.0, 4.0), (0.5, 0.25)):  # FVU = (1 − a)²
        fvu = target_error(_ShrinkingTeacher(x0, a), x0, cameras, ["p"] * 6, t=0.6, guidance=5.0, draws=2)
        assert set(fvu) == {"rgb", "normal", "depth"}
        assert all(v == pytest.approx(expected, abs=1e-5) for v in fvu.values()), (a, fvu)
