"""``text3d train generator`` end to end on a tiny configuration: data → block VAE → latents →
flow DiT (text and image steps) → weights folder that loads and generates → quick check."""

import json

import numpy as np
import pytest

from text3d.generators.backends.embedded import EmbeddedGenerator
from text3d.generators.base import Condition
from text3d.train.generator import GeneratorTrainConfig
from text3d.train.run_generator import train_generator

pytest.importorskip("safetensors")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen")
    config = GeneratorTrainConfig(items=45, vae_steps=3, vae_batch=4, steps=12, batch=4, width=32, depth=1,
                                  warmup=2, workers=1, image_fraction=0.5)
    figures = train_generator(out, config, check_n=3, progress=False)
    return out, figures


def test_training_runs_both_conditionings_and_writes_a_loadable_generator(trained):
    out, figures = trained
    rows = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    dit_rows = [r for r in rows if r["model"] == "flow-dit"]
    assert {r["step"] for r in dit_rows} >= {0, 11}
    assert all(np.isfinite(r["loss"]) for r in rows)
    assert set(figures["seconds"]) == {"data", "vae", "dit"}
    assert 0.0 <= figures["category_match"] <= 1.0 and figures["check_prompts"] == 3

    generator = EmbeddedGenerator.from_pretrained(str(out / "generator"))
    asset = generator.generate(Condition("small blue sailboat"), seed=0).asset
    assert len(asset.faces) > 0 and np.abs(asset.vertices).max() <= 0.5 + 1e-6
    tokens = np.random.default_rng(0).standard_normal((69, generator.dit.config.image_dim)).astype(np.float32)
    assert len(generator.generate(Condition("x", tokens=tokens), seed=0).asset.faces) > 0
    config = json.loads((out / "generator" / "config.json").read_text())
    assert config["training"]["quality"]["check_prompts"] == 3
    assert "Measured quality" in (out / "generator" / "README.md").read_text()


def test_stage1_vae_is_reused_on_a_rerun(trained, caplog):
    out, _ = trained
    config = GeneratorTrainConfig(items=45, vae_steps=3, vae_batch=4, steps=2, batch=4, width=32, depth=1,
                                  warmup=1, workers=1, image_fraction=0.0)
    with caplog.at_level("INFO", logger="text3d.train.run_generator"):
        train_generator(out, config, check_n=0, progress=False)
    assert any("reusing the stage-1 VAE" in r.getMessage() for r in caplog.records)


def test_interrupted_dit_training_resumes_from_its_checkpoint(tmp_path, monkeypatch, interrupt_at):
    import text3d.nn.flow as flow

    config = GeneratorTrainConfig(items=45, vae_steps=2, vae_batch=4, steps=6, batch=4, width=32, depth=1,
                                  warmup=1, workers=1, image_fraction=0.0, checkpoint_every=2)
    real_loss = interrupt_at(flow, "flow_loss", 5)  # during step 4, after the checkpoint of step 4
    with pytest.raises(KeyboardInterrupt):
        train_generator(tmp_path, config, check_n=0, progress=False)
    assert (tmp_path / "stage2-dit.pt").exists() and not (tmp_path / "generator").exists()

    monkeypatch.setattr(flow, "flow_loss", real_loss)
    train_generator(tmp_path, config, check_n=0, progress=False)
    steps = [json.loads(line)["step"] for line in (tmp_path / "train_log.jsonl").read_text().splitlines()
             if json.loads(line)["model"] == "flow-dit"]
    assert steps == [0, 5]  # the first pass logged step 0; the resumed one started at 4 and logged the last
    assert not (tmp_path / "stage2-dit.pt").exists()
    assert EmbeddedGenerator.from_pretrained(str(tmp_path / "generator")).generate(Condition("red chair")).asset


def test_a_finished_generator_is_not_replaced_by_other_settings(tmp_path, capsys):
    from text3d.cli import main

    out = tmp_path / "g"
    args = ["train", "generator", "--out", str(out), "--items", "2", "--vae-steps", "1", "--steps", "1", "--batch",
            "2", "--check", "0"]
    assert main([*args, "--replay", "0.9"]) == 0
    assert "--replay: unused without --finetune" in capsys.readouterr().err
    weights = {p.name: p.read_bytes() for p in (out / "generator").glob("*.safetensors")}
    assert weights
    assert main([*args, "--seed", "4", "--steps", "3"]) == 2
    err = capsys.readouterr().err
    assert "holds a generator trained with other settings (seed, steps differ)" in err and err.count("\n") == 1
    assert {p.name: p.read_bytes() for p in (out / "generator").glob("*.safetensors")} == weights
