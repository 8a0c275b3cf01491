"""``text3d train image-adapter``: only the image path trains, it learns, and the output is a
complete generator folder whose text path is the base model's."""

import dataclasses
import io
import json

import numpy as np
import pytest
import torch

from text3d.errors import InputError
from text3d.generators.backends.embedded import EmbeddedGenerator
from text3d.nn.block_vae import BlockVAE, BlockVAEConfig
from text3d.nn.checkpoint import load_folder
from text3d.nn.dit import DiTConfig, FlowDiT
from text3d.train.config import ImageAdapterTrainConfig, settings_table
from text3d.train.generator import save_generator
from text3d.train.image_adapter import (
    adapt_generator,
    adapter_model,
    noisy_tokens,
    train_adapter,
)

TRAINED = ("image_adapter.", "cond_proj.image.", "null.image")


def base_state(image_dim=6, tokens=4, seed=0):
    """A tiny DiT with every weight random (a fresh one ignores its condition: zero-initialized outputs)."""
    torch.manual_seed(seed)
    dit = FlowDiT(DiTConfig(tokens=tokens, token_dim=3, width=32, depth=2, heads=4, text_dim=8, image_dim=image_dim))
    with torch.no_grad():
        for p in dit.parameters():
            p.copy_(torch.randn_like(p) * 0.3)
    return dit


def test_only_the_image_path_trains_and_its_loss_falls():
    base = base_state()
    state = {f"dit.{k}": v for k, v in base.state_dict().items()}
    dit = adapter_model(state, {"dit": base.config.to_dict()}, depth=1)
    assert {n for n, p in dit.named_parameters() if p.requires_grad} == \
        {n for n, _ in dit.named_parameters() if n.startswith(TRAINED)}
    g = torch.Generator().manual_seed(1)
    tokens = torch.randn(64, 1, 5, 6, generator=g).half()
    latents = tokens.float().mean(2)[:, :1, :3].expand(-1, 4, -1) * 3  # each latent is set by its tokens
    config = ImageAdapterTrainConfig(steps=200, batch=16, lr=3e-3, warmup=10, device="cpu", checkpoint_every=1000)

    def loss_now(model):
        torch.manual_seed(5)
        context, mask = model.condition(tokens[:, 0].float(), None, "image")
        with torch.no_grad():
            return float(np.mean([torch.nn.functional.mse_loss(
                model(latents * t, torch.full((64,), t), context, mask), latents).item() for t in (0.3, 0.6, 0.9)]))

    before = loss_now(dit)
    trained = train_adapter(dit, latents, tokens, config, io.StringIO())
    assert loss_now(trained) < 0.8 * before
    after = trained.state_dict()
    for name, value in base.state_dict().items():
        if not name.startswith(TRAINED):
            assert torch.equal(after[name], value), name
    with pytest.raises(ValueError, match="already has an image adapter"):
        adapter_model(state, {"dit": {**base.config.to_dict(), "image_adapter": 1}}, depth=1)


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory):
    torch.manual_seed(0)
    vae = BlockVAE(BlockVAEConfig(resolution=32, block=8, latent=3, hidden=16))
    folder = tmp_path_factory.mktemp("base") / "generator"
    dit = base_state(image_dim=192, tokens=64)
    save_generator(folder, vae, dit, np.zeros(3), np.ones(3), {"note": "test"}, "# tiny\n")
    return folder


