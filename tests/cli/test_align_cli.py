"""``text3d align evaluate`` refuses bad seeds and missing aligner folders in one line, before any work."""

import pytest

from text3d.cli import main


@pytest.mark.parametrize("args, message", [
    (["--seed", "5"], "--seed"),
    (["--seed", "1899995", "--n", "10"], "one range"),
    (["--stage1", "/nonexistent/aligner"], "--stage1 /nonexistent/aligner: no such folder"),
    (["--twins", "--domains", "general"], "--twins"),
])
def test_refusals_are_one_line(tmp_path, capsys, args, message):
    code = main(["align", "evaluate", "--out", str(tmp_path / "out"), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err  # the user's input: exit 2, not 3
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args, message", [
    (["--seed", "5"], "--seed"),
    (["--seed", "1899999", "--n", "3"], "one range"),
    (["--seed", "1899800", "--n", "100", "--blocks", "3"], "--blocks 3: the blocks' seeds 1,899,800–1,900,099"),
    (["--seed", "1999800", "--n", "100", "--blocks", "3"], "--blocks 3"),
    (["--blocks", "0"], "--blocks"),
    (["--stage2", "/nonexistent/aligner"], "--stage2 /nonexistent/aligner: no such folder"),
])
def test_evaluate_3d_refusals_are_one_line(tmp_path, capsys, args, message):
    code = main(["align", "evaluate-3d", "--out", str(tmp_path / "out"), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err
    assert not (tmp_path / "out").exists()


def test_evaluate_3d_refuses_a_file_as_out(tmp_path, capsys):
    (tmp_path / "out").write_text("mine")
    code = main(["align", "evaluate-3d", "--out", str(tmp_path / "out"), "--n", "2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1 and "is a file" in err[0], err
    assert (tmp_path / "out").read_text() == "mine"


@pytest.mark.parametrize("args, message", [
    (["--seed", "1900000"], "development seeds"),
    (["--seed", "5"], "--seed"),
])
def test_calibrate_refuses_test_seeds_and_folders_without_config(tmp_path, capsys, args, message):
    folder = tmp_path / "aligner"
    folder.mkdir()
    code = main(["align", "calibrate", "--aligner", str(folder), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1 and message in err[0], err
    code = main(["align", "calibrate", "--aligner", str(folder)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1 and "no config.json" in err[0], err
    assert list(folder.iterdir()) == []


def test_calibrate_leaves_the_shipped_aligner_alone(capsys):
    from text3d.nn.checkpoint import WEIGHTS_ROOT

    folder = WEIGHTS_ROOT / "aligner-stage2"
    before = (folder / "config.json").read_bytes()
    code = main(["align", "calibrate", "--aligner", str(folder), "--n", "2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1 and "copy the folder" in err[0], err
    assert (folder / "config.json").read_bytes() == before


@pytest.mark.parametrize("value, message", [
    ("cls6", "is not GROUP=WEIGHT"),
    ("pixels=2", "unknown token group pixels"),
    ("cls=-1", "outside [0, 50]"),
    ("cls=nan", "outside [0, 50]"),
    ("cls=six", "is not a number"),
    ("cls=3,cls=4", "names cls twice"),
])
def test_calibrate_refuses_a_bad_group_cfg_before_any_work(tmp_path, capsys, value, message):
    import shutil

    from text3d.nn.checkpoint import WEIGHTS_ROOT

    folder = shutil.copytree(WEIGHTS_ROOT / "aligner-stage2", tmp_path / "aligner")
    before = (folder / "config.json").read_bytes()
    code = main(["align", "calibrate", "--aligner", str(folder), "--n", "2", "--group-cfg", value])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1 and "--group-cfg" in err[0] and message in err[0], err
    assert (folder / "config.json").read_bytes() == before


@pytest.mark.parametrize("command", ["evaluate", "evaluate-3d"])
@pytest.mark.parametrize("model", ["generator", "image-encoder"])
def test_a_model_folder_of_another_kind_is_refused_as_an_aligner_before_any_work(tmp_path, capsys, command, model):
    from text3d.nn.checkpoint import WEIGHTS_ROOT

    code = main(["align", command, "--out", str(tmp_path / "out"), "--n", "2", "--stage2", str(WEIGHTS_ROOT / model)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--stage2" in err[0] and "not an aligner folder" in err[0], err
    assert not (tmp_path / "out").exists()  # nothing rendered before the refusal


@pytest.mark.parametrize("command", ["evaluate", "evaluate-3d"])
def test_an_out_folder_holding_other_files_is_refused_and_kept(tmp_path, capsys, command):
    out = tmp_path / "out"
    out.mkdir()
    (out / "data.csv").write_text("mine")
    code = main(["align", command, "--out", str(out), "--n", "2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "data.csv" in err[0], err
    assert [p.name for p in out.iterdir()] == ["data.csv"] and (out / "data.csv").read_text() == "mine"


def test_an_aligner_of_the_other_stage_is_named_in_a_warning(caplog):
    from text3d.align.sampling import check_aligner_folder
    from text3d.nn.checkpoint import WEIGHTS_ROOT

    with caplog.at_level("WARNING", logger="text3d.align.sampling"):
        check_aligner_folder(WEIGHTS_ROOT / "aligner-stage2", "--stage2", 2)
        check_aligner_folder(WEIGHTS_ROOT / "aligner-stage1", "--stage1", 1)
        assert not caplog.records
        check_aligner_folder(WEIGHTS_ROOT / "aligner-stage2", "--stage1", 1)
    assert len(caplog.records) == 1 and caplog.records[0].getMessage().startswith("--stage1 ")
    assert "a stage-2 aligner" in caplog.records[0].getMessage()


def test_calibrate_keeps_an_earlier_calibration_unless_told_to_replace_it(tmp_path, capsys):
    import json
    import shutil

    from text3d.nn.checkpoint import WEIGHTS_ROOT

    folder = shutil.copytree(WEIGHTS_ROOT / "aligner-stage2", tmp_path / "aligner")
    before = (folder / "config.json").read_bytes()
    assert json.loads(before)["sampling"]["chosen_on"]["n"] == 200
    code = main(["align", "calibrate", "--aligner", str(folder), "--n", "2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--overwrite" in err[0] and "1,000,000" in err[0], err
    assert (folder / "config.json").read_bytes() == before
    code = main(["align", "calibrate", "--aligner", str(folder), "--n", "2", "--steps", "2", "--overwrite"])
    capsys.readouterr()
    assert code == 0
    sampling = json.loads((folder / "config.json").read_text())["sampling"]
    assert sampling["chosen_on"]["n"] == 2 and sampling["steps"] == 2


@pytest.mark.parametrize("sampling", [None, [], "fast"])
def test_a_sampling_entry_that_is_not_an_object_is_refused_in_one_line(tmp_path, capsys, sampling):
    import json
    import shutil

    from text3d.nn.checkpoint import WEIGHTS_ROOT

    folder = shutil.copytree(WEIGHTS_ROOT / "aligner-stage2", tmp_path / "aligner")
    config = json.loads((folder / "config.json").read_text())
    config["sampling"] = sampling
    (folder / "config.json").write_text(json.dumps(config))
    before = (folder / "config.json").read_bytes()
    code = main(["align", "calibrate", "--aligner", str(folder), "--n", "2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and '"sampling"' in err[0] and "not an object" in err[0], err
    assert (folder / "config.json").read_bytes() == before


def test_evaluate_replaces_an_earlier_evaluation_only_with_overwrite_and_whole(tmp_path, capsys, monkeypatch):
    import json

    import numpy as np

    from text3d.store.atomic import write_json, write_png
    from text3d.studies import aligner

    def fake_evaluate(folders, seed, n, steps, cfg, figures, domains, twins):  # the real one takes minutes
        for domain in domains:
            write_png(figures / f"retrieval_stage1_{domain}.png", np.zeros((4, 4, 3), np.uint8))
        return {"domains": list(domains)}

    monkeypatch.setattr(aligner, "evaluate_aligners", fake_evaluate)
    monkeypatch.setattr(aligner, "write_tables", lambda result, out: write_json(out / "alignment.json", result))
    monkeypatch.setattr(aligner, "tables_markdown", lambda result: "tables")
    out = tmp_path / "out"
    assert main(["align", "evaluate", "--out", str(out), "--n", "2"]) == 0
    assert sorted(p.name for p in out.glob("retrieval_*.png")) == ["retrieval_stage1_general.png",
                                                                   "retrieval_stage1_objects.png"]
    capsys.readouterr()
    assert main(["align", "evaluate", "--out", str(out), "--n", "2", "--domains", "objects"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "already holds an alignment evaluation; pass --overwrite" in err[0]
    assert json.loads((out / "alignment.json").read_text()) == {"domains": ["general", "objects"]}
    assert main(["align", "evaluate", "--out", str(out), "--n", "2", "--domains", "objects", "--overwrite"]) == 0
    assert [p.name for p in out.glob("retrieval_*.png")] == ["retrieval_stage1_objects.png"]  # no stale figure
    assert json.loads((out / "alignment.json").read_text()) == {"domains": ["objects"]}
    assert not (out / ".figures.tmp").exists()


def test_a_seed_past_the_held_out_range_names_the_option(tmp_path, capsys):
    code = main(["align", "evaluate", "--out", str(tmp_path / "out"), "--seed", "2000000"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--seed 2000000: use a held-out seed" in err[0], err
