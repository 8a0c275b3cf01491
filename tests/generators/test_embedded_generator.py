"""The embedded generator on a tiny random model: loading, conditioning paths, its parts and options."""

import json
import re

import numpy as np
import pytest
import torch

from text3d.assets.asset import Asset
from text3d.assets.voxels import VoxelGrid
from text3d.errors import InputError
from text3d.generators import Condition, create_generator
from text3d.generators.backends.embedded import DEFAULT_PARTS, GENERATOR_FOLDER, EmbeddedGenerator
from text3d.generators.parts import PartSpec, PartSpecs
from text3d.generators.postprocess import CreaseNormals, MarchingCubes, Material, Normalize
from text3d.generators.samplers import EulerFlowSampler
from text3d.generators.selectors import BestOfCategory
from text3d.nn.block_vae import BlockVAE, BlockVAEConfig
from text3d.nn.checkpoint import WEIGHTS_ROOT
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


def with_config(folder, tmp_path, **entries):
    """A copy of the weights folder ``folder`` whose config.json has ``entries`` set."""
    copy = tmp_path / "generator"
    copy.mkdir()
    for path in folder.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    config = json.loads((copy / "config.json").read_text())
    (copy / "config.json").write_text(json.dumps({**config, **entries}))
    return copy


def test_the_shipped_config_names_every_part_and_they_are_the_defaults():
    config = json.loads((WEIGHTS_ROOT / GENERATOR_FOLDER / "config.json").read_text())
    assert {k: config[k] for k in DEFAULT_PARTS.to_config()} == DEFAULT_PARTS.to_config()
    assert PartSpecs.from_config(config, DEFAULT_PARTS.with_args("sampler", steps=99)) == DEFAULT_PARTS
    legacy = PartSpecs.from_config({"sampler": {"steps": 4, "cfg": 2.0}}, DEFAULT_PARTS)  # args without a name
    # the arguments it leaves out come from the defaults
    assert legacy.sampler == PartSpec("euler_flow", {"steps": 4, "cfg": 2.0, "image_cfg": 2.0})


def test_a_folder_naming_no_parts_gets_the_default_parts(tiny_generator):
    gen = create_generator("embedded", str(tiny_generator))
    assert isinstance(gen, EmbeddedGenerator) and gen.default_steps == 8 and gen.default_cfg == 3.0
    assert isinstance(gen.sampler, EulerFlowSampler) and isinstance(gen.selector, BestOfCategory)
    assert gen.selector.candidates == DEFAULT_PARTS.selector.args["candidates"]
    assert [type(p) for p in gen.postprocessors] == [CreaseNormals, Normalize, Material]
    out = gen.generate(Condition("small blue sailboat"), seed=0, steps=2)
    assert out.asset.vertex_normals is not None and out.asset.roughness == pytest.approx(0.6)
    assert out.info["steps"] == 2 and out.info["cfg"] == 3.0


def test_the_config_names_the_parts_and_their_arguments(tiny_generator, tmp_path):
    folder = with_config(tiny_generator, tmp_path, sampler={"name": "euler_flow", "args": {"steps": 3, "cfg": 1.0}},
                         selector={"name": "best_of_category", "args": {"candidates": 1}},
                         postprocessors=[{"name": "material", "args": {"roughness": 0.25}}])
    gen = create_generator("embedded", str(folder))
    assert (gen.default_steps, gen.default_cfg, gen.selector.count("sailboat")) == (3, 1.0, 1)
    out = gen.generate(Condition("small blue sailboat"), seed=0)
    assert out.info["steps"] == 3 and "candidates" not in out.info
    assert out.asset.roughness == 0.25 and out.asset.vertex_normals is None  # no crease_normals in the chain
    lo, hi = out.asset.bounds()
    assert np.max(hi - lo) < 0.99  # no normalize either: the ball keeps its size in the unit cube


