"""The study's recognition figures, on procedural assets (their ground truth is known)."""

from text3d.runs.pipeline import generate_batch
from text3d.runs.quality import quality_prompts, recognized


def test_recognized_reports_all_rows_and_each_variant_and_can_fail(tmp_path):
    rows = quality_prompts(3, seed=1_000_000)
    generate_batch([r["prompt"] for r in rows], tmp_path, augment="none", backend="procedural", resolution=128)
    figures = recognized(tmp_path, rows)
    assert set(figures["by_variant"]) == {"prompt", "paraphrase"}
    for variant in figures["by_variant"].values():
        assert 0.0 <= variant["category_match"] <= 1.0 and 0.0 <= variant["color_match"] <= 1.0
    means = [figures["by_variant"][v]["category_match"] for v in ("prompt", "paraphrase")]
    assert abs(figures["category_match"] - sum(means) / 2) < 1e-9  # equal halves
    assert figures["category_match"] > 0  # procedural ground truth of toyworld prompts
    wrong = [{**r, "category": "ball" if r["category"] != "ball" else "drum"} for r in rows]
    assert recognized(tmp_path, wrong)["category_match"] == 0.0
