import numpy as np
import pytest
import torch

from text3d.train.encoders import multi_positive_nce, positives
from text3d.train.loop import cosine_lr


def test_positive_mask_follows_signatures():
    cats, colors, items = torch.tensor([0, 0, 1]), torch.tensor([5, 6, 5]), torch.tensor([10, 11, 12])
    sig = torch.tensor([[-1, -1, 10],   # item 10's own caption
                        [0, -1, -1],    # "a <category 0>"
                        [-1, 5, -1],    # "a <color 5> object"
                        [0, 5, -1]])    # basic prompt: category 0 and color 5
    pos = positives(cats, colors, items, sig)
    assert pos.tolist() == [[True, True, True, True], [False, True, False, False], [False, False, True, False]]


def test_multi_positive_nce_prefers_all_positives():
    pos = torch.tensor([[True, True, False], [False, True, False], [False, False, True]])
    good = torch.tensor([[5.0, 5.0, -5.0], [-5.0, 5.0, -5.0], [-5.0, -5.0, 5.0]])
    bad = torch.tensor([[-5.0, -5.0, 5.0], [5.0, -5.0, 5.0], [5.0, 5.0, -5.0]])
    assert multi_positive_nce(good, pos) < 0.1 < multi_positive_nce(bad, pos)
    # with a single positive per row it is the ordinary symmetric InfoNCE
    eye = torch.eye(3, dtype=torch.bool)
    logits = torch.randn(3, 3)
    reference = 0.5 * (torch.nn.functional.cross_entropy(logits, torch.arange(3))
                       + torch.nn.functional.cross_entropy(logits.T, torch.arange(3)))
    assert multi_positive_nce(logits, eye) == pytest.approx(reference.item(), abs=1e-5)


def test_cosine_schedule():
    assert cosine_lr(0, 100, 10, 1.0) == pytest.approx(0.1)
    assert cosine_lr(9, 100, 10, 1.0) == pytest.approx(1.0)
    assert cosine_lr(100, 100, 10, 1.0) == pytest.approx(0.0, abs=1e-9)
    assert np.isclose(cosine_lr(55, 100, 10, 1.0), 0.5)