def test_adapt_generator_writes_a_generator_folder_with_the_base_text_path(tmp_path, tiny_base):
    config = ImageAdapterTrainConfig(items=3, steps=4, batch=2, depth=1, base=str(tiny_base), device="cpu",
                                     workers=1, checkpoint_every=2)
    summary = adapt_generator(tmp_path / "run", config, progress=False)
    assert summary["trained_parameters"] > 0
    folder = tmp_path / "run" / "generator"
    state, saved = load_folder(folder)
    base, _ = load_folder(tiny_base)
    assert saved["dit"]["image_adapter"] == 1
    assert saved["training"]["image_adapter"]["config"] == dataclasses.asdict(config)
    for name, value in base.items():
        if not name.startswith(tuple(f"dit.{p}" for p in TRAINED)):
            assert torch.equal(state[name], value), name
    adapter = [n for n in state if n.startswith("dit.image_adapter")]
    assert any(not torch.equal(state[n], torch.zeros_like(state[n])) for n in adapter)
    card = (folder / "README.md").read_text()
    assert card.startswith("# tiny") and settings_table(ImageAdapterTrainConfig, dataclasses.asdict(config)) in card
    assert not (tmp_path / "run" / "image-adapter.pt").exists()  # the checkpoint goes when training ends
    generator = EmbeddedGenerator.from_pretrained(str(folder), device="cpu")
    assert len(generator.dit.image_adapter) == 1
    log = [json.loads(line) for line in (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log if r["model"] == "image-adapter"] == [0, 3]

    # the adapted folder keeps its base's image path: retrained from itself, the adapter comes out the same
    again = dataclasses.replace(config, base=str(folder))
    adapt_generator(tmp_path / "again", again, progress=False)
    state_again, saved_again = load_folder(tmp_path / "again" / "generator")
    assert set(state_again) == set(state) and all(torch.equal(state_again[k], state[k]) for k in state)
    record, record_again = saved["training"]["image_adapter"], saved_again["training"]["image_adapter"]
    assert record_again["base_sha256"] == record["base_sha256"]
    assert saved_again["training"]["note"] == "test"
    assert (tmp_path / "again" / "generator" / "README.md").read_text().count("## Image-path adapter") == 1


def test_init_starts_from_an_adapted_folder_and_the_card_chains_both_commands(tmp_path, tiny_base):
    config = ImageAdapterTrainConfig(items=3, steps=4, batch=2, depth=1, base=str(tiny_base), device="cpu",
                                     workers=1, checkpoint_every=2)
    adapt_generator(tmp_path / "first", config, progress=False)
    first = tmp_path / "first" / "generator"
    # at learning rate 0 the continued run keeps exactly the weights it started from
    frozen = dataclasses.replace(config, init=str(first), lr=0.0)
    adapt_generator(tmp_path / "cont", frozen, progress=False)
    state, saved = load_folder(tmp_path / "cont" / "generator")
    start, _ = load_folder(first)
    assert set(state) == set(start) and all(torch.equal(state[k], start[k]) for k in state)
    record = saved["training"]["image_adapter"]
    assert record["init"]["record"]["command"] == saved_command(first)
    card = (tmp_path / "cont" / "generator" / "README.md").read_text()
    assert "--out RUN1 " in card and "--init RUN1/generator" in card and "trained 4 + 4 = 8 steps" in card
    assert card.count("## Image-path adapter") == 1
    with pytest.raises(InputError, match=r"^--init \S+/none: no such folder"):
        adapt_generator(tmp_path / "bad0", dataclasses.replace(config, init=str(tmp_path / "none")), progress=False)
    with pytest.raises(InputError, match="--init .*no image adapter"):
        adapt_generator(tmp_path / "bad1", dataclasses.replace(config, init=str(tiny_base)), progress=False)
    with pytest.raises(InputError, match="--init .*1 blocks, not --depth 2"):
        adapt_generator(tmp_path / "bad2", dataclasses.replace(config, init=str(first), depth=2), progress=False)


def saved_command(folder):
    return load_folder(folder)[1]["training"]["image_adapter"]["command"]


def test_token_noise_has_the_relative_norm_it_draws():
    g = torch.Generator().manual_seed(0)
    tokens = torch.randn(400, 5, 64) * torch.linspace(0.5, 4, 400)[:, None, None]
    assert torch.equal(noisy_tokens(tokens, 0.0, g), tokens)
    relative = (noisy_tokens(tokens, 1.0, g) - tokens).norm(dim=-1) / tokens.norm(dim=-1)  # (400, 5)
    per_sample = relative.mean(1)
    assert 0.0 <= per_sample.min() < 0.1 and 0.9 < per_sample.max() < 1.2  # a ~ U(0, 1) per sample
    assert abs(per_sample.mean().item() - 0.5) < 0.06
    assert (relative.std(1) < 0.25).all()  # one level for all of a sample's tokens


def test_a_folder_that_is_not_a_generator_is_refused_in_one_line(tmp_path):
    from text3d.nn.checkpoint import WEIGHTS_ROOT

    with pytest.raises(InputError, match="not an embedded generator model folder"):
        adapt_generator(tmp_path / "run", ImageAdapterTrainConfig(base=str(WEIGHTS_ROOT / "image-encoder")))
    assert not (tmp_path / "run" / "generator").exists()


def test_an_interrupted_training_resumes_to_the_same_weights(tmp_path, monkeypatch):
    import text3d.train.image_adapter as module

    base = base_state()
    state = {f"dit.{k}": v for k, v in base.state_dict().items()}
    tokens = torch.randn(32, 2, 5, 6, generator=torch.Generator().manual_seed(2)).half()
    latents = torch.randn(32, 4, 3, generator=torch.Generator().manual_seed(3))
    config = ImageAdapterTrainConfig(steps=6, batch=4, warmup=2, device="cpu", checkpoint_every=2)

    def fresh():
        torch.manual_seed(0)
        return adapter_model(state, {"dit": base.config.to_dict()}, depth=1)

    whole = train_adapter(fresh(), latents, tokens, config, io.StringIO(), tmp_path / "a.pt").state_dict()
    real, calls = module.flow.flow_loss, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:  # during step 3, after the checkpoint of step 2
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(module.flow, "flow_loss", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train_adapter(fresh(), latents, tokens, config, io.StringIO(), tmp_path / "b.pt")
    assert (tmp_path / "b.pt").exists()
    monkeypatch.setattr(module.flow, "flow_loss", real)
    resumed = train_adapter(fresh(), latents, tokens, config, io.StringIO(), tmp_path / "b.pt").state_dict()
    assert all(torch.equal(whole[k], resumed[k]) for k in whole)
    assert not (tmp_path / "b.pt").exists()


def test_a_base_whose_parts_are_broken_is_refused_before_training(tmp_path, tiny_base):
    broken = tmp_path / "broken"
    broken.mkdir()
    for path in tiny_base.iterdir():
        (broken / path.name).write_bytes(path.read_bytes())
    config = json.loads((broken / "config.json").read_text())
    config["sampler"] = {"name": "euler_flow", "args": {"steps": 8, "cfg": 3.0, "image_cfg": "abc"}}
    (broken / "config.json").write_text(json.dumps(config))
    settings = ImageAdapterTrainConfig(items=2, steps=2, batch=2, depth=1, base=str(broken), device="cpu", workers=1)
    with pytest.raises(InputError, match="image_cfg must be a number"):
        adapt_generator(tmp_path / "run", settings, progress=False)
    assert not (tmp_path / "run" / "generator").exists() and not (tmp_path / "run" / "cache").exists()
