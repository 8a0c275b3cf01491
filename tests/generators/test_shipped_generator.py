"""The shipped generator, through the embedded augmenter, on held-out toyworld prompts and on their
paraphrases (whose words no training text has): the embedded image encoder must recognize the
category asked for. A broken weight file, a sampler or decoder regression, or a grounding
regression in the augmenter fails this test."""

import numpy as np
import pytest

from text3d.data.toyworld.vocabulary import CATEGORIES, CATEGORY_NAMES
from text3d.encoders.base import create_extractor
from text3d.generators import Condition, create_generator
from text3d.prompts import augment
from text3d.render.cameras import protocol_cameras
from text3d.render.renderer import render
from text3d.studies.generator import quality_prompts


@pytest.mark.slow
def test_shipped_generator_makes_the_category_asked_for():
    generator = create_generator("embedded")
    clip = create_extractor("embedded-clip")
    nouns = clip.text_features([f"a {CATEGORIES[c].noun}" for c in CATEGORY_NAMES])
    cameras = protocol_cameras("canonical4", resolution=128)
    hits: dict[str, list[bool]] = {"prompt": [], "paraphrase": []}
    for index, row in enumerate(quality_prompts(24, seed=1_000_000)):
        caption = augment(row["prompt"], llm="embedded", seed=index).caption
        asset = generator.generate(Condition(row["prompt"], caption), seed=index).asset
        embedding = clip.image_features(list(render(asset, cameras).rgb)).mean(0)
        hits[row["variant"]].append(CATEGORY_NAMES[int(np.argmax(nouns @ embedding))] == row["category"])
    prompt, paraphrase = np.mean(hits["prompt"]), np.mean(hits["paraphrase"])
    # on 200 prompts: 0.885 and 0.665 (study); here 24 each, so the bounds leave room for sampling noise
    assert prompt >= 0.6, (prompt, paraphrase)
    assert paraphrase >= 0.3, (prompt, paraphrase)
