"""The TriplaneTurbo study on a tiny random teacher: one student per variant, every row measured,
the paper's tables with the published rows beside, and a resumed study that redoes nothing."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from text3d.errors import InputError
from text3d.nn.checkpoint import save_folder
from text3d.nn.mvdiffusion import MultiViewDiT, MVDiffusionConfig
from text3d.nn.teachers.embedded import MODEL_NAME
from text3d.studies.prd import PRDStudyConfig, check_variants, run_prd_study, student_settings

TINY = {"prompts": 4, "batch": 1, "probe_prompts": 0, "samples": 8, "mesh_resolution": 16, "checkpoint_every": 1,
        "plane_channels": 4, "texture_channels": 2, "lora_rank": 2}


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("prd-study")
    torch.manual_seed(0)
    config = MVDiffusionConfig(image_size=16, width=32, depth=2, heads=2)
    model = MultiViewDiT(config)
    save_folder(root / "teacher" / MODEL_NAME, model.state_dict(), {"model": config.to_dict()})
    study_config = PRDStudyConfig(n=2, seed=1_000_000, steps=2, variants=("peta", "k4", "normals", "generator"),
                                  teacher=str(root / "teacher" / MODEL_NAME), resolution=32, train_overrides=TINY)
    return root / "study", study_config, run_prd_study(root / "study", study_config)


def test_each_variant_is_a_student_trained_with_its_own_settings(study):
    out, config, document = study
    assert student_settings(config, "k4").denoise_steps == 4 and student_settings(config, "normals").supervise == "all"
    assert student_settings(config, "peta").steps == 2 and student_settings(config, "peta").denoise_steps == 1
    longer = PRDStudyConfig(steps=8)  # K = 2 and 4 students: a step supervises K renders, so fewer steps
    assert [student_settings(longer, v).steps for v in ("peta", "k2", "k4", "lora")] == [8, 4, 2, 8]
    assert student_settings(config, "generator").signal == "generator"
    for variant in ("peta", "k4", "normals", "generator"):
        saved = json.loads((out / "students" / variant / "triplane-turbo" / "config.json").read_text())
        assert saved["training"]["config"]["steps"] == (1 if variant == "k4" else 2)
    assert set(document["students"]) == {"peta", "k4", "normals", "generator"}


def test_every_row_is_measured_and_the_tables_carry_the_papers_rows(study):
    out, _, document = study
    rows = document["rows"]
    assert {"peta", "k4", "normals", "generator", "k4@1", "k4@2", "embedded", "procedural"} <= set(rows)
    for name in ("peta", "embedded", "procedural"):
        assert rows[name]["clip"] is not None and rows[name]["r_at_1"] is not None and rows[name]["latency_s"] > 0
    text = (out / "study.md").read_text()
    assert "| TriplaneTurbo (paper) | 68.2 | 32.30 | 1.23 |" in text
    assert "| K=1 (text3d default) | " in text and "| K=2 | not run |" in text  # k2 was not asked for
    assert "| K'=1 | " in text and "| w/ Basic LoRA | not run |" in text
    ratio = rows["peta"]["clip"] / rows["embedded"]["clip"]
    assert document["bars"]["measured"]["clip_ratio"] == pytest.approx(ratio, rel=1e-4)
    assert (out / "report.html").is_file()
    from PIL import Image

    sheet = Image.open(out / "contact_sheet.png")  # the 2 prompts: multi-step over embedded-turbo
    assert sheet.width == 2 * 128 and sheet.height >= 2 * 128 and "contact_sheet.png" in text


def test_a_sheet_shows_every_student_under_the_multi_step_generator(study):
    from PIL import Image

    out, _, document = study
    variants = [v for v in document["students"] if document["rows"][v]["assets"]]
    assert len(variants) > 1
    sheet = Image.open(out / "students_sheet.png")  # 2 prompts; one row for the generator, one per student
    row = Image.open(out / "contact_sheet.png").height // 2  # that sheet: the generator over the default student
    assert sheet.width == 2 * 128 and sheet.height == (1 + len(variants)) * row
    assert "(students_sheet.png)" in (out / "study.md").read_text()


def test_a_second_run_trains_and_generates_nothing(study):
    out, config, document = study
    model = out / "students" / "peta" / "triplane-turbo" / "model.safetensors"
    meta = next((out / "runs" / "peta").glob("items/*/meta.json"))
    before = (model.stat().st_mtime_ns, meta.stat().st_mtime_ns)
    again = run_prd_study(out, config)
    assert (model.stat().st_mtime_ns, meta.stat().st_mtime_ns) == before
    assert {k: v["clip"] for k, v in again["rows"].items()} == {k: v["clip"] for k, v in document["rows"].items()}


def test_a_finished_student_with_other_settings_is_refused_before_any_work(study):
    import dataclasses

    out, config, _ = study
    model = out / "students" / "peta" / "triplane-turbo" / "model.safetensors"
    before = model.stat().st_mtime_ns
    with pytest.raises(InputError, match=r"its peta student folder: holds a student trained with other settings "
                                         r"\(steps differ\)"):
        run_prd_study(out, dataclasses.replace(config, steps=3))
    assert model.stat().st_mtime_ns == before


def test_a_row_generated_with_other_settings_is_refused_before_any_work(study):
    import dataclasses

    out, config, _ = study
    meta = next((out / "runs" / "peta").glob("items/*/meta.json"))
    before = meta.stat().st_mtime_ns
    with pytest.raises(InputError, match=r"^--out .*: its peta row was generated with other settings \(resolution"):
        run_prd_study(out, dataclasses.replace(config, resolution=48))
    with pytest.raises(InputError, match=r"its peta row was generated with other settings \(prompts differ"):
        run_prd_study(out, dataclasses.replace(config, n=3))
    assert meta.stat().st_mtime_ns == before and not list((out / "runs" / "peta" / "items").glob("p00002-*"))


def test_unknown_variants_are_refused_in_one_line():
    assert check_variants(("k4",)) == ("peta", "k4")
    assert check_variants(("all",))[0] == "peta" and {"k2", "k4", "lora", "generator"} <= set(check_variants(("all",)))
    for names in (("k4", "bogus"), ("all", "bogus"), ("bogus", "all")):
        with pytest.raises(InputError, match="^--variants bogus: unknown \\(known: all, peta, "):
            check_variants(names)
    with pytest.raises(InputError, match="^--variants: name at least one variant"):
        check_variants(())


def test_a_missing_teacher_is_refused_before_any_output(tmp_path):
    from text3d.errors import ModelNotAvailableError
    from text3d.studies.prd import check_prd_study

    config = PRDStudyConfig(n=2, seed=1_000_000, teacher=str(tmp_path / "no-teacher"))
    with pytest.raises(ModelNotAvailableError, match="^--teacher .*no-teacher: no trained multi-view teacher"):
        run_prd_study(tmp_path / "study", config)
    assert not (tmp_path / "study").exists()
    with pytest.raises(InputError, match="one range"):
        check_prd_study(PRDStudyConfig(n=200, seed=1_899_999))


def test_the_contact_sheet_marks_an_item_without_asset(study):
    import shutil

    from PIL import Image

    from text3d.studies.prd_report import contact_sheet_figure

    out, config, _ = study
    copy = out.parent / "sheet-copy"
    shutil.copytree(out / "runs", copy / "runs")
    for views in (copy / "runs" / "peta").glob("items/*/views"):
        shutil.rmtree(views)  # as if every turbo item had failed
    from text3d.studies.generator import quality_prompts

    prompts = [r["prompt"] for r in quality_prompts(config.n, config.seed) if r["variant"] == "prompt"]
    sheet = np.asarray(Image.open(contact_sheet_figure(copy, prompts, copy / "sheet.png")))
    assert sheet.shape[1] == 2 * 128
    assert (sheet[sheet.shape[0] // 2 + 10:, :, :] == 255).mean() > 0.9  # the turbo row: empty cells


def test_the_cli_accepts_its_own_finished_study_folder(study):
    """What a study writes (the contact sheet too) is what the output check lets a resume find."""
    from text3d.store.outputs import check_job_output
    from text3d.studies.prd import STUDY_FILES

    out, _, _ = study
    check_job_output(out, STUDY_FILES, "a study")


def test_rows_without_assets_are_reported_not_evaluated(tmp_path, monkeypatch):
    import text3d.runs.pipeline as pipeline
    from text3d.studies.prd import measure_row
    from text3d.studies.prd_report import study_tables

    def no_surface(prompts, run_dir, **kwargs):  # a student whose triplanes all lack a surface
        from text3d.store.folders import RunFolder

        RunFolder(run_dir).root.mkdir(parents=True, exist_ok=True)
        return {"done": 0, "failed": len(prompts), "skipped": 0}

    monkeypatch.setattr(pipeline, "generate_batch", no_surface)
    row = measure_row(tmp_path, "volume", ["red chair", "blue car"], "embedded-turbo", None, None, 32)
    assert row["assets"] == 0 and row["n"] == 2 and row["clip"] is None and not (tmp_path / "evals" / "volume").exists()
    partial = {"clip": 5.0, "r_at_1": 10.0, "latency_s": 0.3, "assets": 23, "n": 50}
    tables = {t.title.split(":")[0]: t.rows for t in study_tables({"peta": partial, "volume": row})}
    assert ["volume only (no asset for any of the 2 prompts)", "–", "–", "–"] in tables["Dual rendering"]
    assert tables["Table 1"][2][0] == "embedded-turbo (PRD, K=1) (23 of 50 with an asset)"


def test_the_ablation_rows_follow_the_trainers_defaults():
    import dataclasses

    from text3d.studies.prd import study_variants
    from text3d.studies.prd_report import row_of
    from text3d.train.prd_config import PRDTrainConfig

    assert row_of("rgb") == row_of("mesh") == row_of("k1") == "peta"  # text3d's defaults: RGB only, mesh only, K = 1
    assert {"normals", "both", "volume"} <= set(study_variants()) and not {"rgb", "mesh"} & set(study_variants())
    other = dataclasses.replace(PRDTrainConfig(), supervise="all", renderers="both")
    variants = study_variants(other)  # the paper's proposal as the default: RGB-only and mesh-only become variants
    assert {"rgb", "mesh", "volume"} <= set(variants) and not {"normals", "both"} & set(variants)
    assert row_of("normals", other) == row_of("both", other) == "peta" and row_of("k4@1", other) == "k4@1"
