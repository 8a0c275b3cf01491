"""Evaluator.prompt_gradients against central finite differences (float64) on a tiny evaluator:
the real MiniLM path (token embeddings → BERT → HyperScore) and the embedded CLIP-like score."""

import numpy as np
import pytest
import torch

from tests.nn.test_hyperscore import tiny_network
from text3d.encoders.minilm import MiniLMTextEncoder
from text3d.errors import InputError
from text3d.eval.evaluators.backends.hyperscore import HyperScoreEvaluator

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def evaluator():
    text_encoder = MiniLMTextEncoder.from_pretrained(device="cpu")  # own copy, made float64
    text_encoder.model.double()
    return HyperScoreEvaluator(network=tiny_network(seed=3).double(), device="cpu", text_encoder=text_encoder)


def views(seed: int, count: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, 2, 64, 64, 3), dtype=np.uint8)


def q_of(ev, v, embeddings, mask, column):
    with torch.no_grad():
        return float(ev._score_embeddings(v, embeddings, mask)[:, column].mean())


@pytest.mark.parametrize("dimension", ["alignment", "overall"])
def test_gradient_matches_finite_differences(evaluator, dimension):
    prompt = "a teapot with snowmen"
    v = views(0)
    result = evaluator.prompt_gradients(list(v), prompt, dimension)
    embeddings, mask, pieces = evaluator._embed(prompt)
    assert embeddings.dtype == torch.float64 and result.gradients.shape == embeddings.shape[1:]
    assert result.pieces == pieces and len(pieces) > len(prompt.split())  # sub-word pieces present
    column = evaluator.dimension_index(dimension)
    assert result.q == pytest.approx(q_of(evaluator, v, embeddings, mask, column))
    rng = np.random.default_rng(1)
    biggest = np.unravel_index(np.argsort(np.abs(result.gradients), axis=None)[-3:], result.gradients.shape)
    picks = list(zip(*biggest)) + [(int(rng.integers(len(pieces))), int(rng.integers(384))) for _ in range(3)]
    h = 1e-5
    for i, k in picks:
        plus, minus = embeddings.clone(), embeddings.clone()
        plus[0, i, k] += h
        minus[0, i, k] -= h
        numeric = (q_of(evaluator, v, plus, mask, column) - q_of(evaluator, v, minus, mask, column)) / (2 * h)
        assert result.gradients[i, k] == pytest.approx(numeric, rel=1e-4, abs=1e-9)
    assert np.allclose(result.saliency, np.abs(result.gradients).sum(axis=1))


def test_local_score_is_the_mean_over_the_assets(evaluator):
    v = views(2, count=3)
    prompt = "red chair"
    whole = evaluator.prompt_gradients(list(v), prompt, "texture")
    parts = [evaluator.prompt_gradients([v[d]], prompt, "texture") for d in range(3)]
    assert whole.q == pytest.approx(np.mean([p.q for p in parts]))
    np.testing.assert_allclose(whole.gradients, np.mean([p.gradients for p in parts], axis=0), rtol=1e-5, atol=1e-9)
    scores = evaluator.score(list(v), [prompt] * 3)
    np.testing.assert_allclose(scores, whole.scores, rtol=1e-6)


def test_unknown_dimension_is_a_one_line_error(evaluator):
    with pytest.raises(InputError, match="has no dimension 'beauty'"):
        evaluator.prompt_gradients(list(views(0)), "chair", "beauty")
