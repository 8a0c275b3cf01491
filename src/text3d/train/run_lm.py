"""Orchestration of ``text3d train lm``: pairs → tokenizer → one size trained → transformers folder
(``save_pretrained``, safetensors) → caption-rule check on the test range through the ``hf``
backend → model card.

A training folder holds ``cache/`` (pairs and tokenizer, shared by the sizes), the loss log,
a resumable ``lm-<size>.pt`` while training and ``toyworld-lm-<size>/`` when done; rerunning a
finished size with the same settings only evaluates it again.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from text3d.data.toyworld.instance import DEV_SEEDS, TEST_SEEDS, item_spec, make_instance
from text3d.data.toyworld.parse import parse_prompt
from text3d.data.toyworld.vocabulary import built_categories
from text3d.errors import BackendError
from text3d.progress import track
from text3d.store.atomic import write_json, write_text
from text3d.train.config import reproduce_command, settings_section, stage_key
from text3d.train.lm import MAX_LENGTH, build_tokenizer, encode_pair, load_pair_data, parameter_count, train_lm
from text3d.train.lm_config import LM_EVALUATE_N, LM_STAGES, LMTrainConfig, lm_shape

log = logging.getLogger(__name__)

TRAINING_FILE = "training.json"


def lm_folder(size: str) -> str:
    """The weights folder of one size under ``--out``: ``toyworld-lm-<size>``."""
    return f"toyworld-lm-{size}"


def load_tokenizer(cache: Path, texts: list[str], vocab: int) -> Any:
    """The shared tokenizer, built once per (training texts, vocab) and kept in ``cache/lm-tokenizer``."""
    from transformers import PreTrainedTokenizerFast

    folder = cache / "lm-tokenizer"
    key = {"texts": len(texts), "vocab": vocab}
    if (folder / "key.json").exists() and json.loads((folder / "key.json").read_text()) == key:
        return PreTrainedTokenizerFast.from_pretrained(folder)
    tokenizer = build_tokenizer(texts, vocab)
    _save_folder(folder, tokenizer.save_pretrained)
    write_json(folder / "key.json", key)
    return tokenizer


def _save_folder(folder: Path, save: Any) -> None:
    """``save(tmp)`` into a sibling temporary folder, then swap it into place (a reader never sees
    half a folder; a killed writer leaves only ``.NAME.tmp``)."""
    tmp = folder.with_name(f".{folder.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save(tmp)
    old = folder.with_name(f".{folder.name}.old.tmp")
    if folder.exists():
        os.replace(folder, old)
    os.replace(tmp, folder)
    shutil.rmtree(old, ignore_errors=True)


def _violation_rates(codes: list[list[str]], prefix: str) -> dict[str, float]:
    counts = Counter(code for row in codes for code in set(row))
    return {f"{prefix}{code}_rate": round(counts[code] / max(1, len(codes)), 4) for code in sorted(counts)}


def evaluate_lm(model: str, seeds: range, n: int, progress: bool | None = None) -> dict[str, Any]:
    """First-answer quality of ``hf:<model>`` on ``n`` instances from ``seeds.start`` (categories
    round-robin): for the seeded prompt and (held-out seeds) the paraphrase prompt, the share of
    captions that pass the rules, share per violation, share unusable (no caption at all), share whose
    first category mention (name or synonym) is the instance's category, mean words.
    Sampling as the study's defaults (temperature 0.7, seed = index), no retries, 128 new tokens."""
    from text3d.prompts.augment import PromptAugmenter
    from text3d.prompts.base import GenerationParams

    augmenter = PromptAugmenter(f"hf:{model}", GenerationParams(max_retries=0, max_tokens=128), cache=False)
    programs = built_categories()
    kinds = {"": [], "paraphrase_": []}
    for index in track(range(n), description=f"check {Path(model).name}", enabled=progress):
        category, seed = item_spec(index, seeds.start, programs)
        instance = make_instance(category, seed)
        prompts = {"": instance.prompt, "paraphrase_": instance.prompts.get("paraphrase")}
        for prefix, prompt in prompts.items():
            if prompt is None:
                continue
            try:
                result = augmenter.augment(prompt, seed=index)
            except BackendError:
                kinds[prefix].append({"violations": ["unusable"], "words": 0, "kept": False})
                continue
            parsed = parse_prompt(result.caption or "")
            kept = parsed.matched_by in ("name", "synonym") and parsed.category == category
            kinds[prefix].append({"violations": [v.split(":", 1)[0] for v in result.violations],
                                  "words": len((result.caption or "").split()), "kept": kept})
    figures: dict[str, Any] = {"seed": seeds.start, "n": n}
    for prefix, rows in kinds.items():
        if not rows:
            continue
        figures[f"{prefix}rules_pass_rate"] = round(sum(not r["violations"] for r in rows) / len(rows), 4)
        figures[f"{prefix}keeps_category_rate"] = round(sum(r["kept"] for r in rows) / len(rows), 4)
        figures[f"{prefix}mean_words"] = round(sum(r["words"] for r in rows) / len(rows), 2)
        figures.update(_violation_rates([r["violations"] for r in rows], prefix))
    return figures


