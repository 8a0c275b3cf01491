"""metrics.json of a fixed run folder matches the committed expected file.

The expected file ``data/fixed_metrics.json`` is the reference output of this run; any change
to how views, points or features are produced (batched renders, view/point reuse, batched
feature extraction) that moves a metric shows up here. Values depend on the CPU renderer (Mesa
llvmpipe) and the shipped embedded encoders; float reductions differ in their last bits with
the CPU and the torch thread count, so numbers match to a relative 1e-5 (keys and strings
exactly), and a second evaluation in the same process is byte-identical to the first.
"""

import json
from pathlib import Path

import pytest

from tests.eval.runs import make_run
from text3d.eval.protocol import EvalOptions, evaluate_run
from text3d.eval.report import write_reports

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

EXPECTED = Path(__file__).parent / "data" / "fixed_metrics.json"
GEN_SPECS = [("box", "red"), ("sphere", "green"), ("cylinder", "blue"), ("box", "yellow")]
REF_SPECS = [("box", "red"), ("sphere", "blue"), ("cylinder", "green"), ("sphere", "yellow"), ("box", "purple")]


def fixed_options() -> EvalOptions:
    """The default extractors (embedded, embedded-clip) on small renders."""
    return EvalOptions(resolution=48, point_resolution=64, n_points=500, kd_subsets=10, device="cpu")


def evaluate_fixed(root: Path) -> bytes:
    gen = make_run(root / "gen", GEN_SPECS, name="fixed:system")
    ref = make_run(root / "ref", REF_SPECS, captions=False)
    write_reports(evaluate_run(gen, root / "out", ref, fixed_options()), root / "out")
    return (root / "out" / "metrics.json").read_bytes()


def assert_same_metrics(actual, expected, where="metrics"):
    """Equal structure, keys and strings; numbers within a relative 1e-5 (absolute 1e-6)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and sorted(actual) == sorted(expected), where
        for key in expected:
            assert_same_metrics(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), where
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_same_metrics(a, e, f"{where}[{i}]")
    elif isinstance(expected, (int, float)) and not isinstance(expected, bool):
        assert actual == pytest.approx(expected, rel=1e-5, abs=1e-6), where
    else:
        assert actual == expected, where


def test_fixed_run_metrics_match_the_expected_file(tmp_path):
    first = evaluate_fixed(tmp_path)
    assert_same_metrics(json.loads(first), json.loads(EXPECTED.read_text()))
    # a second evaluation reuses the views and points written by the first (fresh feature cache)
    write_reports(evaluate_run(tmp_path / "gen", tmp_path / "again", tmp_path / "ref", fixed_options()),
                  tmp_path / "again")
    assert (tmp_path / "again" / "metrics.json").read_bytes() == first


if __name__ == "__main__":  # regenerate the expected file (only when a metric is meant to change)
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        EXPECTED.write_bytes(evaluate_fixed(Path(scratch)))
