"""The ``clip`` evaluator: its score is the CLIP score of the extractors (embedded image encoder, and
a tiny random CLIPModel standing for ViT-L/14), and its gradient reaches CLIP's token embeddings."""

import numpy as np
import pytest
import torch

from tests.encoders.tiny_models import save_tiny_clip
from text3d.eval.evaluators import create_evaluator

torch.set_num_threads(1)


def views(count: int = 2) -> np.ndarray:
    return np.random.default_rng(5).integers(0, 256, (count, 4, 64, 64, 3), dtype=np.uint8)


def test_embedded_clip_score_is_the_image_encoders_clip_score():
    evaluator = create_evaluator("clip", device="cpu")
    v = views()
    scores = evaluator.score(list(v), ["red chair", "red chair"])
    expected = evaluator.image_encoder.score(list(v.reshape(-1, 64, 64, 3)), ["red chair"]).reshape(2, 4).mean(1)
    np.testing.assert_allclose(scores[:, 0], expected, rtol=1e-4, atol=1e-3)
    with_normals = np.concatenate([v, np.random.default_rng(6).integers(0, 256, v.shape, dtype=np.uint8)], -1)
    np.testing.assert_allclose(evaluator.score(list(with_normals), ["red chair"] * 2), scores)  # RGB is read
    result = evaluator.prompt_gradients(list(v), "red chair", "alignment")
    assert result.pieces == ["[CLS]", "red", "chair", "[SEP]"] and result.saliency.min() > 0


def test_real_clip_path_scores_and_gradients(tmp_path):
    evaluator = create_evaluator("clip", model=str(save_tiny_clip(tmp_path / "clip")), device="cpu")
    assert evaluator.real
    v = views()
    prompt = "a teapot"
    scores = evaluator.score(list(v), [prompt, prompt])
    image = evaluator.clip.image_features(list(v.reshape(-1, 64, 64, 3)))
    text = evaluator.clip.text_features([prompt])
    cos = (image @ text.T)[:, 0] / np.linalg.norm(image, axis=1) / np.linalg.norm(text)
    np.testing.assert_allclose(scores[:, 0], 100 * cos.reshape(2, 4).mean(1), rtol=1e-4, atol=1e-3)
    result = evaluator.prompt_gradients(list(v), prompt, "alignment")
    embeddings, mask, _ = evaluator._embed(prompt)
    i, k = np.unravel_index(np.argmax(np.abs(result.gradients)), result.gradients.shape)
    h = 1e-2
    plus, minus = embeddings.clone(), embeddings.clone()
    plus[0, i, k] += h
    minus[0, i, k] -= h
    with torch.no_grad():
        up = float(evaluator._score_embeddings(v, plus, mask).mean())
        down = float(evaluator._score_embeddings(v, minus, mask).mean())
    assert result.gradients[i, k] == pytest.approx((up - down) / (2 * h), rel=2e-2)


def test_the_clip_evaluator_names_the_weights_it_scores_with(tmp_path):
    from text3d.eval.evaluators.backends.clip import REAL_CLIP, ClipEvaluator

    shipped = ClipEvaluator.weights_sha256()
    assert len(shipped) == 16 and ClipEvaluator.weights_sha256("embedded") == shipped
    assert ClipEvaluator.weights_sha256(REAL_CLIP) is None  # CLIP ViT-L/14: weights of its own release
    assert ClipEvaluator.weights_sha256(str(tmp_path / "nowhere")) is None  # loading it says why
