"""``text3d train evaluator`` end to end at toy size: samples from the right seed ranges, a weights
folder the ``embedded-hyperscore`` backend loads, figures and a model card with the command."""

import json

import numpy as np
import pytest
import torch

from text3d.eval.evaluators.backends.hyperscore import HyperScoreEvaluator, load_network
from text3d.train.evaluator import train_evaluator
from text3d.train.evaluator_config import EvaluatorTrainConfig
from text3d.train.evaluator_data import SampleSpec, build_samples

torch.set_num_threads(1)


def test_samples_have_levels_that_match_their_degradation():
    samples = build_samples(SampleSpec(n=8, base_seed=1_000_000, clean=0.25), None, workers=1, progress=False)
    assert samples.images.shape == (8, 4, 64, 64, 3) and samples.images.dtype == np.uint8
    for kind, levels in zip(samples.kinds, samples.levels):
        lowered = {d for d, v in zip(("alignment", "geometry", "texture"), levels[:3]) if v < 10}
        expected = {"none": set(), "category": {"alignment"}, "color": {"alignment"}, "part": {"alignment"},
                    "noise": {"geometry"}, "holes": {"geometry"}, "blob": {"geometry"},
                    "washed": {"texture"}, "shuffled": {"texture"}}[kind]
        assert lowered == expected, kind
        assert levels[3] == pytest.approx(levels[:3].mean(), rel=1e-6)


def test_toy_training_writes_a_loadable_evaluator_with_its_card(tmp_path):
    config = EvaluatorTrainConfig(items=4, dev_items=0, test_items=4, steps=3, batch=4, width=16, depth=1,
                                  workers=1, checkpoint_every=2)
    figures = train_evaluator(tmp_path, config, progress=False)
    assert set(figures["test"]["spearman"]) == {"alignment", "geometry", "texture", "overall"}
    assert "test range" in figures["test"]["seeds"]
    folder = tmp_path / "evaluator"
    saved = json.loads((folder / "config.json").read_text())
    assert saved["training"]["command"].startswith("text3d train evaluator --out DIR --seed 0 --items 4")
    card = (folder / "README.md").read_text()
    assert "Spearman" in card and "text3d train evaluator" in card
    assert not (tmp_path / "evaluator.pt").exists()  # the checkpoint goes once training is done
    assert [json.loads(line).get("step") for line in (tmp_path / "train_log.jsonl").open()][-1] == 2
    evaluator = HyperScoreEvaluator(network=load_network(folder), device="cpu")
    views = np.full((1, 4, 64, 64, 3), 255, np.uint8)
    scores = evaluator.score(list(views), ["red chair"])
    assert scores.shape == (1, 4) and bool(((scores >= 0) & (scores <= 10)).all())