@pytest.mark.parametrize("entries, needle", [
    ({"sampler": {"name": "heun"}}, "unknown sampler 'heun' (known: euler_flow)"),
    ({"postprocessors": [{"name": "smooth"}]}, "unknown postprocessor 'smooth'"),
    ({"mesher": {"name": "marching_cubes", "args": {"lvl": 0.5}}}, "mesher 'marching_cubes'"),
    ({"postprocessors": {"name": "normalize"}}, "postprocessors must be a list"),
    ({"sampler": {"name": "euler_flow", "args": {"image_cfg": "abc"}}},
     "image_cfg must be a number in [0, 100], not 'abc'"),
    ({"sampler": {"name": "euler_flow", "args": {"cfg": -1}}}, "cfg must be a number in [0, 100], not -1"),
    ({"sampler": {"name": "euler_flow", "args": {"steps": 0}}}, "steps must be an integer in [1, 500], not 0"),
    ({"dit": {"tokens": 8, "token_dim": 4, "width": 64, "depth": 1, "heads": 4, "image_dim": 24}},
     "the DiT weights do not match config.json"),
    ({"dit": {"tokens": 8, "bogus": 1}}, "config.json: dit:"),
    ({"dit": {"tokens": 8, "token_dim": 4, "width": 32, "depth": 1, "heads": 7, "image_dim": 24}},
     "config.json: dit:"),
    ({"mesher": {"name": "marching_cubes", "args": {"level": "x"}}},
     "mesher 'marching_cubes': level and rescue_peak must be numbers with 0 < level < rescue_peak <= 1, not 'x'"),
    ({"mesher": {"name": "marching_cubes", "args": {"level": 0.9}}}, "0 < level < rescue_peak <= 1"),
    ({"latent_mean": [0.0, 0.0]}, "latent_mean must hold 4 numbers"),
])
def test_a_config_naming_a_wrong_part_is_a_one_line_error(tiny_generator, tmp_path, entries, needle):
    folder = with_config(tiny_generator, tmp_path, **entries)
    with pytest.raises(InputError, match=re.escape(needle)) as info:
        create_generator("embedded", str(folder))
    assert "\n" not in str(info.value)


def test_candidates_is_a_constructor_option_and_other_backends_refuse_it(tiny_generator):
    gen = create_generator("embedded", str(tiny_generator), candidates=3)
    out = gen.generate(Condition("small blue sailboat"), seed=2, steps=2)
    chosen = out.info["candidates"]
    assert chosen["count"] == 3 and chosen["category"] == "sailboat" and len(chosen["probabilities"]) == 3
    assert chosen["chosen_seed"] - 2 == int(np.argmax(chosen["probabilities"]))
    single = create_generator("embedded", str(tiny_generator), candidates=1)
    assert "candidates" not in single.generate(Condition("small blue sailboat"), seed=2, steps=2).info
    pair = gen.generate(Condition("a red car and a blue tent"), seed=2, steps=2)
    assert "candidates" not in pair.info  # two objects: no single category to select by
    with pytest.raises(InputError, match="generator 'procedural' has no option 'candidates'"):
        create_generator("procedural", candidates=2)
    assert create_generator("procedural", candidates=None).name == "procedural"  # an option left unset is no option


def test_image_tokens_condition_and_seed_determinism(tiny_generator):
    gen = EmbeddedGenerator.from_pretrained(str(tiny_generator))
    tokens = torch.randn(69, 24)
    a = gen.sample_latents(Condition("x", tokens=tokens), seed=3, steps=2)
    b = gen.sample_latents(Condition("x", tokens=tokens), seed=3, steps=2)
    c = gen.sample_latents(Condition("x", tokens=tokens), seed=4, steps=2)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.shape == (1, 8, 4)


def test_image_cfg_is_the_default_guidance_of_image_token_conditions_only(tiny_generator, tmp_path):
    folder = with_config(tiny_generator, tmp_path,
                         sampler={"name": "euler_flow", "args": {"steps": 2, "cfg": 3.0, "image_cfg": 1.5}})
    gen = EmbeddedGenerator.from_pretrained(str(folder))
    torch.manual_seed(0)
    with torch.no_grad():  # the fixture's DiT is zero-initialized at its output: give guidance something to weigh
        for parameter in gen.dit.parameters():
            parameter.normal_(0.0, 0.2)
    tokens = torch.randn(69, 24)
    image, text = Condition("x", tokens=tokens), Condition("small blue sailboat")
    assert torch.equal(gen.sample_latents(image, seed=1), gen.sample_latents(image, seed=1, cfg=1.5))
    assert not torch.equal(gen.sample_latents(image, seed=1), gen.sample_latents(image, seed=1, cfg=3.0))
    assert torch.equal(gen.sample_latents(text, seed=1), gen.sample_latents(text, seed=1, cfg=3.0))
    assert gen.generate(image, seed=0).info["cfg"] == 1.5 and gen.generate(text, seed=0).info["cfg"] == 3.0
    assert gen.generate(image, seed=0, cfg=4.0).info["cfg"] == 4.0  # a call's cfg still wins