def lm_card(size: str, training: dict[str, Any], quality: dict[str, Any], dev: dict[str, Any]) -> str:
    """The model card: architecture, data, training (every setting), cost, measured quality."""
    c, shape = training["config"], lm_shape(size)

    def table(figures: dict[str, Any]) -> str:
        rows = "\n".join(f"| `{k}` | {v} |" for k, v in figures.items())
        return f"| figure | value |\n|---|---|\n{rows}\n"

    measured = "not measured (`--evaluate 0`)\n" if not quality else f"""\
First answers through `text3d`'s `hf` backend and the caption rules (no retries; temperature 0.7,
seed = index; 128 new tokens at most) for {quality.get('n')} instances from seed {quality.get('seed'):,}: the
seeded prompt (basic / refined / complex / grouped) and, as `paraphrase_*`, the instance's paraphrase,
whose words never occur in training text. `keeps_category` = the caption's first category mention is the
instance's category.

{table(quality)}"""
    # the settings are recorded in training.json, not in transformers' config.json
    settings = settings_section(LMTrainConfig, c).replace("(`config.json`, `training.config`)",
                                                          "(`training.json`, `config`)")
    return f"""# toyworld-lm-{size}

A causal LM (transformers `LlamaForCausalLM`: RoPE, SwiGLU, RMSNorm, tied embeddings; width {shape.hidden},
{shape.layers} blocks, {shape.heads} heads, MLP {shape.intermediate}) that writes a toyworld caption for a short
prompt. One of three sizes (`toyworld-lm-s`, `-m`, `-l`) of one architecture, trained on the same pairs with
the same tokenizer, steps and batch, so a study can vary size alone. Use it as `--llm hf:toyworld-lm:{size}`
(the `hf` backend resolves the name to this folder).

* Parameters: {training['parameters']:,}; weights float32, {training['weights_bytes'] / 1e6:.2f} MB.
* Tokenizer: byte-level BPE, {training['vocab']} entries, trained on the training pairs. Chat template:
  `<|user|>PROMPT<|assistant|>` — only the first user turn is read ("Object description:" removed);
  the system prompt and retry turns are ignored (these models know one task; a retry resamples).
  The caption ends with `<|end|>`.
* Training data: toyworld training seeds from 0, {c['items']:,} instances (categories round-robin);
  each instance's basic, refined and complex prompts (a grouped instance: its grouped prompt) with each of
  its captions, kept when the caption passes the caption rules unchanged: {training['pairs']:,} pairs
  ({training['dropped']} longer than {MAX_LENGTH} tokens dropped). Loss on caption tokens and `<|end|>` only.
* Training: seed {c['seed']}, {c['steps']} AdamW steps at batch {c['batch']}, peak lr {c['lr']}, cosine;
  float32, one CPU thread. Caption loss after training (nats per token): {training['final_loss']} on 512
  training pairs, {training['dev_loss']} on {c['dev_pairs']} development-range pairs (seed {DEV_SEEDS.start:,}).
* Cost on {training['hardware']} (torch {training['torch']}, a 2-core machine shared with other jobs):
  {training['cpu_minutes']:.1f} CPU-minutes, {training['wall_minutes']:.1f} min wall for this size; pairs and
  tokenizer {training['data_seconds']:.0f} s, shared by the sizes.
* Hyper-parameters: only the peak learning rate differs by size; it was picked from 200-step runs compared
  by their development-range loss (`LM_SIZES` in `text3d/train/lm_config.py` lists them); nothing was
  tuned on the test range.
* Reproduce: `{training['command']}`

{settings}
## Measured quality on the test range

{measured}
## Development range (the same check, seed {dev.get('seed', DEV_SEEDS.start):,})

{table(dev) if dev else 'not measured'}
## Limitations

Tiny models trained for minutes on template captions: they copy toyworld's caption styles, know only
toyworld's vocabulary (unseen words fall apart into byte pieces, so paraphrase prompts fail), and do not
follow instructions. Every size sees the same {c['steps'] * c['batch']:,} pairs ({c['steps']} × {c['batch']}, under one
epoch): at this budget the larger sizes are compute-limited, so differences between sizes are small.
"""


