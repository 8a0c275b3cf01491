"""Comparing systems from metrics.json files (Table I of the LLM-augmentation study for TRELLIS
pipelines as fixed data)."""

import json

import numpy as np
import pytest
import scipy.stats

from text3d.errors import InputError
from text3d.eval.compare import compare_evaluations, metric_columns
from text3d.store.atomic import write_json

TABLE_I = [  # model, CLIP_user, CLIP_aug, FD, Std, Min, Max (the study's Table I)
    ("qwen3:0.6b", 29.88, 30.20, 532.86, 252.77, 60.67, 1053.95),
    ("gemma3:1b", 29.60, 29.90, 570.51, 236.44, 32.12, 1062.42),
    ("llama3.1:8b", 29.19, 29.64, 581.75, 240.81, 45.26, 1072.31),
    ("deepseek-r1:1.5b", 27.35, 29.41, 624.98, 234.07, 43.92, 1093.52),
    ("gemma3:12b", 30.04, 29.96, 523.27, 235.37, 40.19, 1147.45),
]


def write_evaluation(folder, model, user, aug, fd, std, lo, hi):
    write_json(folder / "metrics.json", {
        "system": model, "family": model.split(":")[0], "n_items": 100, "clip_user": user, "clip_aug": aug,
        "clip_delta": aug - user, "fd_dinov2-vitl14": fd, "kd_dinov2-vitl14": fd / 100,
        "fd_per_asset": {"mean": fd, "std": std, "min": lo, "max": hi},
        "latency_s": {"total": {"mean": 10.0, "median": 9.0, "p95": 20.0}},
        "protocol": {"extractors": ["dinov2-vitl14"], "fd_per_asset_extractor": "dinov2-vitl14"}})
    return folder


@pytest.fixture
def evaluations(tmp_path):
    return [write_evaluation(tmp_path / f"e{k}", *row) for k, row in enumerate(TABLE_I)]


def test_compare_table_correlations_and_plots(evaluations, tmp_path):
    out = tmp_path / "cmp"
    document = compare_evaluations(evaluations, out)
    assert [s["system"] for s in document["systems"]] == [r[0] for r in TABLE_I]
    assert [s["family"] for s in document["systems"]] == ["qwen3", "gemma3", "llama3.1", "deepseek-r1", "gemma3"]
    pair = next(c for c in document["correlations"] if {c["x"], c["y"]} == {"clip_user", "fd_dinov2-vitl14"})
    user = [r[1] for r in TABLE_I]
    fd = [r[3] for r in TABLE_I]
    assert pair["pearson_r"] == pytest.approx(np.corrcoef(user, fd)[0, 1], abs=1e-6)
    assert pair["spearman_r"] == pytest.approx(scipy.stats.spearmanr(user, fd).statistic, abs=1e-6)
    assert pair["pearson_r"] < -0.8 and pair["n"] == 5  # as in the study: CLIP_user vs FD strongly negative
    assert not any("latency" in c["x"] + c["y"] for c in document["correlations"])  # constant column
    markdown = (out / "compare.md").read_text()
    assert "| deepseek-r1:1.5b | 27.35 | 29.41 | 2.06 | 624.98 | 624.98 | 234.07 | 43.92 | 1093.52 |" in markdown
    assert "Pearson r" in markdown
    assert (out / "clip_aug_vs_fd.png").stat().st_size > 1000 and (out / "clip_delta.png").stat().st_size > 1000
    html = (out / "compare.html").read_text()
    assert html.count("data:image/png;base64,") == 2
    assert json.loads((out / "compare.json").read_text()) == document


def test_compare_needs_two_evaluations_and_metrics(tmp_path, evaluations):
    with pytest.raises(InputError, match="at least two"):
        compare_evaluations(evaluations[:1], tmp_path / "cmp")
    with pytest.raises(InputError, match="no metrics.json"):
        compare_evaluations([evaluations[0], tmp_path / "missing"], tmp_path / "cmp")
    edited = tmp_path / "edited"
    edited.mkdir()
    (edited / "metrics.json").write_text('{"protocol": [1], "n_items": 2}')  # hand-edited
    with pytest.raises(InputError, match=r"metrics.json: its 'protocol' is a JSON list, not an object"):
        compare_evaluations([evaluations[0], edited], tmp_path / "cmp")


def test_two_systems_have_no_correlations_and_duplicate_names_are_numbered(tmp_path, evaluations):
    document = compare_evaluations([evaluations[0], evaluations[0]], tmp_path / "cmp")
    assert document["correlations"] == []
    assert [s["system"] for s in document["systems"]] == ["qwen3:0.6b", "qwen3:0.6b (2)"]


def test_metric_columns_flatten_statistics():
    columns = metric_columns({"fd_x": 1.0, "kd_x": 2.0, "kd_std_x": 0.1, "clip_user": 3.0, "n_items": 4,
                              "fd_per_asset": {"mean": 5.0, "std": 1.0, "min": 2.0, "max": 9.0},
                              "latency_s": {"total": {"mean": 7.0}}, "r_at_1": None,
                              "protocol": {"extractors": ["x"]}})
    assert columns == {"fd_x": 1.0, "kd_x": 2.0, "clip_user": 3.0, "fd_per_asset_mean": 5.0,
                       "fd_per_asset_std": 1.0, "fd_per_asset_min": 2.0, "fd_per_asset_max": 9.0,
                       "latency_total_mean": 7.0}


def test_a_pipe_in_a_cell_stays_inside_its_markdown_cell():
    from text3d.eval.tables import Table

    line = Table("t", ["system", "x"], [["a|b", "1.00"]]).markdown().splitlines()[-1]
    assert line == "| a\\|b | 1.00 |"


def test_evaluations_of_other_prompt_or_reference_sets_are_warned_about(evaluations, tmp_path):
    for k, folder in enumerate(evaluations):
        metrics = json.loads((folder / "metrics.json").read_text())
        metrics["prompts_sha256"] = "a" * 64 if k < 4 else "b" * 64  # the last generated other prompts
        metrics["reference_sha256"] = "r" * 64
        write_json(folder / "metrics.json", metrics)
    document = compare_evaluations(evaluations, tmp_path / "cmp")
    assert document["warnings"] == ["the evaluations have 2 different prompt sets (qwen3:0.6b, gemma3:1b, "
                                    "llama3.1:8b, deepseek-r1:1.5b; gemma3:12b): their figures are not comparable"]
    assert "> Warning: the evaluations have 2 different prompt sets" in (tmp_path / "cmp" / "compare.md").read_text()
    assert "warnings" not in compare_evaluations(evaluations[:4], tmp_path / "cmp2")
    metrics = json.loads((evaluations[0] / "metrics.json").read_text())
    metrics["protocol"]["n_points"] = 100  # the others record none: measured with another plan
    write_json(evaluations[0] / "metrics.json", metrics)
    warnings = compare_evaluations(evaluations[:4], tmp_path / "cmp3")["warnings"]
    assert warnings == ["the evaluations were made with other settings (n_points differ): a column compares "
                        "figures measured differently"]
