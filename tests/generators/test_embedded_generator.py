"""The embedded generator's loading, conditioning paths and decoding, on a tiny random model."""

import numpy as np
import pytest
import torch

from text3d.generators import Condition, load_generator
from text3d.generators.backends.embedded import EmbeddedGenerator
from text3d.nn.block_vae import BlockVAE, BlockVAEConfig
from text3d.nn.dit import DiTConfig, FlowDiT
from text3d.train.generator import save_generator


@pytest.fixture(scope="module")
def tiny_generator(tmp_path_factory):
    torch.manual_seed(0)
    vae = BlockVAE(BlockVAEConfig(resolution=16, block=8, latent=4, hidden=32))
    with torch.no_grad():  # decode to a ball whatever the latent: occupancy logit from the block's distance
        vae.decoder[-1].weight.zero_()
        grid = torch.stack(torch.meshgrid(*[torch.linspace(-1, 1, 16)] * 3, indexing="ij"), 0)
        ball = (0.6 - grid.norm(dim=0)) * 20
        from text3d.nn.block_vae import to_blocks
        logits = torch.cat([ball[None], torch.zeros(3, 16, 16, 16)])[None]
        vae.decoder[-1].bias.copy_(to_blocks(logits, 8)[0].mean(0))
    dit = FlowDiT(DiTConfig(tokens=8, token_dim=4, width=32, depth=1, heads=4, image_dim=24))
    folder = tmp_path_factory.mktemp("gen") / "generator"
    save_generator(folder, vae, dit, np.zeros(4), np.ones(4), {"note": "test"}, "# tiny")
    return folder


def test_loads_and_generates_from_text(tiny_generator):
    gen = load_generator("embedded", str(tiny_generator))
    assert isinstance(gen, EmbeddedGenerator) and gen.default_steps == 8
    out = gen.generate(Condition("small blue sailboat"), seed=0, steps=2)
    lo, hi = out.asset.bounds()
    assert out.asset.n_faces > 0 and np.max(hi - lo) == pytest.approx(1.0, abs=1e-5)
    assert out.asset.vertex_normals is not None and out.info["steps"] == 2


def test_image_tokens_condition_and_seed_determinism(tiny_generator):
    gen = EmbeddedGenerator.from_pretrained(str(tiny_generator))
    tokens = torch.randn(69, 24)
    a = gen.sample_latents(Condition("x", tokens=tokens), seed=3, steps=2)
    b = gen.sample_latents(Condition("x", tokens=tokens), seed=3, steps=2)
    c = gen.sample_latents(Condition("x", tokens=tokens), seed=4, steps=2)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.shape == (1, 8, 4)


def test_candidates_start_from_consecutive_seeds(tiny_generator):
    gen = EmbeddedGenerator.from_pretrained(str(tiny_generator))
    both = gen.sample_latents(Condition("small blue sailboat"), seed=5, steps=2, count=2)
    first = gen.sample_latents(Condition("small blue sailboat"), seed=5, steps=2)
    second = gen.sample_latents(Condition("small blue sailboat"), seed=6, steps=2)
    assert both.shape == (2, 8, 4)
    assert torch.allclose(both[:1], first, atol=1e-4) and torch.allclose(both[1:], second, atol=1e-4)


def test_best_of_k_records_its_choice_and_single_samples_skip_it(tiny_generator):
    gen = EmbeddedGenerator.from_pretrained(str(tiny_generator))
    out = gen.generate(Condition("small blue sailboat"), seed=2, steps=2, candidates=3)
    chosen = out.info["candidates"]
    assert chosen["count"] == 3 and chosen["category"] == "sailboat" and len(chosen["probabilities"]) == 3
    assert chosen["chosen_seed"] - 2 == int(np.argmax(chosen["probabilities"]))
    assert "candidates" not in gen.generate(Condition("small blue sailboat"), seed=2, steps=2, candidates=1).info
    pair = gen.generate(Condition("a red car and a blue tent"), seed=2, steps=2, candidates=3)
    assert "candidates" not in pair.info  # two objects: no single category to select by


def test_an_object_outside_toyworld_is_conditioned_as_its_nearest_category(tiny_generator):
    gen = EmbeddedGenerator.from_pretrained(str(tiny_generator))
    out = gen.generate(Condition("emerald champignon", "A green champignon on a plain background."), steps=2,
                       candidates=2)
    assert out.info["nearest_categories"] == [{"typed": "champignon", "category": "mushroom",
                                               "cosine": out.info["nearest_categories"][0]["cosine"]}]
    assert out.info["candidates"]["category"] == "mushroom"
    assert any("nearest, 'mushroom'" in w for w in out.warnings)
