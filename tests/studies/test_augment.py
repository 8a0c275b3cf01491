"""The LLM-augmentation study: Table I and cost rows, intent kept from recognized categories,
resume without regenerating, identical study.json for the same seeds, error bars over seeds."""

import dataclasses
import json
import shutil

import pytest
import torch

from text3d.studies import generator
from text3d.studies.augment import StudyConfig, run_study, size_class

torch.set_num_threads(1)
CONFIG = StudyConfig(llms=["none", "embedded"], n=3, backend="procedural", resolution=32, bootstrap=50)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("augment") / "study"
    return out, run_study(out, CONFIG)


def test_table_one_and_cost_have_a_row_per_llm_and_the_papers_columns(study):
    out, document = study
    table = document["table_i"]
    assert table["headers"][:4] == ["Size", "Model", "CLIP_user ↑", "CLIP_aug ↑"]
    for header in ("FD (embedded) ↓", "Std FD_embedded ↓", "Min FD_embedded ↓", "Max FD_embedded ↓",
                   "Intent kept ↑"):
        assert header in table["headers"]
    assert [row[:2] for row in table["rows"]] == [["–", "none"], ["–", "embedded"]]
    assert all(len(row) == len(table["headers"]) for row in table["rows"])
    none, embedded = document["rows"]
    assert none["clip_delta"] == 0.0 and none["clip_aug"] == none["clip_user"]  # the caption is the prompt
    assert embedded["clip_aug"] != embedded["clip_user"]
    assert "| – | embedded |" in (out / "study.md").read_text()
    cost = (out / "cost.md").read_text()
    assert "Caption latency p95 (s)" in cost and "| none |" in cost and "| embedded |" in cost
    for scope in ("across_llms", "across_assets"):
        assert f"clip_aug_vs_fd_{scope}" in document["correlations"]
    assert document["correlations"]["clip_user_vs_fd_across_assets"]["n"] == 6
    for name in ("fig2_clip_aug_vs_fd.png", "fig3_clip_delta.png", "fig4_qualitative.png", "report.html",
                 "compare/compare.json"):
        assert (out / name).is_file(), name
    assert "first seed compared: compare/" in (out / "study.md").read_text()


def test_intent_kept_is_the_recognized_category_share(study, tmp_path, monkeypatch):
    out, document = study
    run_dir = out / "runs" / "embedded" / "seed-0"
    rows = [r for r in generator.quality_prompts(3, 1_000_000) if r["variant"] == "prompt"]
    assert document["rows"][1]["intent_kept"] == pytest.approx(generator.recognized(run_dir, rows)["category_match"])
    seen = []

    def fake(run_dir, rows):
        seen.append([r["category"] for r in rows])
        return {"category_match": 0.25, "color_match": 0.0, "by_variant": {}}

    monkeypatch.setattr(generator, "recognized", fake)
    copy = tmp_path / "study"
    shutil.copytree(out, copy)
    resumed = run_study(copy, CONFIG)
    assert [row["intent_kept"] for row in resumed["rows"]] == [0.25, 0.25]
    assert seen and seen[0] == [r["category"] for r in rows]


def test_resume_regenerates_and_reevaluates_nothing_and_same_seed_gives_the_same_study(study, tmp_path):
    out, document = study
    files = [p for p in (out / "runs").rglob("*") if p.is_file() and "items" in p.parts]
    files += list((out / "evals").rglob("metrics.json")) + list((out / "reference").rglob("meta.json"))
    assert len(files) > 20
    before = {p: p.stat().st_mtime_ns for p in files}
    run_study(out, CONFIG)
    assert {p: p.stat().st_mtime_ns for p in files} == before
    fresh = tmp_path / "again"
    run_study(fresh, CONFIG)
    assert (fresh / "study.json").read_bytes() == (out / "study.json").read_bytes()


