"""The toyworld caption LMs: one Llama architecture at three sizes, trained on toyworld
(short prompt → caption) pairs from training seeds, for the ``hf`` augmentation backend.

* Pairs: for each training instance (categories round-robin, seeds from 0), its basic, refined
  and complex prompts (a grouped instance: its grouped prompt) with each of its captions,
  kept only when the caption already passes the caption rules for that prompt unchanged.
* Tokenizer: byte-level BPE (no unknown input) trained on the pairs' text, shared by every
  size; chat template ``<|user|>{first user turn}<|assistant|>`` — the system prompt and retry
  turns are dropped (one task; retries resample with seed + attempt), the
  "Object description:" prefix of the augmenter's user turn is removed; the answer ends with
  ``<|end|>``.
* Loss: next-token cross-entropy on the caption tokens and ``<|end|>`` only (prompt positions
  carry label −100).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch

from text3d.data.toyworld.instance import DEV_SEEDS, item_spec, make_instance
from text3d.data.toyworld.vocabulary import built_categories
from text3d.progress import track
from text3d.prompts.rules import apply_rules
from text3d.store.atomic import write_json
from text3d.train.config import stage_key
from text3d.train.lm_config import LM_STAGES, LMShape, LMTrainConfig, lm_shape
from text3d.train.loop import Checkpoint, LossLog, adamw_decay_groups, cosine_lr, optimizer_step, set_lr

log = logging.getLogger(__name__)

USER, ASSISTANT, END, PAD = "<|user|>", "<|assistant|>", "<|end|>", "<|pad|>"
SPECIAL_TOKENS = (PAD, USER, ASSISTANT, END)
CHAT_TEMPLATE = (
    "{%- for m in messages if m['role'] == 'user' -%}{%- if loop.first -%}" + USER
    + "{{ m['content'] | replace('Object description:', '') | trim }}{%- endif -%}{%- endfor -%}"
    "{%- if add_generation_prompt -%}" + ASSISTANT + "{%- endif -%}")
"""Renders the first user turn only (see the module doc)."""
MAX_LENGTH = 96
"""Longest training sequence in tokens (prompt + caption + end); longer pairs are dropped."""


def lm_pairs(n: int, base_seed: int = 0) -> list[tuple[str, str]]:
    """(prompt, caption) pairs of toyworld instances ``0 … n−1`` from ``base_seed`` whose caption
    passes the caption rules for its prompt unchanged (see the module doc)."""
    programs = built_categories()
    pairs: list[tuple[str, str]] = []
    for index in range(n):
        category, seed = item_spec(index, base_seed, programs)
        instance = make_instance(category, seed)
        kinds = ("grouped",) if instance.partner is not None else ("basic", "refined", "complex")
        for kind in kinds:
            prompt = instance.prompts[kind]
            for caption in instance.captions:
                report = apply_rules(prompt, caption)
                if report.passed and report.caption == caption:
                    pairs.append((prompt, caption))
    return list(dict.fromkeys(pairs))


def build_tokenizer(texts: list[str], vocab: int) -> Any:
    """A byte-level BPE ``PreTrainedTokenizerFast`` of ``vocab`` entries (special tokens included)
    trained on ``texts``, with :data:`CHAT_TEMPLATE`; deterministic for the same texts."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab, special_tokens=list(SPECIAL_TOKENS), show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    core.train_from_iterator(texts, trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, pad_token=PAD, eos_token=END, bos_token=None,
                                        model_max_length=MAX_LENGTH * 4, padding_side="right")
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def encode_pair(tokenizer: Any, prompt: str, caption: str) -> tuple[list[int], list[int]]:
    """(input ids, labels) of one pair: the chat-rendered prompt (labels −100), then the caption and
    ``<|end|>`` (labels = ids)."""
    text = tokenizer.apply_chat_template([{"role": "user", "content": f"Object description: {prompt}"}],
                                         tokenize=False, add_generation_prompt=True)
    head = tokenizer(text, add_special_tokens=False)["input_ids"]
    tail = tokenizer(caption, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    return head + tail, [-100] * len(head) + tail


def collate(rows: list[tuple[list[int], list[int]]], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded batch: input_ids, attention_mask, labels, each (B, T) with T the longest row."""
    width = max(len(ids) for ids, _ in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, (row, lab) in enumerate(rows):
        ids[i, :len(row)] = torch.tensor(row)
        labels[i, :len(lab)] = torch.tensor(lab)
        mask[i, :len(row)] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def make_model(shape: LMShape, tokenizer: Any, seed: int) -> Any:
    """A freshly initialized ``LlamaForCausalLM`` of ``shape`` (tied embeddings, RoPE, SwiGLU, RMSNorm)."""
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=shape.hidden, num_hidden_layers=shape.layers,
                         num_attention_heads=shape.heads, num_key_value_heads=shape.heads,
                         intermediate_size=shape.intermediate, max_position_embeddings=MAX_LENGTH * 2,
                         tie_word_embeddings=True, pad_token_id=tokenizer.pad_token_id,
                         eos_token_id=tokenizer.eos_token_id, bos_token_id=None)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(eos_token_id=tokenizer.eos_token_id,
                                               pad_token_id=tokenizer.pad_token_id, max_new_tokens=MAX_LENGTH)
    return model


def parameter_count(model: torch.nn.Module) -> int:
    """Distinct parameters (tied embeddings counted once)."""
    return sum(p.numel() for p in model.parameters())


def caption_loss(model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean cross-entropy over positions whose next token is a caption token or ``<|end|>``:
    logits (B, T, V) at t predict labels at t + 1; label −100 is ignored."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    return torch.nn.functional.cross_entropy(logits[:, :-1].flatten(0, 1).float(),
                                             batch["labels"][:, 1:].flatten(), ignore_index=-100)


def _batches(rows: list[tuple[list[int], list[int]]], size: int) -> Iterator[list[tuple[list[int], list[int]]]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


@torch.no_grad()
def mean_loss(model: Any, rows: list[tuple[list[int], list[int]]], pad_id: int, batch: int = 64) -> float:
    """Caption-token loss over ``rows``, weighted by their caption tokens (nats per token)."""
    model.eval()
    total, count = 0.0, 0
    for part in _batches(rows, batch):
        data = collate(part, pad_id)
        n = int((data["labels"][:, 1:] != -100).sum())
        total += caption_loss(model, data).item() * n
        count += n
    model.train()
    return total / max(1, count)


def load_pair_data(cache: Path, config: LMTrainConfig) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(training pairs, development pairs), cached as JSON in ``cache`` (keyed by items and dev pairs)."""
    path = cache / "lm-pairs.json"
    key = {"items": config.items, "dev_pairs": config.dev_pairs}
    if path.exists():
        saved = json.loads(path.read_text())
        if saved.get("key") == key:
            return [tuple(p) for p in saved["train"]], [tuple(p) for p in saved["dev"]]
    train = lm_pairs(config.items)
    dev = lm_pairs(max(1, config.dev_pairs // 4), DEV_SEEDS.start)[:config.dev_pairs]
    write_json(path, {"key": key, "train": train, "dev": dev})
    return train, dev


def train_lm(rows: list[tuple[list[int], list[int]]], dev_rows: list[tuple[list[int], list[int]]],
             tokenizer: Any, config: LMTrainConfig, log_file: IO[str], checkpoint: Path | None = None,
             progress: bool | None = None, log_every: int = 25) -> Any:
    """Train one size on encoded ``rows`` (resolved ``config``); resumes from ``checkpoint`` when it
    holds a state written with the same settings. Batches are drawn from a NumPy generator whose
    state is checkpointed, so a resumed run takes the same batches as an uninterrupted one."""
    config = config.resolved()
    assert config.lr is not None
    device = torch.device(config.device or "cpu")
    model = make_model(lm_shape(config.size), tokenizer, config.seed).to(device)
    optimizer = adamw_decay_groups(model, config.lr, config.weight_decay, betas=(0.9, 0.98))
    rng = np.random.default_rng([config.seed, 7])
    resumable = Checkpoint(checkpoint, stage_key(config, LM_STAGES), config.checkpoint_every, config.steps,
                           f"toyworld-lm-{config.size}")
    first_step, _ = resumable.restore(model, optimizer, rng)
    losses = LossLog(log_file, f"toyworld-lm-{config.size}", config.steps, every=log_every,
                     start=resumable.log_start)
    pad = tokenizer.pad_token_id
    model.train()
    for step in track(range(first_step, config.steps), description=f"toyworld-lm-{config.size}",
                      enabled=progress, total=config.steps - first_step):
        set_lr(optimizer, cosine_lr(step, config.steps, config.warmup, config.lr))
        index = rng.integers(len(rows), size=config.batch)
        batch = {k: v.to(device) for k, v in collate([rows[i] for i in index], pad).items()}
        loss = caption_loss(model, batch)
        optimizer_step(optimizer, loss, model)
        if losses.due(step):
            extra = {"dev_loss": round(mean_loss(model, dev_rows, pad), 4)} if (
                dev_rows and (step % (log_every * 8) == 0 or step == config.steps - 1)) else {}
            losses.write(step, loss=round(loss.item(), 4), lr=round(optimizer.param_groups[0]["lr"], 7), **extra)
        resumable.save_after(step + 1, lambda: {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                                "rng": rng.bit_generator.state})
    resumable.remove()
    return model.eval()
