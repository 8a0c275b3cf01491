"""Fine-tuning the embedded generator on bias-mitigation pairs (``text3d train generator --finetune``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from text3d.assets.io import save_asset
from text3d.data.toyworld.instance import item_spec, make_instance
from text3d.data.toyworld.vocabulary import built_categories
from text3d.errors import InputError
from text3d.generators.backends.embedded import EmbeddedGenerator
from text3d.nn.checkpoint import load_folder, resolve_model_folder
from text3d.train import generator_finetune as ft

TINY = ft.FinetuneConfig(steps=4, batch=4, replay_items=3, warmup=1, checkpoint_every=2, lr=1e-3)


def _pairs(root: Path, n: int = 3) -> Path:
    programs = built_categories()
    rows = []
    for i in range(n):
        category, seed = item_spec(i, 1_000_000, programs)
        instance = make_instance(category, seed, kind="basic")
        save_asset(instance.scene().to_asset(), root / f"items/{i}/asset.glb")
        rows.append({"asset": f"items/{i}/asset.glb", "text": instance.prompt,
                     "context": f"{instance.prompt} on a wooden shelf"})
    (root / "pairs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


@pytest.fixture(scope="module")
def pairs(tmp_path_factory) -> Path:
    return _pairs(tmp_path_factory.mktemp("augment"))


def test_asset_grid_matches_the_exact_toyworld_grid():
    programs = built_categories()
    ious = []
    for i in (0, 1, 4):  # ball (an open part: the closing matters), spinning top, rubber duck
        category, seed = item_spec(i, 1_000_000, programs)
        scene = make_instance(category, seed, kind="basic").scene()
        mine, exact = ft.asset_grid(scene.to_asset(), samples=60_000), scene.voxel_grid(32)
        a, b = mine.occupancy > 0.5, exact.occupancy > 0.5
        ious.append((a & b).sum() / (a | b).sum())
    assert min(ious) > 0.8, ious


def test_finetune_runs_resumes_and_loads_with_model(pairs, tmp_path, monkeypatch, interrupt_at):
    torch.set_num_threads(1)
    out = tmp_path / "model"
    real = interrupt_at(ft, "optimizer_step", 3)  # after the checkpoint at step 2
    with pytest.raises(KeyboardInterrupt):
        ft.finetune_generator(pairs, out, TINY)
    assert (out / "finetune.pt").exists() and not (out / "config.json").exists()
    saved = torch.load(out / "finetune.pt", weights_only=False)
    torch.save({**saved, "cpu_s": 600.0}, out / "finetune.pt")  # the killed attempt had spent 10 CPU-minutes
    monkeypatch.setattr(ft, "optimizer_step", real)
    resumed = []
    monkeypatch.setattr(ft, "optimizer_step", lambda *a, **k: (resumed.append(1), real(*a, **k)))
    summary = ft.finetune_generator(pairs / "pairs.jsonl", out, TINY)
    assert len(resumed) == TINY.steps - 2  # steps 2 and 3 only
    assert summary["pairs"] == 3 and not (out / "finetune.pt").exists()
    assert 10.0 <= summary["cpu_minutes"] < 15.0  # over both attempts
    assert (out / "model.safetensors").exists() and (out / ft.CARD_FILE).exists()
    card = (out / ft.CARD_FILE).read_text()
    assert "pairs.jsonl" in card and "Steps: 4" in card and "seed 0" in card
    assert "at batch 4 (2 of them replayed from 3 toyworld training items)" in card
    assert "(pairs only: no replay)" in ft.finetune_card(ft.FinetuneConfig(replay=0.0), summary, [])
    # a finished folder is not trained again
    again = []
    monkeypatch.setattr(ft, "optimizer_step", lambda *a, **k: again.append(1))
    ft.finetune_generator(pairs, out, TINY)
    assert not again

    tuned, _ = load_folder(out)
    base, _ = load_folder(resolve_model_folder(None, "generator"))
    dit_keys = [k for k in tuned if k.startswith("dit.")]
    assert any(not torch.equal(tuned[k], base[k]) for k in dit_keys)
    assert all(torch.equal(tuned[k], base[k]) for k in tuned if k.startswith("vae."))
    generator = EmbeddedGenerator.from_pretrained(str(out), device="cpu", candidates=1)
    assert generator.model.endswith(str(out))
    from text3d.generators.base import Condition

    shipped = EmbeddedGenerator.from_pretrained(None, device="cpu", candidates=1)
    a = generator.sample_latents(Condition("orange ball"), seed=3, steps=2)
    b = shipped.sample_latents(Condition("orange ball"), seed=3, steps=2)
    assert not np.allclose(a.numpy(), b.numpy())


def record_texts(monkeypatch) -> list[list[str]]:
    """The texts of each batch the fine-tuning encodes, as the text encoder receives them."""
    seen: list[list[str]] = []
    real = ft.shared_text_encoder

    class Recording:
        def __init__(self, encoder):
            self.encoder = encoder

        def encode(self, texts):
            seen.append(list(texts))
            return self.encoder.encode(texts)

    monkeypatch.setattr(ft, "shared_text_encoder", lambda device=None: Recording(real(device)))
    return seen


@pytest.mark.parametrize("context_text", [0.0, 1.0])
def test_pairs_are_conditioned_on_t_n_or_on_their_context_as_set(pairs, tmp_path, monkeypatch, context_text):
    torch.set_num_threads(1)
    seen = record_texts(monkeypatch)
    config = ft.FinetuneConfig(steps=3, batch=4, replay=0.5, replay_items=3, warmup=1, context_text=context_text,
                               cond_dropout=0.0)
    ft.finetune_generator(pairs, tmp_path / "model", config, cache=tmp_path / "cache")
    assert len(seen) == 3
    pair_texts = [t for batch in seen for t in batch[:2]]  # each batch: 2 pair items, then 2 replay items
    contexts = sum(t.endswith("on a wooden shelf") for t in pair_texts)
    assert contexts == (len(pair_texts) if context_text == 1.0 else 0)


def test_model_that_is_not_a_generator_is_refused_in_one_line(tmp_path):
    from text3d.nn.checkpoint import save_folder

    save_folder(tmp_path, {"w": torch.zeros(2)}, {"model": {"width": 2}})
    with pytest.raises(InputError) as info:
        EmbeddedGenerator.from_pretrained(str(tmp_path), device="cpu")
    assert "not an embedded generator" in str(info.value) and "\n" not in str(info.value)


def test_cli_finetune_option(tmp_path, capsys):
    from text3d.cli import main

    code = main(["train", "generator", "--finetune", str(tmp_path / "none"), "--out", str(tmp_path / "m")])
    err = capsys.readouterr().err.strip()
    assert code != 0 and "no pairs.jsonl" in err and len(err.splitlines()) == 1
    main(["train", "generator", "--finetune", str(tmp_path / "none"), "--out", str(tmp_path / "m"), "--batch", "2"])
    assert "--batch: unused with --finetune" in capsys.readouterr().err  # it trains from scratch only


def test_a_folder_that_is_not_a_fine_tuned_generators_is_never_written(pairs, tmp_path, capsys):
    from text3d.cli import main

    user = tmp_path / "userdir"
    user.mkdir()
    (user / "config.json").write_text('{"my": "settings"}')
    with pytest.raises(InputError, match="config.json is not a fine-tuned generator's"):
        ft.finetune_generator(pairs, user, TINY)
    assert (user / "config.json").read_text() == '{"my": "settings"}' and sorted(p.name for p in user.iterdir()) == [
        "config.json"]
    # the input folder (it holds pairs.jsonl and assets) and the base model are refused before any work
    for out in (pairs, resolve_model_folder(None, "generator")):
        before = sorted(p.name for p in out.iterdir())
        code = main(["train", "generator", "--finetune", str(pairs), "--out", str(out), "--finetune-steps", "1"])
        err = capsys.readouterr().err.strip()
        assert code == 2 and len(err.splitlines()) == 1 and f"--out {out}" in err, err
        assert sorted(p.name for p in out.iterdir()) == before
    with pytest.raises(InputError, match="is the --model folder it starts from"):
        ft.finetune_generator(pairs, resolve_model_folder(None, "generator"), TINY)


def test_a_finished_fine_tuning_is_kept_and_other_settings_or_another_base_are_refused(pairs, tmp_path, monkeypatch):
    torch.set_num_threads(1)
    out = tmp_path / "ft1"
    first = ft.finetune_generator(pairs, out, TINY, cache=tmp_path / "cache")
    weights = (out / "model.safetensors").read_bytes()
    with pytest.raises(InputError, match=r"fine-tuned with other settings \(steps differ\)"):
        ft.finetune_generator(pairs, out, ft.FinetuneConfig(**{**TINY.__dict__, "steps": 3}), cache=tmp_path / "cache")
    # starting from ft1 itself (same pairs and steps) is another base: its key differs from ft1's own
    vae, dit, config, _ = ft.load_base(str(out), torch.device("cpu"))
    shipped = ft.load_base(None, torch.device("cpu"))
    assert ft.base_digest(vae, dit, config) != ft.base_digest(*shipped[:3])
    second = ft.finetune_generator(pairs, tmp_path / "ft2", TINY, base=str(out), cache=tmp_path / "cache")
    assert second["key"]["base"] != first["key"]["base"] and second["base"] == str(out)
    assert (out / "model.safetensors").read_bytes() == weights


def test_without_replay_no_replay_item_is_built_and_every_batch_is_pairs(pairs, tmp_path, monkeypatch):
    torch.set_num_threads(1)
    monkeypatch.setattr(ft, "replay_set", lambda *a, **k: pytest.fail("replay items built with --replay 0"))
    seen = record_texts(monkeypatch)
    config = ft.FinetuneConfig(steps=2, batch=3, replay=0.0, replay_items=3, warmup=1, cond_dropout=0.0)
    summary = ft.finetune_generator(pairs, tmp_path / "model", config, cache=tmp_path / "cache")
    assert summary["pairs"] == 3 and [len(batch) for batch in seen] == [3, 3]
    assert "(pairs only: no replay)" in (tmp_path / "model" / ft.CARD_FILE).read_text()
