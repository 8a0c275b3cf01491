"""``text3d train aligner`` on a tiny configuration and a fake pair source: the loss falls, a resumed
run ends with the weights of an uninterrupted one, only the soft tokens and the DiT train, the
folder loads back and samples, and stage 2 starts from a stage-1 folder."""

import dataclasses
import json

import numpy as np
import pytest
import torch

import text3d.train.aligner as aligner_module
from text3d.data.toyworld.instance import TRAIN_SEEDS
from text3d.encoders.embedded import EmbeddedImageEncoder
from text3d.encoders.minilm import shared_text_encoder
from text3d.errors import InputError
from text3d.nn.aligner import AlignerDiT
from text3d.nn.soft_prompt import SoftPromptEncoder
from text3d.train.aligner import AlignerData, load_aligner, sample_tokens
from text3d.train.config import AlignerTrainConfig, settings_table
from text3d.train.run_aligner import train_aligner

pytest.importorskip("safetensors")

TINY = AlignerTrainConfig(items=3, steps=6, batch=4, lr=1e-3, warmup=1, soft_tokens=2, width=32, depth=1, heads=2,
                          device="cpu", checkpoint_every=2)



@dataclasses.dataclass(frozen=True)
class FakePair:
    image: np.ndarray
    caption: str
    seed: int
    captions: tuple[str, ...] = ()


