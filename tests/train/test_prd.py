"""Progressive rendering distillation on a tiny random teacher: the prompts, the renders in the
teacher's view space, one PRD step's gradients, resuming, and training without any 3D asset."""

from __future__ import annotations

import dataclasses
import json
import zlib

import numpy as np
import pytest
import torch

from text3d.data.toyworld import shapes
from text3d.errors import InputError
from text3d.nn.checkpoint import load_folder
from text3d.nn.mvdiffusion import MultiViewDiT, MVDiffusionConfig
from text3d.nn.teachers.embedded import EmbeddedMVTeacher
from text3d.render.cameras import Camera
from text3d.train import prd
from text3d.train.prd import TextStates, prd_step, student_config, train_prd
from text3d.train.prd_config import PRDTrainConfig
from text3d.train.prd_views import render_teacher_views
from text3d.triplane import TriplaneConfig, TriplaneField
from text3d.triplane.student import TriplaneStudent


def hashed_text(prompts):
    """A stand-in text encoder: 5 token states per prompt, seeded by the prompt's text."""
    rows = [torch.randn(5, 384, generator=torch.Generator().manual_seed(zlib.crc32(p.encode()))) for p in prompts]
    return torch.stack(rows), torch.ones(len(prompts), 5, dtype=torch.bool)


def tiny_teacher() -> EmbeddedMVTeacher:
    torch.manual_seed(0)
    model = MultiViewDiT(MVDiffusionConfig(image_size=16, width=32, depth=2, heads=2))
    with torch.no_grad():  # a fresh DiT's zero-initialized layers, made non-zero as after training
        model.out.weight.normal_(std=0.02)
        for block in model.blocks:
            block.ada.weight.normal_(std=0.02)
            block.cross.out.weight.normal_(std=0.02)
    return EmbeddedMVTeacher(model, hashed_text)


TINY = PRDTrainConfig(prompts=6, steps=3, batch=1, denoise_steps=2, probe_prompts=2, probe_every=2, samples=8,
                      mesh_resolution=16, checkpoint_every=1, plane_channels=4, texture_channels=2, lora_rank=2,
                      renderers="both", supervise="all")  # every loss term of the paper's dual rendering


def test_renders_map_to_the_teachers_view_space():
    field = TriplaneField(TriplaneConfig(channels=4, resolution=8))  # zero planes: the prior sphere, r = 0.3
    planes = torch.zeros(field.config.plane_shape(1))
    ring = [[Camera(yaw=90.0 * k, pitch=20.0, resolution=16) for k in range(4)]]
    for kind in ("volume", "mesh"):
        views, _ = render_teacher_views(field, planes, ring, kind, samples=64, inv_s=256.0, mesh_resolution=24)
        assert views.shape == (1, 4, 7, 16, 16)
        corner, center = views[0, :, :, 0, 0], views[0, :, :, 8, 8]
        assert torch.allclose(corner, torch.tensor([1.0, 1, 1, 0, 0, 0, 1]).expand(4, 7), atol=1e-3)  # white, far
        assert torch.allclose(center[:, 6], torch.full((4,), -0.3), atol=0.03)  # depth z − 2 on the sphere
        assert torch.allclose(center[:, 3:6].norm(dim=-1), torch.ones(4), atol=0.03)  # unit normals
        assert (center[:, :3] < 0.9).all()  # shaded grey, not background


def test_a_field_without_surface_renders_the_background():
    # a student can lose its surface during distillation: zero points to decode, which must not crash
    field = TriplaneField(TriplaneConfig(channels=4, resolution=8, texture_channels=2, sdf_bias="none"))
    with torch.no_grad():  # SDF = 1 everywhere: no surface, no interval of any opacity
        field.sdf_head[-1].weight.zero_()
        field.sdf_head[-1].bias.fill_(1.0)
    ring = [[Camera(yaw=90.0 * k, pitch=20.0, resolution=16) for k in range(4)]]
    for kind in ("volume", "mesh"):
        views, _ = render_teacher_views(field, torch.zeros(field.config.plane_shape(1)), ring, kind)
        background = torch.tensor([1.0, 1, 1, 0, 0, 0, 1])[None, :, None, None].expand(4, 7, 16, 16)
        assert torch.allclose(views[0], background), kind


