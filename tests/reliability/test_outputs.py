"""No file is ever lost or silently overwritten: outputs are checked against their contract
before anything is written, the input is never the output, and documented appends append."""

from __future__ import annotations

import json

import pytest

from tests.reliability.conftest import snapshot, unchanged

FAST = ("--backend", "procedural", "--augment", "none", "-r", "32")


def make_asset(cli, folder, prompt="red chair"):
    cli.succeeds("generate", prompt, "--out", folder, *FAST, "--no-gif")
    return folder


# ----------------------------------------------------------------------------- generate
def test_generate_into_a_folder_of_other_files_is_refused(cli, user_files):
    before = snapshot(user_files)
    cli.fails("generate", "red chair", "--out", user_files / "project", *FAST, says=("holds other files",
                                                                                     "notes.txt"))
    assert unchanged(before, user_files) and not (user_files / "project" / "asset.glb").exists()


def test_generate_into_an_existing_file_is_refused(cli, user_files):
    before = snapshot(user_files)
    cli.fails("generate", "red chair", "--out", user_files / "results.csv", *FAST, says=("is a file",))
    assert unchanged(before, user_files)


def test_generate_under_a_file_is_refused(cli, user_files):
    cli.fails("generate", "red chair", "--out", user_files / "results.csv" / "sub", *FAST, says=("is a file",))


def test_generate_twice_into_one_asset_folder_needs_overwrite(cli, tmp_path):
    folder = make_asset(cli, tmp_path / "chair")
    before = snapshot(folder)
    cli.fails("generate", "blue car", "--out", folder, *FAST, says=("already holds an asset", "--overwrite"))
    assert unchanged(before, folder)
    cli.succeeds("generate", "blue car", "--out", folder, *FAST, "--no-gif", "--overwrite")
    assert json.loads((folder / "meta.json").read_text())["prompt"] == "blue car"


def test_overwrite_leaves_nothing_of_the_earlier_asset(cli, tmp_path):
    folder = make_asset(cli, tmp_path / "chair")
    cli.succeeds("points", folder / "asset.glb", "--out", folder / "points.ply", "-r", "32", "--n", "50")
    (folder / "points.json").write_text('{"n_points": 50, "resolution": 32}')  # as eval records a cloud's plan
    cli.succeeds("generate", "blue car", "--out", folder, *FAST, "--no-gif", "--overwrite")
    assert not (folder / "points.ply").exists() and not (folder / "points.json").exists()  # the chair's


def test_single_asset_into_a_run_folder_is_refused(cli, tmp_path, user_files):
    run = tmp_path / "run"
    cli.succeeds("generate", "--prompts", user_files / "prompts.txt", "--out", run, *FAST)
    before = snapshot(run)
    cli.fails("generate", "green tree", "--out", run, *FAST, says=("is a run folder",))
    cli.fails("generate", "green tree", "--out", run, *FAST, "--overwrite", says=("is a run folder",))
    assert unchanged(before, run)


def test_batch_into_an_asset_folder_is_refused(cli, tmp_path, user_files):
    folder = make_asset(cli, tmp_path / "chair")
    before = snapshot(folder)
    cli.fails("generate", "--prompts", user_files / "prompts.txt", "--out", folder, *FAST,
              says=("is an asset folder",))
    assert unchanged(before, folder)


def test_two_batches_of_different_prompts_are_never_merged(cli, tmp_path, user_files):
    run = tmp_path / "run"
    cli.succeeds("generate", "--prompts", user_files / "prompts.txt", "--out", run, *FAST)
    before = snapshot(run)
    cli.fails("generate", "--prompts", user_files / "other-prompts.txt", "--out", run, *FAST,
              says=("other prompts",))
    assert unchanged(before, run)
    out = cli.succeeds("generate", "--prompts", user_files / "prompts.txt", "--out", run, *FAST)
    assert "2 already done" in out


def test_batch_options_of_one_prompt_are_refused_and_json_is_json(cli, tmp_path, user_files):
    run = tmp_path / "run"
    for option in ("--gif", "--overwrite"):
        cli.fails("generate", "--prompts", user_files / "prompts.txt", "--out", run, *FAST, option, says=(option,))
    assert not run.exists()
    out = cli.succeeds("generate", "--prompts", user_files / "prompts.txt", "--out", run, *FAST, "--json")
    assert json.loads(out) == {"done": 2, "skipped": 0, "failed": 0, "out": str(run)}


def test_batch_with_other_settings_is_refused(cli, tmp_path, user_files):
    run = tmp_path / "run"
    cli.succeeds("generate", "--prompts", user_files / "prompts.txt", "--out", run, *FAST)
    cli.fails("generate", "--prompts", user_files / "prompts.txt", "--out", run, "--backend", "procedural",
              "--augment", "none", "-r", "64", says=("other settings", "resolution"))
    cli.fails("generate", "--prompts", user_files / "prompts.txt", "--out", run, *FAST, "--seed", "5",
              says=("other settings", "seed"))