class FakePairs:
    """pairs(stage, seeds, resolution): one flat-colored image per seed, 2 captions for even seeds."""

    COLORS = ("red", "green", "blue", "yellow")

    def __init__(self):
        self.seeds = []

    def __call__(self, stage, seeds, resolution=64):
        for seed in seeds:
            self.seeds.append(seed)
            color = self.COLORS[seed % 4]
            image = np.zeros((resolution, resolution, 3), np.uint8)
            image[..., seed % 3] = 200 if stage == 1 else 120
            image[resolution // 4: resolution // 2, resolution // 4:] = 255
            captions = (f"a {color} cube", f"one {color} block") if seed % 2 == 0 else ()
            yield FakePair(image, f"a {color} cube", seed, captions)


def weights(folder):
    dit, encoder = load_aligner(folder, device="cpu")
    return {**{k: v.clone() for k, v in dit.state_dict().items()}, "soft": encoder.soft.detach().clone()}


@pytest.fixture(scope="module")
def stage1(tmp_path_factory):
    out = tmp_path_factory.mktemp("aligner")
    source = FakePairs()
    summary = train_aligner(out, TINY, pair_source=source, progress=False)
    return out, summary, source


def test_stage1_writes_a_folder_that_loads_and_samples_tokens(stage1):
    out, summary, source = stage1
    folder = out / "aligner-stage1"
    assert summary["folder"] == str(folder) and summary["pairs"] == 3
    assert {p.name for p in folder.iterdir()} >= {"config.json", "model.safetensors", "soft_tokens.safetensors",
                                                  "README.md"}
    assert source.seeds == [0, 1, 2] and all(s in TRAIN_SEEDS for s in source.seeds)
    config = json.loads((folder / "config.json").read_text())
    assert config["training"]["config"] == dataclasses.asdict(TINY)
    assert config["training"]["data"]["pairs"] == 3 and config["training"]["data"]["captions"] == 5
    assert settings_table(AlignerTrainConfig, config["training"]["config"]) in (folder / "README.md").read_text()
    assert not (out / "aligner-stage1.pt").exists()  # the checkpoint goes once training ends

    dit, encoder = load_aligner(folder, device="cpu")
    assert isinstance(dit, AlignerDiT) and isinstance(encoder, SoftPromptEncoder)
    assert encoder.soft_tokens == 2 and (dit.config.width, dit.config.depth) == (32, 1)
    tokens = sample_tokens(dit, encoder, ["a red cube", "a long caption about two green blocks"], steps=2)
    assert tokens.shape == (2, 1 + 4 + 64, 192) and torch.isfinite(tokens).all()
    again = sample_tokens(dit, encoder, ["a red cube", "a long caption about two green blocks"], steps=2)
    assert torch.equal(tokens, again)


def test_the_consensus_of_k_draws_is_one_of_them_and_the_nearest_the_others(stage1):
    from text3d.align.sampling import consensus_index

    # three draws around one direction and one apart: the medoid is the middle of the three
    near = torch.tensor([[1.0, 0.3, 0.0], [1.0, -0.3, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    assert consensus_index(near[None]).item() == 2
    assert consensus_index(near[[3, 0, 1, 2]][None]).item() == 3
    assert consensus_index(torch.randn(5, 1, 7)).tolist() == [0] * 5

    dit, encoder = load_aligner(stage1[0] / "aligner-stage1", device="cpu")
    texts = ["a red cube", "a long caption about two green blocks"]
    one = sample_tokens(dit, encoder, texts, steps=2, seed=3)
    assert torch.equal(one, sample_tokens(dit, encoder, texts, steps=2, seed=3, candidates=1))
    # K = 3: the draws are those of the captions repeated K times in one batch; each caption keeps one of its own
    picked = sample_tokens(dit, encoder, texts, steps=2, seed=3, candidates=3)
    every = sample_tokens(dit, encoder, texts * 3, steps=2, seed=3).reshape(3, 2, *one.shape[1:])
    for i in range(2):
        own = [k for k in range(3) if torch.allclose(picked[i], every[k, i], atol=1e-5)]
        assert len(own) == 1
        flat = every[:, i].flatten(1)
        assert own[0] == consensus_index(flat[None]).item()
    with pytest.raises(InputError, match="candidates 0"):
        sample_tokens(dit, encoder, texts, steps=2, candidates=0)


def test_only_the_soft_tokens_and_the_dit_train(tmp_path, monkeypatch):
    minilm = shared_text_encoder("cpu").model
    before = {k: v.clone() for k, v in minilm.state_dict().items()}
    made = []
    real = EmbeddedImageEncoder.from_pretrained
    monkeypatch.setattr(EmbeddedImageEncoder, "from_pretrained", classmethod(
        lambda cls, *a, **k: made.append(real(*a, **k)) or made[-1]))
    optimizers = []
    real_adamw = torch.optim.AdamW

    def recording_adamw(groups, **kwargs):
        optimizers.append(real_adamw(groups, **kwargs))
        return optimizers[-1]

    monkeypatch.setattr(aligner_module.torch.optim, "AdamW", recording_adamw)
    models = []
    real_build = aligner_module.build_models
    monkeypatch.setattr(aligner_module, "build_models", lambda *a: models.append(real_build(*a)) or models[-1])
    train_aligner(tmp_path, dataclasses.replace(TINY, steps=3), pair_source=FakePairs(), progress=False)

    shipped = real().model.state_dict()  # a fresh copy of the image encoder's weights
    assert all(torch.equal(v, made[0].model.state_dict()[k]) for k, v in shipped.items())
    assert not any(p.requires_grad for p in made[0].model.parameters())
    assert all(torch.equal(v, minilm.state_dict()[k]) for k, v in before.items())
    assert not any(p.requires_grad for p in minilm.parameters())
    dit, encoder = models[0]
    trained = {id(p) for g in optimizers[0].param_groups for p in g["params"]}
    assert trained == {id(p) for p in dit.parameters()} | {id(encoder.soft)}


def test_stage2_with_frozen_soft_tokens_trains_the_dit_on_cached_conditions(tmp_path, stage1, monkeypatch):
    out, _, _ = stage1
    calls = []
    real_condition = aligner_module.caption_condition
    monkeypatch.setattr(aligner_module, "caption_condition", lambda enc, texts: calls.append(len(texts)) or
                        real_condition(enc, texts))
    config = dataclasses.replace(TINY, stage=2, steps=4, lr=1e-2, init=str(out), freeze_soft=True)
    train_aligner(tmp_path, config, pair_source=FakePairs(), progress=False)
    trained, start = weights(tmp_path / "aligner-stage2"), weights(out / "aligner-stage1")
    assert torch.equal(trained["soft"], start["soft"])
    assert not all(torch.equal(trained[k], start[k]) for k in trained if k != "soft")
    assert calls == [5]  # the 5 captions of the 3 pairs, once, in one batch; no text pass per step


def test_frozen_soft_tokens_without_init_are_warned_about(tmp_path, caplog):
    with caplog.at_level("WARNING", logger="text3d.train.run_aligner"):
        train_aligner(tmp_path, dataclasses.replace(TINY, steps=1, freeze_soft=True), pair_source=FakePairs(),
                      progress=False)
    assert any("random initialization" in r.getMessage() for r in caplog.records)


def test_the_condition_cache_returns_each_pairs_own_caption():
    encoder = SoftPromptEncoder(shared_text_encoder("cpu").model, 2)
    captions = (("a red cube", "one red block"), ("a tall green lamp",), ("two blue chairs", "a chair", "x"))
    cache = aligner_module.ConditionCache(encoder, captions, batch=2, progress=False)
    index, choice = np.array([2, 0, 1, 2]), np.array([1, 1, 0, 2])
    cond, mask = cache(index, choice)
    direct, _ = aligner_module.caption_condition(encoder, ["a chair", "one red block", "a tall green lamp", "x"])
    assert mask.all() and cond.shape == direct.shape
    torch.testing.assert_close(cond, direct, atol=1e-5, rtol=1e-4)


def test_the_targets_split_into_cls_registers_and_patches():
    tokens = torch.arange(2 * 7 * 3, dtype=torch.float32).view(2, 7, 3)  # 1 CLS, 2 registers, 2×2 patches
    groups = AlignerData(tokens, (("a",), ("b",)), registers=2, grid=2).groups()
    assert torch.equal(groups["cls"], tokens[:, :1]) and torch.equal(groups["registers"], tokens[:, 1:3])
    assert torch.equal(groups["patches"], tokens[:, 3:])


def test_the_loss_falls_over_a_few_dozen_steps(tmp_path):
    config = dataclasses.replace(TINY, items=2, steps=30, batch=4, lr=3e-3, warmup=2, drop_prob=0.0, width=64,
                                 heads=4)
    train_aligner(tmp_path, config, pair_source=FakePairs(), progress=False, log_every=1)
    losses = [json.loads(line)["loss"] for line in (tmp_path / "train_log.jsonl").read_text().splitlines()]
    assert len(losses) == 30 and all(np.isfinite(losses))
    assert np.mean(losses[-10:]) < 0.75 * np.mean(losses[:5]), losses


def test_an_interrupted_run_resumes_to_the_weights_of_an_uninterrupted_one(tmp_path, monkeypatch, stage1,
                                                                           interrupt_at):
    out, _, _ = stage1
    real_loss = interrupt_at(aligner_module, "aligner_flow_loss", 4)  # during step 3, after step 2's checkpoint
    with pytest.raises(KeyboardInterrupt):
        train_aligner(tmp_path, TINY, pair_source=FakePairs(), progress=False)
    assert (tmp_path / "aligner-stage1.pt").exists() and not (tmp_path / "aligner-stage1").exists()

    monkeypatch.setattr(aligner_module, "aligner_flow_loss", real_loss)
    saved = torch.load(tmp_path / "aligner-stage1.pt", weights_only=False)
    torch.save({**saved, "cpu_s": 600.0}, tmp_path / "aligner-stage1.pt")  # the killed attempt had spent 10 CPU-minutes
    source = FakePairs()
    summary = train_aligner(tmp_path, TINY, pair_source=source, progress=False)
    assert 10.0 <= summary["train_cpu_minutes"] < 15.0  # over both attempts
    assert "CPU-minutes over every attempt" in (tmp_path / "aligner-stage1" / "README.md").read_text()
    assert source.seeds == []  # the targets come from the run folder's cache
    steps = [json.loads(line)["step"] for line in (tmp_path / "train_log.jsonl").read_text().splitlines()]
    assert steps == [0, 5]  # the first pass logged step 0; the resumed one started at 2 and logged the last
    resumed, uninterrupted = weights(tmp_path / "aligner-stage1"), weights(out / "aligner-stage1")
    assert resumed.keys() == uninterrupted.keys()
    assert all(torch.equal(resumed[k], uninterrupted[k]) for k in resumed)


def test_stage2_starts_from_the_stage1_weights(tmp_path, stage1):
    out, _, _ = stage1
    source = FakePairs()
    frozen = dataclasses.replace(TINY, stage=2, steps=1, lr=0.0, init=str(out))  # lr 0: the weights stay put
    train_aligner(tmp_path, frozen, pair_source=source, progress=False)
    start, stage1_weights = weights(tmp_path / "aligner-stage2"), weights(out / "aligner-stage1")
    assert all(torch.equal(start[k], stage1_weights[k]) for k in start)
    config = json.loads((tmp_path / "aligner-stage2" / "config.json").read_text())
    assert config["training"]["init"] == str(out / "aligner-stage1")
    assert "toyworld single objects" in config["training"]["data"]["source"]

    fresh = dataclasses.replace(frozen, init=None)
    train_aligner(tmp_path / "fresh", fresh, pair_source=source, progress=False)
    assert not torch.equal(weights(tmp_path / "fresh" / "aligner-stage2")["soft"], stage1_weights["soft"])
    with pytest.raises(InputError, match="--width"):
        train_aligner(tmp_path / "wide", dataclasses.replace(frozen, width=64), pair_source=source, progress=False)
    with pytest.raises(InputError, match="--init"):
        train_aligner(tmp_path / "none", dataclasses.replace(frozen, init=str(tmp_path / "missing")),
                      pair_source=source, progress=False)


def test_a_checkpoint_of_other_settings_is_not_resumed(tmp_path, monkeypatch, caplog, interrupt_at):
    real_loss = interrupt_at(aligner_module, "aligner_flow_loss", 4)
    with pytest.raises(KeyboardInterrupt):
        train_aligner(tmp_path, TINY, pair_source=FakePairs(), progress=False, log_every=1)
    monkeypatch.setattr(aligner_module, "aligner_flow_loss", real_loss)
    with caplog.at_level("WARNING", logger="text3d.train.aligner"):
        train_aligner(tmp_path, dataclasses.replace(TINY, lr=5e-4, checkpoint_every=3), pair_source=FakePairs(),
                      progress=False, log_every=1)
    warned = [r.getMessage() for r in caplog.records if "written with other settings" in r.getMessage()]
    assert len(warned) == 1 and "(lr differ; its 2 steps are kept as" in warned[0]
    steps = [json.loads(line)["step"] for line in (tmp_path / "train_log.jsonl").read_text().splitlines()]
    assert steps == [0, 1, 2, 0, 1, 2, 3, 4, 5]  # checkpoint_every is a runtime setting; lr is not
    # the earlier run's checkpoint was set aside, not overwritten: its settings and steps are still there
    aside = [p for p in tmp_path.iterdir() if ".other-settings" in p.name]
    assert len(aside) == 1
    kept = torch.load(aside[0], weights_only=False)
    assert kept["step"] == 2 and kept["key"]["lr"] == TINY.lr


def test_ema_gives_the_folder_the_average_weights_and_survives_a_resume(tmp_path, monkeypatch, stage1, interrupt_at):
    out, _, _ = stage1
    base = dataclasses.replace(TINY, stage=2, init=str(out))  # known starting weights: stage 1's
    start = weights(out / "aligner-stage1")

    def run(folder, **changes):
        train_aligner(folder, dataclasses.replace(base, **changes), pair_source=FakePairs(), progress=False)
        return weights(folder / "aligner-stage2")

    def moved(w):
        return sum(float((w[k] - start[k]).norm()) for k in start)

    last, slow, half = run(tmp_path / "last"), run(tmp_path / "slow", ema=0.9999), run(tmp_path / "half", ema=0.5)
    assert moved(last) > 0
    assert moved(slow) < 0.01 * moved(last)  # 6 steps at decay 0.9999: the average is nearly the start
    assert 0 < moved(half) and any(not torch.equal(half[k], last[k]) for k in last)

    real_loss = interrupt_at(aligner_module, "aligner_flow_loss", 4)  # after step 2's checkpoint
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "resumed", ema=0.5)
    monkeypatch.setattr(aligner_module, "aligner_flow_loss", real_loss)
    resumed = run(tmp_path / "resumed", ema=0.5)
    assert all(torch.equal(resumed[k], half[k]) for k in half)  # the average was checkpointed too