def test_one_prd_step_gives_finite_gradients_only_to_trainable_parameters():
    teacher = tiny_teacher()
    before = {k: v.clone() for k, v in teacher.model.state_dict().items()}
    torch.manual_seed(0)
    student = TriplaneStudent(teacher.model, student_config(TINY))
    with torch.no_grad():  # as after a first update: the zero-initialized plane head passes gradients back
        student.backbone.plane_out.weight.normal_(std=0.05)
    terms = prd_step(student, teacher, ["a red chair"], TextStates(hashed_text), TINY, 0.0,
                     np.random.default_rng(0), torch.Generator().manual_seed(0))
    assert set(terms) == {"loss", "volume", "mesh", "eikonal"} and all(np.isfinite(list(terms.values())))
    for name, p in student.named_parameters():
        if p.requires_grad:
            assert p.grad is not None and torch.isfinite(p.grad).all(), name
        else:
            assert p.grad is None, name
    # through the frozen trunk to every adapter (LoRA's A waits for its zero-initialized B to move)
    nonzero = {n for n, p in student.named_parameters() if p.requires_grad and p.grad.abs().sum() > 0}
    assert {n for n, _ in student.named_parameters() if n.endswith(".up")} <= nonzero  # every LoRA B
    assert {"backbone.plane_in.weight", "backbone.plane_out.weight", "backbone.plane_embed",
            "backbone.cross.0.up.weight", "backbone.cross.1.up.weight", "field.sdf_head.2.weight",
            "field.rgb_head.2.weight"} <= nonzero
    assert all(p.grad is None for p in teacher.model.parameters())
    assert all(torch.equal(before[k], v) for k, v in teacher.model.state_dict().items())
    assert not any(p.requires_grad for p in teacher.model.parameters())


def _final_state(out):
    state, config = load_folder(out / prd.FOLDER)
    return state, config


def test_killed_training_resumes_to_the_uninterrupted_weights(tmp_path, monkeypatch, interrupt_at, caplog):
    reference = tmp_path / "reference"
    train_prd(reference, TINY, teacher=tiny_teacher(), progress=False)
    resumed = tmp_path / "resumed"
    real_step = interrupt_at(prd, "prd_step", 3)
    with pytest.raises(KeyboardInterrupt):
        train_prd(resumed, TINY, teacher=tiny_teacher(), progress=False)
    assert (resumed / "prd.pt").exists()
    monkeypatch.setattr(prd, "prd_step", real_step)
    figures = train_prd(resumed, TINY, teacher=tiny_teacher(), progress=False)
    assert not (resumed / "prd.pt").exists()
    (a, config_a), (b, config_b) = _final_state(reference), _final_state(resumed)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert config_a["probes"] == config_b["probes"] and [p["step"] for p in config_b["probes"]] == [0, 2, 3]
    assert figures["probe_last"]["step"] == 3 and figures["parameters"]["trainable"] > 0
    card = (resumed / prd.FOLDER / "README.md").read_text()
    assert "2.5 %" in card and "text3d train turbo" in card
    # finished: the same settings give its figures without training again; other settings are refused
    weights = resumed / prd.FOLDER / "model.safetensors"
    before = weights.stat().st_mtime_ns
    (resumed / "summary.json").unlink()  # e.g. killed between the weights and the summary
    with caplog.at_level("WARNING", logger="text3d"):
        assert train_prd(resumed, TINY, teacher=tiny_teacher(), progress=False) == figures
    assert "nothing was trained" in caplog.text
    assert (resumed / "summary.json").is_file() and weights.stat().st_mtime_ns == before
    with pytest.raises(InputError, match=r"^--out .*resumed: holds a student trained with other settings \(lr "):
        train_prd(resumed, dataclasses.replace(TINY, lr=0.01), teacher=tiny_teacher(), progress=False)
    assert weights.stat().st_mtime_ns == before


