"""The encoders study: its guards, its seed ranges and the shipped encoders' figures."""

import pytest

from text3d.errors import InputError
from text3d.eval.encoder_quality import evaluate_encoders


def test_refuses_training_seeds_and_too_few_instances():
    with pytest.raises(InputError, match="training range"):
        evaluate_encoders(seed=5, n=100)
    with pytest.raises(InputError, match="at least"):
        evaluate_encoders(seed=1_000_000, n=10)


def test_shipped_encoders_on_a_small_held_out_set():
    figures = evaluate_encoders(seed=1_500_000, n=90, points=45)
    assert figures["n"] == 90 and figures["seed"] == 1_500_000
    assert figures["seed_range"] == "dev" and figures["seeds"] == "seeds 1,500,000–1,500,004: development range"
    for key in ("category_r_at_1", "color_accuracy", "text_to_image_r_at_10", "text_to_image_r_at_10_paraphrase",
                "text_to_image_r_at_10_with_paraphrases", "point_accuracy"):
        assert 0.0 <= figures[key] <= 1.0, key
    pooled = (figures["text_to_image_r_at_10"] + figures["text_to_image_r_at_10_paraphrase"]) / 2
    assert figures["text_to_image_r_at_10_with_paraphrases"] == pytest.approx(pooled, abs=1e-3)
    # trained encoders, far above chance (1/45 categories, 1/12 colors, 10/90 retrieval)
    assert figures["category_r_at_1"] > 0.6 and figures["color_accuracy"] > 0.6
    assert figures["text_to_image_r_at_10"] > 0.5 and figures["point_accuracy"] > 0.8
    assert figures["fd_real_shifted"] > figures["fd_real_real"] > 0


def test_refuses_seeds_across_the_development_and_test_ranges():
    with pytest.raises(InputError, match="development range and test range"):
        evaluate_encoders(seed=1_899_990, n=900)
