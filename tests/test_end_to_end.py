"""A new user's path with the shipped embedded models: toyworld runs → generate → text3d eval."""

import json

from text3d.cli import main


def test_toyworld_runs_evaluated_with_default_extractors(tmp_path, capsys):
    ref, gen = tmp_path / "reference", tmp_path / "generated"
    assert main(["data", "toyworld", "--n", "6", "--out", str(ref), "--resolution", "64", "--workers", "1",
                 "--categories", "chair,sailboat,mug"]) == 0
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("small blue sailboat\nred wooden chair\nwhite ceramic mug\n")
    assert main(["generate", "--prompts", str(prompts), "--out", str(gen), "--backend", "embedded",
                 "--resolution", "64"]) == 0
    code = main(["eval", "--generated", str(gen), "--reference", str(ref), "--resolution", "64",
                 "--kd-subsets", "5", "--out", str(tmp_path / "eval")])
    out, err = capsys.readouterr()
    assert code == 0, err
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    for key in ("fd_embedded", "kd_embedded", "fd_points_embedded", "clip_user", "clip_aug", "clip_delta",
                "r_at_1", "fd_per_asset", "latency_s"):
        assert key in metrics, key
    assert metrics["n_items"] == 3 and 0 <= metrics["r_at_1"] <= 100
    assert "generate" in metrics["latency_s"]
    report = (tmp_path / "eval" / "report.md").read_text()
    assert "CLIP_user" in report and "FD_embedded" in report