def test_training_reads_no_3d_asset(tmp_path, monkeypatch):
    def no_meshes(*args, **kwargs):
        raise AssertionError("a toyworld mesh was built during distillation")

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    for primitive in [shapes.Primitive, *subclasses(shapes.Primitive)]:
        monkeypatch.setattr(primitive, "mesh", no_meshes)
        monkeypatch.setattr(primitive, "contains", no_meshes)
    monkeypatch.setattr(shapes.Part, "world_mesh", no_meshes)
    monkeypatch.setattr(prd, "make_instance", no_meshes, raising=False)
    config = dataclasses.replace(TINY, steps=2, adaptation="lora", renderers="both")
    figures = train_prd(tmp_path / "run", config, teacher=tiny_teacher(), progress=False)
    assert figures["probe_last"]["step"] == 2
    log = [json.loads(line) for line in (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()]
    assert any("loss" in r for r in log) and any("probe" in r for r in log)


def test_bad_settings_and_teachers_are_one_line_errors(tmp_path):
    with pytest.raises(InputError, match="--adaptation 'adapters'"):
        train_prd(tmp_path / "a", dataclasses.replace(TINY, adaptation="adapters"), teacher=tiny_teacher())
    with pytest.raises(InputError, match="--renderers"):
        train_prd(tmp_path / "b", dataclasses.replace(TINY, renderers="points"), teacher=tiny_teacher())

    class OtherTeacher:
        name, views, channels = "stable-diffusion", 1, 3

    with pytest.raises(InputError, match="embedded multi-view teacher's backbone"):
        train_prd(tmp_path / "c", TINY, teacher=OtherTeacher())
    for bad, match in (({"lr": 0.0}, "^--lr 0.0: must be above 0"), ({"batch": 7}, "^--batch 7: more than the 6 "),
                       ({"teacher": ""}, "^--teacher '': empty"),
                       ({"t_max": 0.01}, "^--t-max 0.01: below"), ({"t_max_end": 0.0}, "^--t-max-end 0.0: below")):
        with pytest.raises(InputError, match=match):
            train_prd(tmp_path / "d", dataclasses.replace(TINY, **bad), teacher=tiny_teacher())
    assert not (tmp_path / "d").exists()


def test_another_models_folder_as_teacher_is_a_one_line_error(tmp_path):
    from safetensors.torch import save_file

    folder = tmp_path / "generator"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"dit": {"width": 8}}))
    save_file({"w": torch.zeros(2)}, str(folder / "model.safetensors"))
    with pytest.raises(InputError, match=r"generator: not a multi-view teacher's folder"):
        EmbeddedMVTeacher.from_pretrained(folder, text_encoder=hashed_text)


def test_a_camera_is_recovered_from_its_camera_to_world_matrix():
    from text3d.train.prd_generator_teacher import camera_from_c2w

    for yaw, pitch in ((0.0, 10.0), (135.0, 35.0), (-100.0, 40.0), (270.0, -20.0)):
        camera = Camera(yaw=yaw, pitch=pitch, radius=2.0, resolution=32)
        assert np.allclose(camera_from_c2w(camera.c2w(), 32).c2w(), camera.c2w(), atol=1e-9)


def _procedural_counting(calls: list[str]):
    """The procedural generator, recording the prompts it is asked for in ``calls``."""
    from text3d.generators.base import create_generator

    procedural = create_generator("procedural")

    class Counting:
        def generate(self, condition, seed=0):
            calls.append(condition.prompt)
            return procedural.generate(condition, seed=seed)

    return Counting()


