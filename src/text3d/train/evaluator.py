"""``text3d train evaluator``: the embedded multidimensional evaluator (HyperScore-style, MATE-3D
(Zhang et al., 2024)) trained on toyworld samples with controlled degradations.

Pipeline: samples (:mod:`text3d.train.evaluator_data`; training seeds from 0, development seeds
from 1,000,000, test seeds from 1,900,000) → frozen-ViT tokens and MiniLM token states, computed
once → :class:`~text3d.nn.hyperscore.HyperScore` trained with the mean squared error of the four
scores against the true levels (both divided by 10), optionally with dimension weights and a pairwise
ranking loss (:func:`evaluator_loss`) → Spearman ρ per dimension on the development
and test samples → ``evaluator/`` (safetensors + config.json + model card). Seeded and resumable
(checkpoint every ``checkpoint_every`` steps; the sample cache is reused).
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from text3d.data.toyworld.degrade import ALIGNMENT_LEVELS, DIMENSIONS, PERFECT
from text3d.data.toyworld.instance import DEV_SEEDS, TEST_SEEDS, describe_seeds, item_spec
from text3d.data.toyworld.vocabulary import built_categories
from text3d.encoders.embedded import EmbeddedImageEncoder
from text3d.encoders.minilm import shared_text_encoder
from text3d.errors import InputError
from text3d.nn.checkpoint import save_folder
from text3d.nn.hyperscore import HyperScore, HyperScoreConfig, views_tensor
from text3d.progress import track
from text3d.store.atomic import write_atomic
from text3d.train.config import reproduce_command, settings_section, stage_key, warn_cpu_only
from text3d.train.evaluator_config import DATA_STAGES, EVALUATOR_STAGES, EvaluatorTrainConfig
from text3d.train.evaluator_data import Samples, SampleSpec, build_samples
from text3d.train.loop import Checkpoint, LossLog, adamw_decay_groups, cosine_lr, optimizer_step, set_lr

log = logging.getLogger(__name__)

FOLDER = "evaluator"


def text_states(texts: list[str], batch: int = 64) -> dict[str, torch.Tensor]:
    """MiniLM token states (L_t, 384) of each distinct text (no gradients)."""
    encoder = shared_text_encoder("cpu")
    unique = sorted(set(texts), key=len)
    states: dict[str, torch.Tensor] = {}
    for start in range(0, len(unique), batch):
        chunk = unique[start:start + batch]
        encoding = encoder.encode(chunk)
        for row, text in enumerate(chunk):
            length = int(encoding.mask[row].sum())
            states[text] = encoding.tokens[row, :length].float().clone()
    return states


def pad_states(rows: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, L_max, 384) zero-padded states and the (B, L_max) mask."""
    width = max(len(r) for r in rows)
    out = torch.zeros(len(rows), width, rows[0].shape[-1])
    mask = torch.zeros(len(rows), width, dtype=torch.long)
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
        mask[i, :len(r)] = 1
    return out, mask


def vit_tokens(model: HyperScore, images: np.ndarray, batch: int = 64, progress: bool | None = None) -> torch.Tensor:
    """Frozen-ViT tokens (N, V, 1 + g², 192) float16 of all samples' views."""
    chunks = []
    starts = range(0, len(images), batch)
    with torch.inference_mode():
        for start in track(starts, total=len(starts), description="image tokens", enabled=progress):
            chunks.append(model.vit_features(views_tensor(images[start:start + batch])).half())
    return torch.cat(chunks)


def cached_vit_tokens(model: HyperScore, images: np.ndarray, path: Path | None,
                      progress: bool | None = None) -> torch.Tensor:
    """:func:`vit_tokens` of ``images`` (N, V, S, S, C), loaded from / saved to ``path`` (a rerun with the
    same samples and image encoder skips ~4 CPU-minutes of ViT forwards)."""
    if path is not None and path.exists():
        cached = torch.load(path, weights_only=True)
        if cached.shape[0] == len(images):
            return cached
    tokens = vit_tokens(model, images, progress=progress)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, lambda f: torch.save(tokens, f))
    return tokens


def predict(model: HyperScore, samples: Samples, tokens: torch.Tensor, states: dict[str, torch.Tensor],
            batch: int = 64) -> np.ndarray:
    """Scores (N, n_dimensions) of ``samples``."""
    model.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(samples), batch):
            stop = start + batch
            text, mask = pad_states([states[t] for t in samples.texts[start:stop]])
            out.append(model(views_tensor(samples.images[start:stop]), text, mask,
                             vit_tokens=tokens[start:stop].float()).numpy())
    return np.concatenate(out)


