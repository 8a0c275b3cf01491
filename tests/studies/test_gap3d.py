"""GAP3D's Tables 3–4: token sources made beforehand, the bars, and the study end to end on two objects."""

import json

import pytest
import torch
import yaml

from text3d.errors import InputError
from text3d.nn.checkpoint import resolve_model_folder
from text3d.store.folders import RunFolder
from text3d.studies.gap3d import CLIP_SHARE, PROMPTED_SUFFIX, ROWS, ItemTokens, bars, evaluate_rows


def test_item_tokens_give_item_i_at_seed_i_and_refuse_another_caption():
    tokens = torch.arange(2 * 3 * 4, dtype=torch.float32).reshape(2, 3, 4)
    source = ItemTokens(tokens, ["a red chair", "a blue mug"], {"kind": "true-tokens"}, first_seed=10)
    assert torch.equal(source("a blue mug", 11), tokens[1]) and torch.equal(source("a red chair", 10), tokens[0])
    with pytest.raises(InputError, match="no tokens for caption 'a red chair' at seed 11"):
        source("a red chair", 11)
    with pytest.raises(InputError, match="at seed 12"):
        source("a blue mug", 12)
    assert source.describe() == {"kind": "true-tokens"}
    with pytest.raises(ValueError):
        ItemTokens(tokens, ["one caption"], {"kind": "x"})


def test_bars_compare_stage2_with_the_text_path_and_stage1():
    text = {"clip_user": 40.0, "r_at_1": 50.0}
    stage1 = {"fd_embedded": 300.0, "fd_points_embedded": 60.0, "fd_per_asset_mean": 1.0}
    good = bars({"text-to-3d": text, "gap3d-stage1": stage1,
                 "gap3d-stage2": {"clip_user": 40.0 * CLIP_SHARE, "r_at_1": 49.0, "fd_embedded": 200.0,
                                  "fd_points_embedded": 30.0, "fd_per_asset_mean": 9.0}})
    assert good["clip_user_share"]["pass"] and good["r_at_1_share"]["value"] == pytest.approx(0.98)
    assert good["stage2_beats_stage1_fd"]["pass"]
    assert set(good["stage2_beats_stage1_fd"]["fd"]) == {"fd_embedded", "fd_points_embedded"}  # not per-asset
    bad = bars({"text-to-3d": text, "gap3d-stage1": stage1,
                "gap3d-stage2": {"clip_user": 33.0, "r_at_1": 50.0, "fd_embedded": 200.0,
                                 "fd_points_embedded": 61.0}})
    assert not bad["clip_user_share"]["pass"] and bad["r_at_1_share"]["pass"]
    assert not bad["stage2_beats_stage1_fd"]["pass"]  # one FD worse is a failure


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("gap3d")
    folders = {"stage 1": resolve_model_folder(None, "aligner-stage1"),
               "stage 2": resolve_model_folder(None, "aligner-stage2")}
    rows = [r for r in ROWS if r.name in ("image-to-3d", "text-to-3d", "gap3d-stage1-prompted")]
    result = evaluate_rows(out, 1_000_000, 2, folders, steps=2, resolution=32, rows=rows)
    torch.set_num_threads(threads)
    return out, result, folders, rows