def test_candidates_start_from_consecutive_seeds(tiny_generator):
    gen = EmbeddedGenerator.from_pretrained(str(tiny_generator))
    both = gen.sample_latents(Condition("small blue sailboat"), seed=5, steps=2, count=2)
    first = gen.sample_latents(Condition("small blue sailboat"), seed=5, steps=2)
    second = gen.sample_latents(Condition("small blue sailboat"), seed=6, steps=2)
    assert both.shape == (2, 8, 4)
    assert torch.allclose(both[:1], first, atol=1e-4) and torch.allclose(both[1:], second, atol=1e-4)


def test_an_object_outside_toyworld_is_conditioned_as_its_nearest_category(tiny_generator):
    gen = EmbeddedGenerator.from_pretrained(str(tiny_generator), candidates=2)
    out = gen.generate(Condition("emerald champignon", "A green champignon on a plain background."), steps=2)
    assert out.info["nearest_categories"] == [{"typed": "champignon", "category": "mushroom",
                                               "cosine": out.info["nearest_categories"][0]["cosine"]}]
    assert out.info["candidates"]["category"] == "mushroom"
    assert any("nearest, 'mushroom'" in w for w in out.warnings)


def ball_grid(peak: float) -> VoxelGrid:
    axis = np.linspace(-1, 1, 12)
    distance = np.linalg.norm(np.stack(np.meshgrid(axis, axis, axis, indexing="ij")), axis=0)
    return VoxelGrid(peak * np.clip(1.0 - distance, 0, 1), np.full((12, 12, 12, 3), 0.5))


def test_marching_cubes_rescues_an_empty_grid_and_says_so():
    full = MarchingCubes(level=0.5)(ball_grid(1.0))
    assert full.warning is None and full.asset.n_faces > 0 and full.occupied_voxels > 0
    faint = ball_grid(0.3)
    before = faint.occupancy.copy()
    rescued = MarchingCubes(level=0.5, rescue_peak=0.75)(faint)
    assert rescued.asset.n_faces > 0 and "empty at level 0.5" in rescued.warning
    assert np.array_equal(faint.occupancy, before)  # the decoded grid itself is left as it was


def test_post_processors_return_new_assets_in_the_unit_cube():
    asset = MarchingCubes()(ball_grid(1.0)).asset
    colors = np.tile([0.2, 0.4, 0.6, 1.0], (asset.n_vertices, 1))
    asset = Asset(asset.vertices * 3.0, asset.faces, vertex_colors=colors)
    creased = CreaseNormals(degrees=70.0)(asset)
    assert creased is not asset and creased.vertex_normals.shape == creased.vertices.shape
    assert len(creased.vertex_colors) == len(creased.vertices) and asset.vertex_normals is None
    normalized = Normalize()(creased)
    lo, hi = normalized.bounds()
    assert np.max(hi - lo) == pytest.approx(1.0, abs=1e-5) and np.all(np.abs(normalized.vertices) <= 0.5 + 1e-6)
    assert Material(roughness=0.3)(normalized).roughness == 0.3 and normalized.roughness == 0.8


def test_a_batch_made_with_other_weights_at_the_same_path_is_not_resumed(tiny_generator, tmp_path):
    import shutil

    from text3d.runs.pipeline import generate_batch

    folder = tmp_path / "model"
    shutil.copytree(tiny_generator, folder)
    before = EmbeddedGenerator.weights_sha256(str(folder))
    settings = dict(augment="none", model=str(folder), candidates=1, steps=1, views=(), progress=False)
    assert generate_batch(["red chair"], tmp_path / "run", **settings)["done"] == 1
    weights = folder / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1  # one bit of the last weight: a retrained model at the same path
    weights.write_bytes(bytes(data))
    assert EmbeddedGenerator.weights_sha256(str(folder)) != before
    with pytest.raises(InputError, match="model_sha256"):
        generate_batch(["red chair"], tmp_path / "run", **settings)
    assert EmbeddedGenerator.weights_sha256(str(tmp_path / "nowhere")) is None  # from_pretrained says why