def spearman_table(predicted: np.ndarray, levels: np.ndarray, dimensions: tuple[str, ...]) -> dict[str, float]:
    """Spearman ρ between predicted scores and true levels, per dimension (ties get mean ranks)."""
    from scipy.stats import spearmanr

    return {d: round(float(spearmanr(predicted[:, i], levels[:, i]).statistic), 4) for i, d in enumerate(dimensions)}


def kind_means(predicted: np.ndarray, samples: Samples, dimensions: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Mean predicted score per degradation kind and dimension (what each kind lowers); a composite
    sample ("noise+washed") counts towards each of its kinds."""
    parts = [set(k.split("+")) for k in samples.kinds.tolist()]
    out = {}
    for kind in sorted(set().union(*parts)):
        rows = np.array([kind in p for p in parts])
        out[kind] = {d: round(float(predicted[rows, i].mean()), 2) for i, d in enumerate(dimensions)}
    return out


def evaluator_loss(scores: torch.Tensor, levels: torch.Tensor, weights: torch.Tensor,
                   rank_weight: float) -> torch.Tensor:
    """Σ_i w_i·[MSE(q_i/10, y_i/10) + λ·R_i] / Σ_i w_i, for scores q and true levels y (B, n) on 0–10.

    R_i is a RankNet-style (Burges et al., 2005) pairwise loss over the batch: the mean of
    log(1 + exp(−(q_a − q_b))) over pairs with y_a > y_b + 0.5 (score points as logits), the order
    Spearman ρ measures; w (n,) weights the dimensions. With λ = 0 and w = 1 this is the plain MSE
    of the defaults (λ = 1, w_geometry = 2 did not raise development ρ: see ``evaluator_config``)."""
    mse = ((scores - levels) / 10.0).pow(2).mean(0)  # (n,)
    diff = scores[:, None, :] - scores[None, :, :]  # (B, B, n): q_a − q_b
    pairs = (levels[:, None, :] > levels[None, :, :] + 0.5).to(scores.dtype)
    rank = (F.softplus(-diff) * pairs).sum((0, 1)) / pairs.sum((0, 1)).clamp_min(1.0)  # (n,)
    return ((mse + rank_weight * rank) * weights).sum() / weights.sum()


_ALIGNMENT, _OVERALL = DIMENSIONS.index("alignment"), DIMENSIONS.index("overall")
_PARTS = tuple(i for i, d in enumerate(DIMENSIONS) if d != "overall")  # overall = their mean (toyworld.degrade)


def swap_texts(texts: np.ndarray, levels: torch.Tensor, kinds: np.ndarray, categories: np.ndarray,
               index: np.ndarray, share: float, rng: np.random.Generator) -> tuple[list[str], torch.Tensor]:
    """Texts and levels (B, 4) of the batch ``index`` with a ``share`` of its items given another
    category's sample text: a mismatched text, so alignment 1 (:data:`ALIGNMENT_LEVELS` "category") and
    overall = mean(alignment, geometry, texture); geometry and texture stay (the views are unchanged).
    Items showing another category already, and donors whose text names the item's category (or whose
    category the item's text names: a grouped scene's partner), are left out."""
    batch_texts = [str(t) for t in texts[index]]
    batch_levels = levels[index].clone()
    for row, item in enumerate(index):
        if rng.random() >= share or "category" in str(kinds[item]).split("+"):
            continue
        own, text = categories[item], batch_texts[row].lower()
        for _ in range(8):  # a donor of another category, whose text and this one do not name each other
            donor = int(rng.integers(len(texts)))
            other = categories[donor]
            if other != own and other.replace("_", " ") not in text and \
                    own.replace("_", " ") not in str(texts[donor]).lower():
                batch_texts[row] = str(texts[donor])
                batch_levels[row, _ALIGNMENT] = ALIGNMENT_LEVELS["category"]
                batch_levels[row, _OVERALL] = batch_levels[row, list(_PARTS)].mean()
                break
    return batch_texts, batch_levels


def twin_batch(samples: Samples, index: np.ndarray, levels: torch.Tensor,
               limit: int) -> tuple[np.ndarray, torch.Tensor]:
    """Batch rows (R,) whose sample has a twin (at most ``limit``) and the twins' levels (R, 4): the
    sample's alignment, geometry and texture 10, overall their mean."""
    if samples.twin_index is None:
        return np.zeros(0, np.int64), levels[:0]
    rows = np.flatnonzero(samples.twin_index[index] >= 0)[:limit]
    twin_levels = levels[rows].clone()
    twin_levels[:, [i for i in _PARTS if i != _ALIGNMENT]] = PERFECT
    twin_levels[:, _OVERALL] = twin_levels[:, list(_PARTS)].mean(1)
    return rows, twin_levels