def test_every_row_is_a_run_evaluated_against_the_true_objects(study):
    out, result, _, _ = study
    assert set(result["metrics"]) == {"image-to-3d", "text-to-3d", "gap3d-stage1-prompted"}
    for name, metrics in result["metrics"].items():
        assert metrics["n_items"] == 2 and "fd_embedded" in metrics and "clip_user" in metrics, name
    reference = RunFolder(out / "runs" / "reference")
    captions = [row["caption"] for row in sorted(reference.manifest.rows().values(), key=lambda r: r["index"])]
    for name in result["metrics"]:  # every row generates from the reference's captions, in order
        rows = sorted(RunFolder(out / "runs" / name).manifest.rows().values(), key=lambda r: r["index"])
        assert [r["prompt"] for r in rows] == captions
    true_run = RunFolder(out / "runs" / "image-to-3d")
    meta = true_run.item(next(iter(true_run.manifest.rows()))).read_meta()
    assert meta["info"]["conditioning"]["kind"] == "true-tokens"
    prompted = yaml.safe_load((out / "runs" / "gap3d-stage1-prompted" / "run.yaml").read_text())
    assert prompted["aligner"]["prompt_suffix"] == PROMPTED_SUFFIX
    assert prompted["aligner_path"].endswith("aligner-stage1") and len(prompted["aligner"]["weights_sha256"]) == 16
    assert yaml.safe_load((out / "runs" / "text-to-3d" / "run.yaml").read_text()).get("conditioning") is None


def test_tables_are_written_in_the_papers_layout(study):
    out, result, _, _ = study
    md = (out / "gap3d_3d.md").read_text()
    assert "**Table 3" in md and "**Table 4" in md and "| image-to-3d |" in md and "R@1 ↑" in md
    assert "FD_points (embedded)" in md and "KD (embedded) ×100" in md
    assert json.loads((out / "gap3d_3d.json").read_text())["n"] == 2


def test_a_second_call_reuses_the_runs(study):
    out, result, folders, rows = study
    asset = next((out / "runs" / "text-to-3d" / "items").glob("*/asset.glb"))
    before = asset.stat().st_mtime_ns
    again = evaluate_rows(out, 1_000_000, 2, folders, steps=2, resolution=32, rows=rows)
    assert asset.stat().st_mtime_ns == before
    assert again["metrics"]["text-to-3d"]["clip_user"] == result["metrics"]["text-to-3d"]["clip_user"]


def test_other_aligner_settings_on_the_same_out_are_refused_naming_the_out_and_the_row(study):
    out, result, folders, rows = study
    with pytest.raises(InputError) as refused:
        evaluate_rows(out, 1_000_000, 2, folders, steps=3, resolution=32, rows=rows)  # the aligners' --steps
    message = str(refused.value)
    assert message.startswith(f"--out {out}: its gap3d-") and "--steps" in message and "\n" not in message


def test_a_row_made_with_other_settings_is_refused_before_any_new_row_is_generated(study):
    out, result, folders, rows = study
    new = next(r for r in ROWS if r.name == "gap3d-stage2")
    with pytest.raises(InputError, match="its gap3d-stage1-prompted row"):
        evaluate_rows(out, 1_000_000, 2, folders, steps=3, resolution=32, rows=[new, *rows])
    assert not (out / "runs" / new.name).exists()


def test_a_refusal_comes_before_any_object_is_rendered_or_file_rewritten(study, monkeypatch):
    out, result, folders, rows = study
    import text3d.studies.gap3d as gap3d

    def no_rendering(*args, **kwargs):
        raise AssertionError("objects rendered before the settings check")

    monkeypatch.setattr(gap3d, "object_pairs", no_rendering)
    monkeypatch.setattr(gap3d, "token_sources", no_rendering)
    files = sorted(p for p in out.rglob("*") if p.is_file())
    stamps = [p.stat().st_mtime_ns for p in files]
    with pytest.raises(InputError, match="its gap3d-stage1-prompted row"):
        evaluate_rows(out, 1_000_000, 2, folders, steps=3, resolution=32, rows=rows)
    assert sorted(p for p in out.rglob("*") if p.is_file()) == files
    assert [p.stat().st_mtime_ns for p in files] == stamps  # the reference's manifest included


def test_the_cli_refuses_other_settings_in_one_line(study, capsys):
    from text3d.cli import main

    out, result, folders, rows = study
    code = main(["align", "evaluate-3d", "--out", str(out), "--seed", "1000000", "--n", "2", "--steps", "3",
                 "--resolution", "32"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1 and f"--out {out}: its " in err[0], err
