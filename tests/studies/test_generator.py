"""The generator study: recognition figures on procedural assets (their ground truth is known), seed ranges."""

import pytest

from text3d.data.toyworld.vocabulary import CATEGORIES
from text3d.errors import InputError
from text3d.runs.pipeline import generate_batch
from text3d.studies.generator import quality_prompts, recognized, study_seeds


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


def test_study_seeds_name_their_range_and_never_mix_ranges():
    assert study_seeds(200, 1_000_000) == {"first": 1_000_000, "last": 1_000_004, "range": "dev",
                                           "line": "seeds 1,000,000–1,000,004: development range"}
    assert study_seeds(45, 1_900_000)["line"] == "seed 1,900,000: test range"
    with pytest.raises(InputError, match="development range and test range"):
        study_seeds(200, 1_899_999)
    with pytest.raises(InputError, match="held-out"):
        study_seeds(10, 5)


def test_test_range_paraphrases_use_the_test_nouns():
    rows = [r for r in quality_prompts(45, seed=1_900_000) if r["variant"] == "paraphrase"]
    assert len(rows) == 45
    for row in rows:
        info = CATEGORIES[row["category"]]
        assert any(noun in row["prompt"] for noun in info.test_paraphrases), row
        assert not any(noun in row["prompt"].split() for noun in info.paraphrases), row


def test_the_study_command_names_the_range_and_refuses_mixed_ranges(tmp_path, capsys):
    from text3d.cli import main

    code = main(["study", "generator", "--out", str(tmp_path / "study"), "--n", "200", "--seed", "1899999"])
    captured = capsys.readouterr()
    assert code != 0 and "development range and test range" in captured.err
    assert not (tmp_path / "study" / "comparison.json").exists()


def test_the_study_command_refuses_an_unknown_backend_before_making_anything(tmp_path, capsys):
    from text3d.cli import main

    code = main(["study", "generator", "--out", str(tmp_path / "study"), "--n", "2", "--backend", "bogus"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0 and "--backend bogus: unknown generator 'bogus'" in err, err
    assert not (tmp_path / "study").exists()


@pytest.mark.parametrize("args,says", [
    (["--backend", "procedural"], "--backend procedural: the study compares a backend with the procedural assets"),
    (["--backend", "embedded-turbo", "--candidates", "2"], "generator 'embedded-turbo' has no option 'candidates'"),
])
def test_the_study_command_refuses_a_pointless_comparison_before_making_anything(tmp_path, capsys, args, says):
    from text3d.cli import main

    code = main(["study", "generator", "--out", str(tmp_path / "study"), "--n", "2", *args])
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert code == 2 and err.count("\n") == 0 and says in err, err
    assert not (tmp_path / "study").exists() and "seed" not in captured.err