def _train(model: HyperScore, samples: Samples, tokens: torch.Tensor, states: dict[str, torch.Tensor],
           config: EvaluatorTrainConfig, out: Path, log_file, progress: bool | None,
           twin_tokens: torch.Tensor | None = None) -> None:
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    optimizer = adamw_decay_groups(model, config.lr, config.weight_decay)
    checkpoint = Checkpoint(out / "evaluator.pt", stage_key(config, EVALUATOR_STAGES), config.checkpoint_every,
                            config.steps, "evaluator")
    start, saved = checkpoint.restore(model, optimizer, rng)
    if saved is not None:
        torch.set_rng_state(saved["torch_rng"])
    losses = LossLog(log_file, "evaluator", config.steps, start=checkpoint.log_start)
    target = torch.from_numpy(samples.levels)
    programs = built_categories()
    categories = np.array([item_spec(i, 0, programs)[0] for i in range(len(samples))])  # training seeds from 0
    weights = torch.tensor([config.geometry_weight if d == "geometry" else 1.0 for d in model.config.dimensions])
    model.train()
    for step in track(range(start, config.steps), total=config.steps - start, description="train evaluator",
                      enabled=progress):
        set_lr(optimizer, cosine_lr(step, config.steps, config.warmup, config.lr))
        index = rng.integers(len(samples), size=config.batch)
        shift = int(rng.integers(4))  # the same object seen from a rotated start view
        images = torch.roll(views_tensor(samples.images[index]), shift, dims=1)
        vit = torch.roll(tokens[index].float(), shift, dims=1)
        if config.text_swap > 0:  # the random stream of the default (no swaps) is unchanged
            texts, levels = swap_texts(samples.texts, target, samples.kinds, categories, index, config.text_swap, rng)
        else:
            texts, levels = samples.texts[index].tolist(), target[index]
        rows, twin_levels = twin_batch(samples, index, levels, config.batch // 2)
        if len(rows):  # twins: the same views without the geometry / texture flaws, appended to the batch
            twins = samples.twin_index[index[rows]]
            images = torch.cat([images, torch.roll(views_tensor(samples.twins[twins]), shift, dims=1)])
            vit = torch.cat([vit, torch.roll(twin_tokens[twins].float(), shift, dims=1)])
            texts = list(texts) + [texts[r] for r in rows]
        text, mask = pad_states([states[t] for t in texts])
        scores = model(images, text, mask, vit_tokens=vit)
        loss = evaluator_loss(scores, torch.cat([levels, twin_levels]), weights, config.rank_weight)
        if len(rows):  # alignment must not move with flaws of the other dimensions
            paired = scores[torch.as_tensor(rows), _ALIGNMENT] - scores[len(index):, _ALIGNMENT]
            loss = loss + config.twin_weight * (paired / 10.0).pow(2).mean()
        optimizer_step(optimizer, loss, model)
        if losses.due(step):
            losses.write(step, loss=round(float(loss.detach()), 5), lr=optimizer.param_groups[0]["lr"])
        checkpoint.save_after(step + 1, lambda: {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                                 "rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state()})
    checkpoint.remove()


def sample_specs(config: EvaluatorTrainConfig) -> dict[str, SampleSpec]:
    """The sample sets of a training: train (seeds from 0), dev, test and, with composite samples,
    test-single. Twins, ``part_share`` and ``generated_items`` change the training samples only: the held-out ones stay
    the protocol every evaluator is measured on."""
    common = {"clean": config.clean_fraction, "voxel": config.voxel_fraction, "normals": config.normal_maps,
              "generated": config.generated_fraction, "see_through": config.see_through,
              "back_normals": config.back_normals, "stated": config.stated_alignment,
              "composite": config.composite}
    specs = {"train": SampleSpec(config.items, 0, **common, twins=config.twin_weight > 0,
                                 part_share=config.part_share, generated_below=config.generated_items),
             "dev": SampleSpec(config.dev_items, DEV_SEEDS.start, **common),
             "test": SampleSpec(config.test_items, TEST_SEEDS.start, **common)}
    if config.composite:  # the single-degradation test samples too, to compare with evaluators trained on them
        specs["test-single"] = SampleSpec(config.test_items, TEST_SEEDS.start, **{**common, "composite": 0.0})
    return specs


def train_evaluator(out: str | Path, config: EvaluatorTrainConfig, progress: bool | None = None) -> dict[str, Any]:
    """Train into ``out/evaluator`` and return the measured figures (Spearman ρ per dimension)."""
    warn_cpu_only(config, "train evaluator")
    # one thread: on a 2-core machine shared with other jobs a batch-32 step ran ~0.25 s on one torch
    # thread and ~2 s on two (oversubscription)
    torch.set_num_threads(1)
    heads = HyperScoreConfig.heads
    if config.width % heads:
        raise InputError(f"--width {config.width}: must be a multiple of the evaluator's {heads} attention heads")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    t0 = time.perf_counter()
    image_encoder = EmbeddedImageEncoder.from_pretrained(config.image_encoder, "cpu")
    model_config = HyperScoreConfig(width=config.width, depth=config.depth, grid=config.grid,
                                    normal_maps=config.normal_maps,
                                    see_through=config.see_through, back_normals=config.back_normals,
                                    stem=config.stem,
                                    geometry_branch=config.geometry_branch, normal_stats=config.normal_stats,
                                    color_stats=config.color_stats,
                                    vit=image_encoder.config.to_dict())
    model = HyperScore(model_config)
    model.load_image_encoder(image_encoder.model)
    specs = sample_specs(config)
    data = {name: build_samples(spec, out / "cache", config.workers, progress) for name, spec in specs.items()
            if spec.n}
    encoder_key = hashlib.sha1(str(config.image_encoder).encode()).hexdigest()[:8]
    cache = {name: out / "cache" / f"tokens-{specs[name].key()}-{encoder_key}-g{config.grid}.pt" for name in data}
    tokens = {name: cached_vit_tokens(model, s.images, cache[name], progress) for name, s in data.items()}
    twin_tokens = None
    if data["train"].twins is not None:
        path = cache["train"].with_name(cache["train"].name.replace("tokens-", "twin-tokens-"))
        twin_tokens = cached_vit_tokens(model, data["train"].twins, path, progress)
    states = text_states([t for s in data.values() for t in s.texts.tolist()])
    data_seconds = time.perf_counter() - t0
    with (out / "train_log.jsonl").open("a") as log_file:
        log_file.write(json.dumps({"event": "data", "seconds": round(data_seconds, 1),
                                   "data_key": stage_key(config, DATA_STAGES)}) + "\n")
        t1 = time.perf_counter()
        _train(model, data["train"], tokens["train"], states, config, out, log_file, progress, twin_tokens)
        train_seconds = time.perf_counter() - t1
    dims = model_config.dimensions
    quality: dict[str, Any] = {}
    for name in ("dev", "test", "test-single"):
        if name in data:
            predicted = predict(model, data[name], tokens[name], states)
            first = specs[name].base_seed
            last = item_spec(specs[name].n - 1, first)[1]
            quality[name] = {"seeds": describe_seeds(first, last)["line"],
                             "samples": len(data[name]),
                             "spearman": spearman_table(predicted, data[name].levels, dims),
                             "mean_score_by_kind": kind_means(predicted, data[name], dims)}
    training = {"config": asdict(config), "data_seconds": round(data_seconds, 1),
                "train_seconds": round(train_seconds, 1), "torch": torch.__version__,
                "hardware": platform.processor() or platform.machine(),
                "command": reproduce_command("text3d train evaluator", config)}
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    save_folder(out / FOLDER, {k: v.half() for k, v in model.state_dict().items()},
                {"model": model_config.to_dict(), "training": training, "quality": quality},
                model_card(training, quality, params, frozen))
    return {"seconds": round(time.perf_counter() - t0, 1), **quality}


def _mixture(c: dict[str, Any]) -> str:
    """How the card's samples were degraded, from the training settings ``c``."""
    if c.get("composite"):
        return (f"each dimension degraded independently with probability {c['composite']} (composite "
                f"degradations; {(1 - c['composite']) ** 3:.1%} clean)")
    return f"one controlled degradation per sample ({c['clean_fraction']:.0%} clean)"


def _generated(c: dict[str, Any]) -> str:
    """Which samples the card says were built on the generator's asset, from the training settings ``c``."""
    share, cap, items = c.get("generated_fraction", 0), c.get("generated_items", 0), c["items"]
    if not cap or cap >= items:
        return f"{share:.0%}"
    return (f"{share:.0%} of the held-out samples and of the first {cap:,} training samples ({share * cap / items:.0%} "
            f"of all training samples)")


def model_card(training: dict[str, Any], quality: dict[str, Any], trainable: int, frozen: int) -> str:
    """The evaluator's README.md: what it is, its data, training and measured Spearman ρ."""
    c = training["config"]
    rows = []
    for name in ("dev", "test", "test-single"):
        if name in quality:
            q = quality[name]
            label = {"test-single": "test, one degradation per sample"}.get(name, name)
            rows.append(f"| {label} ({q['seeds']}, {q['samples']} samples) | "
                        + " | ".join(f"{v:.3f}" for v in q["spearman"].values()) + " |")
    header = " | ".join(quality.get("test", quality.get("dev", {"spearman": {}}))["spearman"])
    return f"""# text3d embedded evaluator (HyperScore-style)

A multidimensional text-to-3D quality evaluator after MATE-3D's HyperScore (Zhang et al., 2024): a
shared feature extractor reads 4 views (64², white background, 90° apart, pitch 20–40°) and the prompt
(all-MiniLM-L6-v2 token states from its input embeddings), and per-dimension condition embeddings with a
hypernetwork head give scores from 0 to 10 for alignment, geometry, texture and overall.

* Parameters: {trainable:,} trained + {frozen:,} frozen (a copy of the embedded image encoder's ViT
  and joint-space projections).
* Data: toyworld, {_mixture(c)} (`text3d.data.toyworld.degrade`): another
  category's shape (alignment 1), a wrong main color (alignment 4), a missing part (alignment 7){
  ', each a flaw the sample’s text states (a part it names, a color it names)' if c.get('stated_alignment') else ''};
  surface noise, holes, blobbing (geometry 10 − 8·s); washed-out or shuffled colors (texture 10 − 8·s),
  strength s ~ U[0.1, 1]; {c['voxel_fraction']:.0%} shown as their 32³ voxel
  surface; {_generated(c)} built on the embedded generator's asset for the prompt (level 10
  before degrading) or, for a category misalignment, for another category's prompt (level 1);
  overall = mean of the three. {c['items']:,} training samples (training seeds from 0).
* Views: RGB{' and camera-space normal maps (read by the conv stem only)' if c.get('normal_maps') else ''}{
  '; one token per view of normal-map statistics (angles between neighbouring pixels’ normals)'
  if c.get('normal_stats') else ''}{
  ', back faces culled (holes show the background)' if c.get('see_through') else ''}{
  '; normal maps keep back faces facing away (the inside of a hole)' if c.get('back_normals') else ''}.
* Training: seed {c['seed']}, {c['steps']} AdamW steps at batch {c['batch']}, peak lr {c['lr']}, cosine;
  loss = per dimension MSE of score/10 against level/10 + {c['rank_weight']} × RankNet pairwise loss within
  the batch, dimensions weighted 1 (geometry {c['geometry_weight']}){
  f"; each sample with a geometry or texture flaw also trains on its twin (the same asset and cameras before "
  f"those flaws), and λ = {c['twin_weight']} ties their alignment scores" if c.get('twin_weight') else ''}.
* Wall time on {training['hardware']} (2 cores shared with other jobs, one torch thread):
  data {training['data_seconds'] / 60:.1f} min, training {training['train_seconds'] / 60:.1f} min.
* Reproduce: `{training['command']}`

## Measured Spearman ρ with the true levels (held-out samples)

| samples | {header} |
|---|{'---|' * len(quality.get('test', quality.get('dev', {'spearman': {}}))['spearman'])}
{chr(10).join(rows)}

Mean predicted scores per degradation kind (test samples) are in `config.json` (`quality.test`).

{settings_section(EvaluatorTrainConfig, c)}"""