def test_the_generator_teacher_answers_with_its_assets_renders_from_the_same_cameras():
    from text3d.generators.base import Condition, create_generator
    from text3d.render.renderer import render
    from text3d.train.mvdiffusion_data import encode_views
    from text3d.train.prd_generator_teacher import GeneratorRendersTeacher

    procedural = create_generator("procedural")
    calls = []
    teacher = GeneratorRendersTeacher(tiny_teacher(), generator=_procedural_counting(calls))
    rings = [[Camera(yaw=30.0 + 90 * k, pitch=20.0, radius=2.0, resolution=16) for k in range(4)] for _ in range(2)]
    cameras = torch.from_numpy(np.stack([[c.c2w() for c in ring] for ring in rings])).float()
    prompts = ["a red mug", "a blue chair"]
    first = teacher.denoise(torch.zeros(2, 4, 7, 16, 16), torch.full((2,), 0.5), prompts, cameras)
    again = teacher.denoise(torch.randn(2, 4, 7, 16, 16), torch.full((2,), 0.9), prompts, cameras)
    assert first.shape == (2, 4, 7, 16, 16) and torch.equal(first, again)  # noise and t change nothing
    assert calls == prompts  # one asset per prompt, then cached
    asset = procedural.generate(Condition(prompt="a blue chair"), seed=0).asset
    result = render(asset, [Camera(yaw=c.yaw, pitch=c.pitch, radius=2.0, resolution=32) for c in rings[1]],
                    background="white", depth=True, normals=True)
    expected = encode_views(result.rgb[..., :3], result.normals, result.depth, result.mask)
    assert torch.allclose(first[1], torch.from_numpy(expected), atol=1e-5)
    assert not torch.allclose(first[0], first[1])


def test_an_unknown_teacher_signal_is_refused_in_one_line(tmp_path):
    with pytest.raises(InputError, match="^--signal 'gan': use diffusion, generator$"):
        train_prd(tmp_path, dataclasses.replace(TINY, signal="gan"), teacher=tiny_teacher())


def test_rgb_guidance_sets_the_rgb_channels_of_the_target_and_leaves_normals_and_depth():
    teacher = tiny_teacher()
    g = torch.Generator().manual_seed(0)
    x_t = torch.randn(1, teacher.views, 7, 16, 16, generator=g)
    t, prompts = torch.tensor([0.7]), ["red ball"]
    cameras = torch.eye(4).expand(1, teacher.views, 4, 4).clone()
    with torch.no_grad():
        at = {w: teacher.denoise(x_t, t, prompts, cameras, w) for w in (1.5, 5.0)}
        mixed = prd.teacher_target(teacher, x_t, t, prompts, cameras, guidance=5.0, rgb_guidance=1.5)
        same = prd.teacher_target(teacher, x_t, t, prompts, cameras, guidance=5.0)
        rescaled = prd.teacher_target(teacher, x_t, t, prompts, cameras, guidance=5.0, guidance_rescale=0.7)
        want = teacher.denoise(x_t, t, prompts, cameras, 5.0, 0.7)
    assert not torch.allclose(rescaled, same)
    torch.testing.assert_close(rescaled, want)
    assert not torch.allclose(at[1.5][:, :, :3], at[5.0][:, :, :3])  # the two scales differ on this teacher
    torch.testing.assert_close(mixed[:, :, :3], at[1.5][:, :, :3])
    torch.testing.assert_close(mixed[:, :, 3:], at[5.0][:, :, 3:])
    torch.testing.assert_close(same, at[5.0])