def train_lm_size(out: str | Path, config: LMTrainConfig, evaluate_n: int = LM_EVALUATE_N,
                  dev_n: int = 0, progress: bool | None = None) -> dict[str, Any]:
    """Train ``config.size`` into ``out/toyworld-lm-<size>`` (or reuse it when finished with the same
    settings), check it on the test range (and ``dev_n`` development instances), write its card."""
    torch.set_num_threads(1)
    config = config.resolved()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    folder = out / lm_folder(config.size)
    start, cpu_start = time.perf_counter(), time.process_time()
    pairs, dev_pairs = load_pair_data(out / "cache", config)
    tokenizer = load_tokenizer(out / "cache", [t for pair in pairs for t in pair], config.vocab)
    encoded = [encode_pair(tokenizer, p, c) for p, c in pairs]
    rows = [r for r in encoded if len(r[0]) <= MAX_LENGTH]
    dev_rows = [r for r in (encode_pair(tokenizer, p, c) for p, c in dev_pairs) if len(r[0]) <= MAX_LENGTH]
    data_seconds = time.perf_counter() - start
    key = stage_key(config, LM_STAGES)
    done = folder / TRAINING_FILE
    training = json.loads(done.read_text()) if done.exists() else None
    if training is None or training.get("key") != key:
        from text3d.train.lm import mean_loss

        t0, c0 = time.perf_counter(), time.process_time()
        with (out / "train_log.jsonl").open("a") as log_file:
            model = train_lm(rows, dev_rows, tokenizer, config, log_file, out / f"lm-{config.size}.pt", progress)
        final_loss = mean_loss(model, rows[:512], tokenizer.pad_token_id)
        training = {
            "key": key, "config": asdict(config), "parameters": parameter_count(model), "vocab": len(tokenizer),
            "pairs": len(rows), "dropped": len(encoded) - len(rows), "final_loss": round(final_loss, 4),
            "dev_loss": round(mean_loss(model, dev_rows, tokenizer.pad_token_id), 4),
            "cpu_minutes": round((time.process_time() - c0) / 60, 2),
            "wall_minutes": round((time.perf_counter() - t0) / 60, 2), "data_seconds": round(data_seconds, 1),
            "torch": torch.__version__, "hardware": platform.processor() or platform.machine(),
            "command": reproduce_command("text3d train lm", config)}

        def save(tmp: Path) -> None:
            model.save_pretrained(tmp, safe_serialization=True)
            tokenizer.save_pretrained(tmp)

        _save_folder(folder, save)
        training["weights_bytes"] = (folder / "model.safetensors").stat().st_size
        write_json(done, training)
    quality = evaluate_lm(str(folder.resolve()), TEST_SEEDS, evaluate_n, progress) if evaluate_n else {}
    dev = evaluate_lm(str(folder.resolve()), DEV_SEEDS, dev_n, progress) if dev_n else {}
    write_text(folder / "README.md", lm_card(config.size, training, quality, dev))
    write_json(out / f"summary-{config.size}.json", {"training": training, "test": quality, "dev": dev})
    log.info("toyworld-lm-%s: %.1f CPU-minutes in all", config.size, (time.process_time() - cpu_start) / 60)
    return {"size": config.size, "parameters": training["parameters"], "cpu_minutes": training["cpu_minutes"],
            "test": quality, "dev": dev}