def test_batch_into_a_toyworld_run_is_refused(cli, tmp_path, user_files):
    run = tmp_path / "tw"
    cli.succeeds("data", "toyworld", "--n", "1", "--out", run, "-r", "32", "--no-points", "--workers", "1",
                 "--categories", "mug")
    cli.fails("generate", "--prompts", user_files / "prompts.txt", "--out", run, *FAST, says=("toyworld",))


def test_batch_prompts_file_is_never_the_output(cli, user_files):
    before = snapshot(user_files)
    cli.fails("generate", "--prompts", user_files / "prompts.txt", "--out", user_files / "prompts.txt", *FAST)
    assert unchanged(before, user_files)


# ----------------------------------------------------------------------------- augment
def test_augment_appends_to_an_earlier_results_file(cli, tmp_path, user_files):
    out = tmp_path / "captions.jsonl"
    cli.succeeds("augment", "--prompts", user_files / "prompts.txt", "--out", out)
    first = out.read_text().splitlines()
    cli.succeeds("augment", "--prompts", user_files / "other-prompts.txt", "--out", out)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert out.read_text().splitlines()[:2] == first  # the earlier rows are kept, unchanged
    assert [r["prompt"] for r in rows] == ["red chair", "blue car", "green tree", "yellow duck"]


@pytest.mark.parametrize("content", ["a,b\n1,2\n", '{"name": "x"}\n{"name": "y"}\n', "\x00\x01binary",
                                     "just some text\n"], ids=["csv", "foreign-jsonl", "binary", "text"])
def test_augment_never_wipes_a_file_that_is_not_its_results(cli, user_files, content):
    target = user_files / "mine.jsonl"
    target.write_text(content)
    before = snapshot(user_files)
    cli.fails("augment", "--prompts", user_files / "prompts.txt", "--out", target, says=("not a results file",))
    assert unchanged(before, user_files)


def test_augment_output_is_never_its_input(cli, user_files):
    jsonl = user_files / "p.jsonl"
    jsonl.write_text('{"prompt": "red chair", "caption": null, "error": "x"}\n')
    before = snapshot(user_files)
    cli.fails("augment", "--prompts", jsonl, "--out", jsonl, says=("is the input",))
    assert unchanged(before, user_files)


def test_augment_output_that_is_a_folder(cli, user_files):
    cli.fails("augment", "--prompts", user_files / "prompts.txt", "--out", user_files / "project",
              says=("is a folder",))


def test_augment_out_without_prompts_is_refused(cli, tmp_path):
    cli.fails("augment", "red chair", "--out", tmp_path / "x.jsonl", says=("--out is for batches",))
    assert not (tmp_path / "x.jsonl").exists()


# ----------------------------------------------------------------------------- points and render
def test_points_never_replace_the_input_mesh(cli, user_files):
    before = snapshot(user_files)
    cli.fails("points", user_files / "box.glb", "--out", user_files / "box.glb", says=("PLY",))
    assert unchanged(before, user_files)


def test_points_input_ply_is_never_the_output(cli, tmp_path, user_files):
    cloud = tmp_path / "cloud.ply"
    cli.succeeds("points", user_files / "box.glb", "--out", cloud, "-r", "32", "--n", "50")
    mesh_ply = tmp_path / "mesh.ply"
    cli.succeeds("points", user_files / "box.glb", "--out", mesh_ply, "-r", "32", "--n", "60")
    before = snapshot(tmp_path)
    cli.fails("points", mesh_ply, "--out", mesh_ply, "--overwrite", says=("is the input",))
    assert unchanged(before, tmp_path)


def test_points_existing_file_needs_overwrite(cli, tmp_path, user_files):
    out = tmp_path / "p.ply"
    cli.succeeds("points", user_files / "box.glb", "--out", out, "-r", "32", "--n", "50")
    before = snapshot(tmp_path)
    cli.fails("points", user_files / "box.glb", "--out", out, "-r", "32", says=("already exists",))
    assert unchanged(before, tmp_path)
    cli.succeeds("points", user_files / "box.glb", "--out", out, "-r", "32", "--n", "70", "--overwrite")


def test_render_into_a_folder_of_other_files_is_refused(cli, user_files):
    before = snapshot(user_files)
    cli.fails("render", user_files / "box.glb", "--out", user_files / "project", "-r", "32",
              says=("holds other files",))
    cli.fails("render", user_files / "box.glb", "--out", user_files, "-r", "32", says=("holds other files",))
    assert unchanged(before, user_files)


def test_render_into_an_asset_folder_is_refused(cli, tmp_path):
    folder = make_asset(cli, tmp_path / "chair")
    before = snapshot(folder)
    cli.fails("render", folder / "asset.glb", "--out", folder, "-r", "32", says=("is an asset folder",))
    assert unchanged(before, folder)