def test_split_backward_sends_rgb_to_the_texture_and_the_rest_to_the_geometry():
    teacher = tiny_teacher()
    torch.manual_seed(0)
    student = TriplaneStudent(teacher.model, student_config(TINY))
    config = dataclasses.replace(TINY, rgb_geometry=False, t_max_end=0.98)
    planes = (0.3 * torch.randn(student.plane_shape(1))).requires_grad_(True)
    args = (student, planes, teacher, ["a red chair"], config, 0.5)
    loss, rgb_loss, _ = prd.distillation_loss(*args, np.random.default_rng(0), torch.Generator().manual_seed(0))
    geo = planes.shape[2] - config.texture_channels
    rgb_head, sdf_head = list(student.field.rgb_head.parameters()), list(student.field.sdf_head.parameters())
    want_rgb = torch.autograd.grad(rgb_loss, [planes, *rgb_head], retain_graph=True)
    want_geo = torch.autograd.grad(loss - rgb_loss, [planes, *sdf_head], retain_graph=True)
    assert want_rgb[0][:, :, :geo].abs().sum() > 0  # RGB would move the geometry without the split
    prd.backward_split(student, planes, loss, rgb_loss)
    torch.testing.assert_close(planes.grad[:, :, geo:], want_rgb[0][:, :, geo:])
    torch.testing.assert_close(planes.grad[:, :, :geo], want_geo[0][:, :, :geo])
    for p, g in [*zip(rgb_head, want_rgb[1:]), *zip(sdf_head, want_geo[1:])]:
        torch.testing.assert_close(p.grad, g)
    with pytest.raises(InputError, match="rgb-geometry"):
        prd.check_settings(dataclasses.replace(config, supervise="rgb"))


