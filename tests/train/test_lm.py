"""``text3d train lm`` on tiny settings: pairs pass the caption rules and come from training seeds,
the loss reads caption tokens only, the chat template reads the first user turn, a resumed run
ends with the weights of an uninterrupted one, and the shipped sizes span ≥ 10× parameters."""

import io
import json
from pathlib import Path

import pytest
import torch

import text3d.train.lm as lm_module
from text3d.data.toyworld.instance import TRAIN_SEEDS
from text3d.errors import InputError
from text3d.nn.checkpoint import WEIGHTS_ROOT
from text3d.prompts.augment import build_messages
from text3d.prompts.base import GenerationParams
from text3d.prompts.rules import apply_rules
from text3d.train.lm import (
    ASSISTANT,
    USER,
    build_tokenizer,
    caption_loss,
    collate,
    encode_pair,
    lm_pairs,
    train_lm,
)
from text3d.train.lm_config import LM_SIZES, LMShape, LMTrainConfig, lm_shape

TINY_SHAPE = LMShape(hidden=16, layers=1, heads=2, intermediate=32, lr=1e-2)



@pytest.fixture(scope="module")
def pairs():
    return lm_pairs(12)


@pytest.fixture(scope="module")
def tokenizer(pairs):
    return build_tokenizer([t for pair in pairs for t in pair], 300)


def test_pairs_pass_the_rules_and_come_from_training_seeds(pairs, monkeypatch):
    assert len(pairs) > 12
    for prompt, caption in pairs:
        report = apply_rules(prompt, caption)
        assert report.passed and report.caption == caption
    seeds = []
    original = lm_module.make_instance
    monkeypatch.setattr(lm_module, "make_instance", lambda c, s: seeds.append(s) or original(c, s))
    lm_pairs(3)
    assert seeds and all(s in TRAIN_SEEDS for s in seeds)


def test_chat_template_reads_the_first_user_turn_only(tokenizer):
    params = GenerationParams()
    messages = build_messages("small blue sailboat", params)
    messages += [{"role": "assistant", "content": "nonsense"}, {"role": "user", "content": "again, please"}]
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True,
                                         enable_thinking=False)
    assert text == f"{USER}small blue sailboat{ASSISTANT}"


def test_labels_mask_the_prompt_and_the_loss_reads_caption_tokens_only(tokenizer):
    ids, labels = encode_pair(tokenizer, "blue ball", "A small blue ball.")
    head = tokenizer.apply_chat_template([{"role": "user", "content": "blue ball"}], tokenize=False,
                                         add_generation_prompt=True)
    n_head = len(tokenizer(head, add_special_tokens=False)["input_ids"])
    assert labels[:n_head] == [-100] * n_head
    assert labels[n_head:] == ids[n_head:] and ids[-1] == tokenizer.eos_token_id
    batch = collate([(ids, labels), encode_pair(tokenizer, "red table", "A red table.")], tokenizer.pad_token_id)
    logits = torch.randn(*batch["input_ids"].shape, len(tokenizer), requires_grad=True)

    def model(**_):
        return type("Out", (), {"logits": logits})()

    caption_loss(model, batch).backward()
    # positions t whose next token is a prompt token (or padding) get no gradient
    reads = (batch["labels"][:, 1:] != -100)
    grad_norm = logits.grad[:, :-1].abs().sum(-1)
    assert torch.all(grad_norm[~reads] == 0) and torch.all(grad_norm[reads] > 0)
    assert torch.all(logits.grad[:, -1] == 0)


def _tiny_config(**changes) -> LMTrainConfig:
    return LMTrainConfig(size="s", steps=6, batch=4, lr=1e-2, warmup=1, checkpoint_every=3, dev_pairs=2,
                         **changes)


def test_a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(tokenizer, pairs, tmp_path, monkeypatch,
                                                                     interrupt_at):
    monkeypatch.setitem(LM_SIZES, "s", TINY_SHAPE)
    rows = [encode_pair(tokenizer, p, c) for p, c in pairs[:16]]
    whole = train_lm(rows, rows[:2], tokenizer, _tiny_config(), io.StringIO())
    checkpoint = tmp_path / "lm-s.pt"
    original = interrupt_at(lm_module, "optimizer_step", 5)
    with pytest.raises(KeyboardInterrupt):
        train_lm(rows, rows[:2], tokenizer, _tiny_config(), io.StringIO(), checkpoint)
    assert torch.load(checkpoint, weights_only=False)["step"] == 3
    monkeypatch.setattr(lm_module, "optimizer_step", original)
    log = io.StringIO()
    resumed = train_lm(rows, rows[:2], tokenizer, _tiny_config(), log, checkpoint, log_every=1)
    steps = [json.loads(line)["step"] for line in log.getvalue().splitlines()]
    assert steps[0] == 3 and not checkpoint.exists()
    for (name, a), (_, b) in zip(whole.state_dict().items(), resumed.state_dict().items(), strict=True):
        assert torch.allclose(a, b, atol=1e-6), name


def test_unknown_size_is_a_one_line_error():
    with pytest.raises(InputError, match="--size 'xl'"):
        lm_shape("xl")


def _safetensors_count(path: Path) -> int:
    header = json.loads(path.read_bytes()[8:8 + int.from_bytes(path.read_bytes()[:8], "little")])
    total = 0
    for name, entry in header.items():
        if name != "__metadata__":
            n = 1
            for d in entry["shape"]:
                n *= d
            total += n
    return total


def test_shipped_sizes_share_one_architecture_and_span_ten_times():
    folders = {size: WEIGHTS_ROOT / f"toyworld-lm-{size}" for size in LM_SIZES}
    configs = {s: json.loads((f / "config.json").read_text()) for s, f in folders.items()}
    assert {c["model_type"] for c in configs.values()} == {"llama"}
    assert len({c["vocab_size"] for c in configs.values()}) == 1
    assert len({(f / "tokenizer.json").read_text() for f in folders.values()}) == 1
    counts = {s: _safetensors_count(f / "model.safetensors") for s, f in folders.items()}
    assert counts["s"] < counts["m"] < counts["l"] and counts["l"] >= 10 * counts["s"]
    for size, folder in folders.items():
        shape = LM_SIZES[size]
        assert (configs[size]["hidden_size"], configs[size]["num_hidden_layers"]) == (shape.hidden, shape.layers)
        card = (folder / "README.md").read_text()
        assert f"{counts[size]:,}" in card and "test range" in card
    assert sum((f / "model.safetensors").stat().st_size for f in folders.values()) <= 30e6


def test_evaluate_0_trains_and_writes_a_card_that_says_not_measured_and_stale_temporaries_go(tmp_path, capsys):
    from text3d.cli import main

    out = tmp_path / "lm"
    out.mkdir()
    (out / ".lm-s.pt.a1b2.tmp").write_bytes(b"")  # what a run killed while writing a checkpoint leaves
    assert main(["train", "lm", "--out", str(out), "--items", "2", "--steps", "2", "--batch", "1", "--evaluate", "0",
                 "--checkpoint-every", "2"]) == 0, capsys.readouterr().err
    card = (out / "toyworld-lm-s" / "README.md").read_text()
    assert "not measured (`--evaluate 0`)" in card and "Reproduce:" in card
    assert not list(out.rglob(".*.tmp"))