def test_several_generator_seeds_give_mean_and_std(tmp_path):
    config = StudyConfig(llms=["none"], n=2, backend="procedural", resolution=32, seeds=(0, 1), bootstrap=20)
    document = run_study(tmp_path / "seeds", config)
    (row,) = document["rows"]
    assert "±" in document["table_i"]["rows"][0][2]
    assert row["clip_user_std"] is not None and row["clip_user_std"] >= 0
    assert sorted(p.name for p in (tmp_path / "seeds" / "evals" / "none").iterdir() if p.is_dir()) == ["seed-0",
                                                                                                     "seed-1"]
    # one LLM: nothing to compare, so the report names no compare/ folder
    study_md = (tmp_path / "seeds" / "study.md").read_text()
    assert not (tmp_path / "seeds" / "compare").exists() and "compare/" not in study_md


def test_size_classes_of_known_and_unknown_models():
    assert size_class("embedded") == "–" and size_class("none") == "–"
    assert size_class("llamacpp:smollm2:135m") == "135M" and size_class("llamacpp:gemma3:270m") == "270M"
    assert size_class("ollama:qwen3:0.6b") == "?"
    # the shipped toyworld LMs are counted from their safetensors headers: the study separates size
    sizes = [size_class(f"hf:toyworld-lm:{s}") for s in "sml"]
    assert all(x.endswith("M") for x in sizes) and float(sizes[2][:-1]) >= 10 * float(sizes[0][:-1])
    assert size_class("hf:toyworld-lm:nosuch") == "?"


def test_a_killed_run_redoes_only_its_missing_item_and_evaluation(study, tmp_path):
    out, document = study
    copy = tmp_path / "study"
    shutil.copytree(out, copy)
    run = copy / "runs" / "embedded" / "seed-0" / "items"
    lost, *kept = sorted(run.iterdir())
    (lost / "asset.glb").unlink()  # as if killed while writing this item
    kept_files = {p: p.stat().st_mtime_ns for d in kept for p in d.rglob("*") if p.is_file()}
    none_eval = copy / "evals" / "none" / "seed-0" / "metrics.json"
    embedded_eval = copy / "evals" / "embedded" / "seed-0" / "metrics.json"
    stamps = none_eval.stat().st_mtime_ns, embedded_eval.stat().st_mtime_ns
    resumed = run_study(copy, CONFIG)
    assert (lost / "asset.glb").is_file()
    assert {p: p.stat().st_mtime_ns for p in kept_files} == kept_files
    assert none_eval.stat().st_mtime_ns == stamps[0] and embedded_eval.stat().st_mtime_ns != stamps[1]
    assert resumed == document
    (none_eval.parent / "report.html").unlink()  # an evaluation killed while writing its reports
    run_study(copy, CONFIG)
    assert none_eval.stat().st_mtime_ns != stamps[0] and (none_eval.parent / "report.html").is_file()


def test_a_toys4k_folder_gives_prompts_reference_objects_and_intent_on_shared_categories(tmp_path):
    from tests.data.test_toys4k import make_toys4k
    from text3d.data.toys4k import import_toys4k
    from text3d.errors import InputError
    from text3d.studies.augment import load_dataset

    make_toys4k(tmp_path)
    imported = tmp_path / "toys4k"
    import_toys4k(tmp_path / "meshes", tmp_path / "Toys4k.csv", imported, resolution=32)
    data = load_dataset(f"toys4k:{imported}", 5)
    assert data.prompts == ["airplane", "A small white cup."] and data.reference == imported
    out = tmp_path / "study"
    document = run_study(out, StudyConfig(llms=["none"], n=2, backend="procedural", resolution=32, bootstrap=20,
                                          dataset=f"toys4k:{imported}"))
    assert document["setup"]["dataset"] == "toys4k" and not (out / "reference").exists()
    row = document["rows"][0]
    assert row["fd_embedded"] is not None  # measured against the imported objects
    assert row["intent_kept"] in (0.0, 1.0)  # one object (the airplane) has a toyworld category
    for bad, problem in ((tmp_path / "nothing", "no such folder"), (tmp_path / "meshes", "not an imported Toys4K")):
        with pytest.raises(InputError, match=problem):
            load_dataset(f"toys4k:{bad}", 5)