def test_render_again_needs_overwrite_and_leaves_no_stale_views(cli, tmp_path, user_files):
    out = tmp_path / "views"
    cli.succeeds("render", user_files / "box.glb", "--out", out, "--views", "clip8", "-r", "32")
    cli.fails("render", user_files / "box.glb", "--out", out, "-r", "32", says=("already holds rendered views",))
    cli.succeeds("render", user_files / "box.glb", "--out", out, "--views", "canonical4", "-r", "32", "--overwrite")
    assert sorted(p.name for p in out.glob("*.png")) == ["000.png", "001.png", "002.png", "003.png"]


def test_render_output_that_is_a_file(cli, user_files):
    before = snapshot(user_files)
    cli.fails("render", user_files / "box.glb", "--out", user_files / "results.csv", says=("is a file",))
    assert unchanged(before, user_files)


# ----------------------------------------------------------------------------- data, eval, train, study
def test_toyworld_into_a_folder_of_other_files_is_refused(cli, user_files):
    before = snapshot(user_files)
    cli.fails("data", "toyworld", "--n", "1", "--out", user_files / "project", says=("holds other files",))
    assert unchanged(before, user_files)


def test_toyworld_into_a_generate_run_is_refused(cli, tmp_path, user_files):
    run = tmp_path / "run"
    cli.succeeds("generate", "--prompts", user_files / "prompts.txt", "--out", run, *FAST)
    before = snapshot(run)
    cli.fails("data", "toyworld", "--n", "1", "--out", run, "--no-points", "-r", "32", "--workers", "1",
              says=("other settings",))
    assert unchanged(before, run)


def test_prompt_run_of_other_prompts_is_refused(cli, tmp_path, user_files):
    run = tmp_path / "pr"
    cli.succeeds("data", "prompts", user_files / "prompts.txt", "--out", run)
    before = snapshot(run)
    cli.fails("data", "prompts", user_files / "other-prompts.txt", "--out", run, says=("other settings",))
    assert unchanged(before, run)


def test_generate_takes_over_a_prompt_list_of_its_own_prompts(cli, tmp_path, user_files):
    run = tmp_path / "pr"
    cli.succeeds("data", "prompts", user_files / "prompts.txt", "--out", run)
    before = snapshot(run)
    cli.fails("generate", "--prompts", user_files / "other-prompts.txt", "--out", run, *FAST,
              says=("prompt list", "other prompts"))
    assert unchanged(before, run)
    copy = tmp_path / "copy.txt"  # the same prompts from another path, with Windows line ends
    copy.write_bytes((user_files / "prompts.txt").read_bytes().replace(b"\n", b"\r\n"))
    cli.succeeds("data", "prompts", copy, "--out", run)
    cli.succeeds("generate", "--prompts", user_files / "prompts.txt", "--out", run, *FAST)
    rows = [json.loads(line) for line in (run / "manifest.jsonl").read_text().splitlines()]
    assert rows and all(r["status"] == "done" for r in rows)
    assert "generate" in (run / "run.yaml").read_text()
    before = snapshot(run)
    cli.succeeds("data", "prompts", user_files / "prompts.txt", "--out", run)  # already generated: nothing to do
    assert unchanged(before, run)


def test_toys4k_into_its_own_mesh_folder_is_refused(cli, user_files):
    csv = user_files / "Toys4k.csv"
    csv.write_text('file_identifier,captions\nbox.glb,"[""a box""]"\n')
    before = snapshot(user_files)
    cli.fails("data", "toys4k", user_files, "--csv", csv, "--out", user_files, says=("--out",))
    assert unchanged(before, user_files)


def test_eval_into_a_folder_of_other_files_is_refused(cli, tmp_path, user_files):
    run = tmp_path / "run"
    cli.succeeds("generate", "--prompts", user_files / "prompts.txt", "--out", run, *FAST)
    before = snapshot(user_files)
    cli.fails("eval", "--generated", run, "--out", user_files / "project", says=("holds other files",))
    assert unchanged(before, user_files)


def test_eval_of_a_folder_that_is_not_a_run(cli, tmp_path, user_files):
    cli.fails("eval", "--generated", user_files / "project", "--out", tmp_path / "e", says=("not a run folder",))
    cli.fails("eval", "--generated", user_files / "box.glb", "--out", tmp_path / "e", says=("not a run folder",))
    assert not (tmp_path / "e").exists()


def test_eval_compare_into_an_evaluated_folder_is_refused(cli, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        folder.mkdir()
        (folder / "metrics.json").write_text('{"system": "x", "protocol": {}, "n_items": 2}\n')
    before = snapshot(tmp_path)
    cli.fails("eval", "compare", a, b, "--out", a, says=("is the input",))
    assert unchanged(before, tmp_path)


def test_training_into_a_folder_of_other_files_is_refused(cli, user_files):
    before = snapshot(user_files)
    cli.fails("train", "generator", "--out", user_files / "project", says=("not a training run",))
    cli.fails("train", "encoders", "--out", user_files, says=("not a training run",))
    assert unchanged(before, user_files)


def test_study_into_a_folder_of_other_files_is_refused(cli, user_files):
    before = snapshot(user_files)
    cli.fails("study", "generator", "--out", user_files / "project", says=("not a study",))
    assert unchanged(before, user_files)