def test_the_card_names_the_shipped_teacher_and_shows_at_most_eleven_probe_rows(tmp_path):
    from text3d.nn.checkpoint import WEIGHTS_ROOT
    from text3d.train.prd import _card, teacher_label

    assert teacher_label(WEIGHTS_ROOT / "toyworld-mvdiffusion") == "toyworld-mvdiffusion"
    assert teacher_label(tmp_path / "mine") == str((tmp_path / "mine").resolve())
    probes = [{"step": 25 * i, "volume": 0.1, "mesh": 0.2} for i in range(321)]
    report = {"trainable": 10, "total": 100, "trainable_fraction": 0.1, "trainable_per_backbone": 0.11, "backbone": 90}
    training = {"config": {"adaptation": "peta", "denoise_steps": 1}, "teacher": "toyworld-mvdiffusion",
                "seconds": 1.0, "cpu_minutes": 0.1, "command": "text3d train turbo --out DIR"}
    card = _card(report, training, probes)
    rows = [line for line in card.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert len(rows) == 11 and rows[0].startswith("| 0 |") and rows[-1].startswith("| 8000 |")
    assert "Teacher: `toyworld-mvdiffusion`" in card


def test_the_card_lists_the_probe_losses_of_the_renderers_trained_only():
    from text3d.train.prd import _card

    report = {"trainable": 1, "total": 10, "trainable_fraction": 0.1, "trainable_per_backbone": 0.2, "backbone": 5}
    training = {"config": {"adaptation": "peta", "denoise_steps": 1}, "teacher": "t", "seconds": 1.0,
                "cpu_minutes": 0.1, "command": "text3d train turbo"}
    card = _card(report, training, [{"step": 0, "mesh": 0.5}, {"step": 10, "mesh": 0.25}])
    assert "| step | mesh |\n|---|---|\n| 0 | 0.5000 |\n| 10 | 0.2500 |" in card and "nan" not in card
    both = _card(report, training, [{"step": 0, "volume": 0.1, "mesh": 0.5}])
    assert "| step | volume | mesh |\n|---|---|---|\n| 0 | 0.1000 | 0.5000 |" in both


def test_mesh_rendering_gets_an_eikonal_term_only_from_random_points():
    teacher = tiny_teacher()
    torch.manual_seed(0)
    student = TriplaneStudent(teacher.model, student_config(TINY))
    with torch.no_grad():
        student.backbone.plane_out.weight.normal_(std=0.05)
    for points in (0, 64):
        config = dataclasses.replace(TINY, renderers="mesh", mesh_eikonal_points=points)
        student.zero_grad()
        terms = prd_step(student, teacher, ["a red chair"], TextStates(hashed_text), config, 0.0,
                         np.random.default_rng(0), torch.Generator().manual_seed(0))
        assert ("eikonal" in terms) == (points > 0) and all(np.isfinite(list(terms.values())))
    assert terms["eikonal"] > 0  # a random field is no distance function


def test_random_point_eikonal_is_zero_for_a_distance_function():
    from text3d.train.prd_views import random_point_eikonal

    class Plane:  # sdf = x, |∇| = 1 everywhere: a distance function
        config = type("C", (), {"bound": 0.55})()

        def sdf_gradient(self, planes, at):
            return torch.tensor([1.0, 0.0, 0.0]).expand_as(at)

    assert float(random_point_eikonal(Plane(), torch.zeros(2, 3, 4, 8, 8), 16)) == 0.0


def test_settings_that_do_nothing_in_this_combination_warn(caplog):
    config = dataclasses.replace(PRDTrainConfig(), adaptation="full", lora_rank=8, renderers="volume",
                                 mesh_eikonal_points=5, probe_prompts=0, probe_every=3)
    with caplog.at_level("WARNING", logger="text3d.train.prd"):
        prd.check_settings(config)
    said = " | ".join(r.getMessage() for r in caplog.records)
    assert "--lora-rank 8 is unused" in said and "--mesh-eikonal-points 5 is unused" in said
    assert "--probe-every 3 is unused" in said
    caplog.clear()
    with caplog.at_level("WARNING", logger="text3d.train.prd"):  # a certain teacher: noise and guidance change nothing
        prd.check_settings(dataclasses.replace(PRDTrainConfig(), signal="generator", guidance=2.0, t_max=0.5))
        prd.check_settings(dataclasses.replace(PRDTrainConfig(), guidance=2.0, t_max=0.5))
    assert [r.getMessage() for r in caplog.records] == [
        "--guidance 2.0 is unused: the generator's renders do not depend on the noise or the guidance",
        "--t-max 0.5 is unused: the generator's renders do not depend on the noise or the guidance"]
    caplog.clear()
    with caplog.at_level("WARNING", logger="text3d.train.prd"):
        prd.check_settings(PRDTrainConfig())
    assert not caplog.records


def test_the_generator_teacher_keeps_its_assets_on_disk_and_prepares_them_up_front(tmp_path):
    from text3d.train.prd_generator_teacher import GeneratorRendersTeacher, asset_file

    class Refusing:
        def generate(self, condition, seed=0):
            raise AssertionError(f"generated {condition.prompt!r} again")

    prompts = ["a red mug", "a blue chair", "a red mug"]
    teacher = GeneratorRendersTeacher(tiny_teacher(), backend="procedural", asset_folder=tmp_path)
    assert teacher.prepare(prompts, workers=1, progress=False) == 2  # each prompt once
    files = sorted(tmp_path.iterdir())
    assert files == sorted({asset_file(tmp_path, "procedural", 0, p) for p in prompts})
    assert teacher.prepare(prompts, workers=1, progress=False) == 0  # a rerun generates nothing
    cameras = torch.from_numpy(np.stack([[Camera(yaw=90.0 * k, pitch=20.0, radius=2.0, resolution=16).c2w()
                                          for k in range(4)]] * 2)).float()
    x = torch.zeros(2, 4, 7, 16, 16)
    fresh = GeneratorRendersTeacher(tiny_teacher(), generator=_procedural_counting([]))
    expected = fresh.denoise(x, torch.full((2,), 0.5), prompts[:2], cameras)
    loaded = GeneratorRendersTeacher(tiny_teacher(), backend="procedural", generator=Refusing(), asset_folder=tmp_path)
    assert torch.allclose(loaded.denoise(x, torch.full((2,), 0.5), prompts[:2], cameras), expected, atol=1e-6)
    files[0].write_bytes(b"torn")  # an unreadable file is generated again, not trusted
    assert teacher.prepare(prompts, workers=1, progress=False) == 1
