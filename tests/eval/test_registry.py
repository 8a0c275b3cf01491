"""The metric registry: a metric is one entry, and evaluation, reports and comparison follow it."""

import ast
import json
from pathlib import Path

import numpy as np
import pytest

from tests.eval.runs import make_run
from tests.eval.test_protocol import ColorOracle  # noqa: F401  (registers test-color-oracle)
from text3d.eval.compare import compare_evaluations
from text3d.eval.features import read_rgb
from text3d.eval.metric_inputs import Input
from text3d.eval.protocol import EvalOptions, ExtractorRole, evaluate_run, plan_metrics
from text3d.eval.registry import METRICS, Column, Measurement, Metric
from text3d.eval.report import write_reports
from text3d.eval.tables import column_values, metric_tables
from text3d.store.folders import AssetFolder

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
ORACLE = EvalOptions(extractors=("test-color-oracle",), resolution=32)
SRC = Path(__file__).parents[2] / "src" / "text3d"


def mean_norm(inputs):
    """Test-only metric: the mean L2 norm of the generated views' features."""
    return Measurement(float(np.mean(np.linalg.norm(inputs.pooled_views, axis=1))))


@pytest.fixture
def registered():
    metric = METRICS.add(Metric("mean_norm_{extractor}", frozenset({Input.VIEWS}), mean_norm, "higher",
                                (Column("Mean norm ({extractor})", ".4f"),), description="test-only metric."))
    try:
        yield metric
    finally:
        METRICS.remove(metric.key)


def test_a_registered_metric_is_computed_reported_and_compared(registered, tmp_path):
    specs = [[("box", "red"), ("sphere", "green")], [("cylinder", "blue"), ("box", "yellow")]]
    ref = make_run(tmp_path / "ref", [("box", "red"), ("sphere", "blue")], captions=False)
    outs = []
    for k, spec in enumerate(specs):
        gen = make_run(tmp_path / f"gen{k}", spec, name=f"sys{k}")
        result = evaluate_run(gen, tmp_path / f"eval{k}", ref, ORACLE)
        outs.append(write_reports(result, tmp_path / f"eval{k}"))
        views = np.concatenate([ColorOracle().image_features([read_rgb(p) for p in AssetFolder(
            gen / "items" / f"item{i:03d}").view_paths("canonical4")]) for i in range(2)]).astype(np.float64)
        expected = round(float(np.mean(np.linalg.norm(views, axis=1))), 6)
        metrics = json.loads((outs[-1] / "metrics.json").read_text())
        assert metrics["mean_norm_test-color-oracle"] == pytest.approx(expected, abs=2e-6)
        report = (outs[-1] / "report.md").read_text()
        assert "### Other metrics" in report and "Mean norm (test-color-oracle) ↑" in report
        assert f"| sys{k} | {metrics['mean_norm_test-color-oracle']:.4f} |" in report
        assert "`mean_norm_{extractor}`: test-only metric." in report
    document = compare_evaluations(outs, tmp_path / "cmp")
    assert all("mean_norm_test-color-oracle" in s["metrics"] for s in document["systems"])
    assert "Mean norm (test-color-oracle) ↑" in (tmp_path / "cmp" / "compare.md").read_text()


def test_without_the_entry_the_metric_is_absent(tmp_path):
    gen = make_run(tmp_path / "gen", [("box", "red"), ("sphere", "green")])
    result = evaluate_run(gen, tmp_path / "out", gen, ORACLE)
    assert not any(key.startswith("mean_norm") for key in result.metrics)
    assert [t.title for t in metric_tables([("s", result.metrics)])][-1].startswith("Table 1")


def test_evaluate_run_returns_the_result_and_writes_no_report(tmp_path, monkeypatch):
    monkeypatch.delenv("TEXT3D_CACHE_DIR", raising=False)
    gen = make_run(tmp_path / "gen", [("box", "red"), ("sphere", "green")])
    result = evaluate_run(gen, tmp_path / "out", gen, ORACLE)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["cache"]
    assert [row.id for row in result.items] == ["item000", "item001"]
    assert result.protocol.fd_per_asset_extractor == "test-color-oracle" and result.protocol.kd_subsets == 100
    assert result.latency["total"]["mean"] == pytest.approx(np.mean([2.5, 3.6]))
    written = write_reports(result, tmp_path / "out")
    assert (written / "metrics.json").read_text() == result.to_json()
    csv_header = (written / "per_item.csv").read_text().splitlines()[0]
    assert csv_header == "id,prompt,caption,clip_user,clip_aug,clip_delta,fd_asset"


def test_plan_computes_per_extractor_metrics_with_each_and_others_with_the_first():
    roles = [ExtractorRole("dino", True, False, False), ExtractorRole("clip", True, False, True),
             ExtractorRole("pn", False, True, False)]
    plan = {(m.key, e) for m, e in plan_metrics(roles, has_reference=True)}
    assert {("fd_{extractor}", "dino"), ("fd_{extractor}", "clip"), ("fd_points_{extractor}", "pn"),
            ("fd_per_asset", "dino"), ("clip_user", "clip"), ("latency_s", None)} <= plan
    assert ("fd_per_asset", "clip") not in plan and ("fd_{extractor}", "pn") not in plan
    free = {m.key for m, _ in plan_metrics(roles, has_reference=False)}
    assert "clip_user" in free and not free & {"fd_{extractor}", "fd_per_asset", "fd_points_{extractor}"}


def test_columns_carry_direction_and_flatten_statistics():
    metrics = {"fd_a": 1.0, "clip_user": 30.0, "fd_per_asset": {"mean": 5.0, "std": 1.0, "min": 2.0, "max": 9.0},
               "protocol": {"extractors": ["a"], "fd_per_asset_extractor": "a"}}
    table = metric_tables([("s", metrics)])[0]
    assert table.headers == ["System", "CLIP_user ↑", "FD (a) ↓", "Mean FD_a (asset) ↓", "Std FD_a ↓",
                             "Min FD_a ↓", "Max FD_a ↓"]
    assert column_values(metrics)["fd_per_asset_max"] == 9.0


def test_entries_are_checked():
    with pytest.raises(ValueError, match="no input needs an extractor"):
        Metric("t_{extractor}", frozenset({Input.TIMINGS}), mean_norm, "lower")
    with pytest.raises(ValueError, match="per-asset column"):
        Metric("t_{extractor}", frozenset({Input.VIEWS}), mean_norm, "lower", item_column=Column("x", name="x"))
    with pytest.raises(RuntimeError, match="registered twice"):
        METRICS.add(Metric("clip_user", frozenset({Input.PROMPTS}), mean_norm, "higher"))


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    names |= {f"{n.module}.{a.name}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
              for a in n.names}
    return names


def test_data_flows_one_way():
    protocol, report = imported_modules(SRC / "eval" / "protocol.py"), imported_modules(SRC / "eval" / "report.py")
    assert not any(n.startswith("text3d.eval.report") for n in protocol)
    assert not any(n.startswith("text3d.eval.protocol") for n in report)
    assert "text3d.eval.results" in protocol and "text3d.eval.results" in report
    for path in (SRC / "encoders").rglob("*.py"):
        assert not any(n.startswith("text3d.eval") for n in imported_modules(path)), path
