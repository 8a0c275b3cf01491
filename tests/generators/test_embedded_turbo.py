"""The embedded-turbo backend on a tiny random student folder: K-step assets in the unit cube,
seeded, and a one-line error without a trained student."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from text3d.errors import InputError, ModelNotAvailableError
from text3d.generators.base import Condition, create_generator
from text3d.nn.mvdiffusion import MultiViewDiT, MVDiffusionConfig
from text3d.triplane.student import StudentConfig, TriplaneStudent


@pytest.fixture(scope="module")
def student_folder(tmp_path_factory):
    torch.manual_seed(0)
    backbone = MultiViewDiT(MVDiffusionConfig(image_size=8, patch_size=4, width=16, depth=1, heads=2))
    student = TriplaneStudent(backbone, StudentConfig(steps=2, plane_channels=4, texture_channels=2, hidden=8))
    with torch.no_grad():  # a student whose planes depend on the noise and the text
        student.backbone.plane_out.weight.normal_(std=0.05)
    return student.save(tmp_path_factory.mktemp("turbo") / "triplane-turbo")


def test_generates_a_seeded_asset_in_k_steps(student_folder):
    generator = create_generator("embedded-turbo", str(student_folder))
    assert generator.default_steps == 2
    first, again = (generator.generate(Condition("a red chair"), seed=4) for _ in range(2))
    other = generator.generate(Condition("a red chair"), seed=5, steps=1)
    for output in (first, other):
        asset = output.asset
        assert asset.n_faces > 0 and np.abs(asset.vertices).max() <= 0.5 + 1e-5
        assert asset.vertex_colors.shape == (asset.n_vertices, 4) and 0 <= asset.vertex_colors.min()
    assert first.info["steps"] == 2 and other.info["steps"] == 1
    assert np.array_equal(first.asset.vertices, again.asset.vertices)
    assert not np.array_equal(first.asset.vertices, other.asset.vertices)
    assert first.warnings == [] and other.warnings == ["sampled with 1 steps; the student was trained for 2"]
    guided = generator.generate(Condition("a red chair"), seed=4, cfg=3.0)
    assert np.array_equal(guided.asset.vertices, first.asset.vertices)  # the guidance is distilled: no effect
    assert any("cfg 3.0 is unused" in w for w in guided.warnings)
    with pytest.raises(InputError, match=r"^--steps 7: embedded-turbo samples in 1 to 4 student steps"):
        generator.generate(Condition("a red chair"), seed=4, steps=7)


def test_a_folder_whose_weights_do_not_fit_its_config_is_a_one_line_error(student_folder, tmp_path):
    import json
    import shutil

    from text3d.errors import InputError

    folder = shutil.copytree(student_folder, tmp_path / "wider")
    config = json.loads((folder / "config.json").read_text())
    config["backbone"]["width"] = 32
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(InputError, match="do not make a triplane student") as info:
        create_generator("embedded-turbo", str(folder))
    assert "\n" not in str(info.value) and str(folder) in str(info.value)


def test_missing_student_is_a_one_line_error(tmp_path):
    with pytest.raises(ModelNotAvailableError, match="embedded-turbo") as info:
        create_generator("embedded-turbo", str(tmp_path / "nothing"))
    assert "\n" not in str(info.value) and "text3d train turbo" in str(info.value)


def test_the_shipped_student_is_what_train_turbo_makes_with_its_defaults():
    """`text3d train turbo --out DIR` reproduces the shipped weights: every setting recorded in their
    config.json is PRDTrainConfig's default, and the card says how they measure on the test range."""
    import dataclasses
    import json

    from text3d.nn.checkpoint import WEIGHTS_ROOT
    from text3d.train.prd_config import PRDTrainConfig

    folder = WEIGHTS_ROOT / "triplane-turbo"
    saved = json.loads((folder / "config.json").read_text())
    assert saved["training"]["config"] == dataclasses.asdict(PRDTrainConfig())
    assert saved["training"]["teacher"] == "toyworld-mvdiffusion" and saved["training"]["cpu_minutes"] <= 90
    card = (folder / "README.md").read_text()
    assert "test range" in card and "Reproduce: `text3d train turbo --out DIR" in card