def test_each_llm_rows_caption_stage_has_its_own_peak_memory(study):
    out, _ = study
    cost = json.loads((out / "cost.json").read_text())["rows"]
    assert [r["model"] for r in cost] == ["none", "embedded"]
    assert all(r["caption_peak_mb"] > 50 and r["caption_load_s"] >= 0 for r in cost)
    assert "Caption peak memory (MB)" in (out / "cost.md").read_text()
    record = json.loads((out / "runs" / "embedded" / "seed-0.caption_stage.json").read_text())
    assert record["prompts"] == 3 and record["refused"] == 0


def test_an_llm_that_cannot_run_stops_the_study_before_any_generation(tmp_path):
    from text3d.errors import InputError

    out = tmp_path / "study"
    with pytest.raises(InputError, match="ollama needs a model tag"):
        run_study(out, StudyConfig(llms=["none", "ollama:"], n=2, backend="procedural", resolution=32, bootstrap=10))
    assert not list(out.glob("runs/*/seed-0/manifest.jsonl"))  # nothing generated, not even the first row


def test_a_prompt_no_row_could_generate_is_refused_before_any_output(tmp_path):
    from text3d.errors import InputError

    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a red chair\na blue\x01 mug\n", encoding="utf-8")
    out = tmp_path / "study"
    with pytest.raises(InputError, match=r"prompts.txt:2 has the control character U\+0001"):  # read, not run
        run_study(out, StudyConfig(llms=["none"], n=2, backend="procedural", resolution=32,
                                   dataset=f"prompts:{prompts}"))
    assert not out.exists()


def test_an_evaluation_is_redone_when_the_reference_objects_change(tmp_path):
    import trimesh

    from tests.data.test_toys4k import make_toys4k
    from text3d.data.toys4k import import_toys4k

    make_toys4k(tmp_path)
    import_toys4k(tmp_path / "meshes", tmp_path / "Toys4k.csv", tmp_path / "a", resolution=32)
    for path in (tmp_path / "meshes").rglob("*.obj"):  # the same rows and prompts, other objects
        trimesh.creation.icosphere(subdivisions=2, radius=0.4).export(str(path))
    import_toys4k(tmp_path / "meshes", tmp_path / "Toys4k.csv", tmp_path / "b", resolution=32)
    config = StudyConfig(llms=["none"], n=2, backend="procedural", resolution=32, bootstrap=10)
    first = run_study(tmp_path / "study", dataclasses.replace(config, dataset=f"toys4k:{tmp_path / 'a'}"))
    second = run_study(tmp_path / "study", dataclasses.replace(config, dataset=f"toys4k:{tmp_path / 'b'}"))
    fresh = run_study(tmp_path / "fresh", dataclasses.replace(config, dataset=f"toys4k:{tmp_path / 'b'}"))
    assert second["rows"][0]["fd_embedded"] == fresh["rows"][0]["fd_embedded"]
    assert second["rows"][0]["fd_embedded"] != first["rows"][0]["fd_embedded"]


def test_a_study_refused_for_another_n_changes_nothing_in_its_folder(study, tmp_path):
    from text3d.errors import InputError

    out = tmp_path / "copy"
    shutil.copytree(study[0], out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(InputError, match="other prompts"):
        run_study(out, dataclasses.replace(CONFIG, n=4))
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before  # the reference did not grow
    shutil.rmtree(out / "runs")  # a reference of more objects than --n is refused, not measured against
    with pytest.raises(InputError, match="reference set holds 3 objects, this study --n 2"):
        run_study(out, dataclasses.replace(CONFIG, n=2))
