"""The model card (README.md) of the embedded multi-view diffusion teacher."""

from __future__ import annotations

from typing import Any

from text3d.train.config import settings_section
from text3d.train.mvdiffusion_config import MVDiffusionTrainConfig

ROWS = (("category_accuracy", "category accuracy of samples"),
        ("category_accuracy_true_renders", "category accuracy of the true renders (ceiling)"),
        ("category_chance", "category chance"),
        ("r_at_1", "R@1, sample → true renders of the same prompts"),
        ("r_at_1_chance", "R@1 chance (1/N)"),
        ("silhouette_agreement", "silhouette IoU, RGB vs depth channels of samples"),
        ("silhouette_agreement_true_renders", "silhouette IoU of the true renders"))


def quality_table(quality: dict[str, Any]) -> str:
    """Markdown table: one column per measured range (dev, test), one row per figure."""
    names = [n for n in ("dev", "test") if n in quality]
    if not names:
        return "(not measured)"
    head = "| figure | " + " | ".join(f"{n}: {quality[n]['seeds']}, N = {quality[n]['n']}" for n in names) + " |"
    rows = [f"| {label} | " + " | ".join(f"{quality[n][key]:.3f}" for n in names) + " |" for key, label in ROWS]
    return "\n".join([head, "|---|" + "---|" * len(names), *rows])


def denoising_table(quality: dict[str, Any]) -> str:
    """Markdown table of the one-step denoising check: category accuracy and R@1 of x̂₀ with each
    item's own prompt and with a shuffled one, per noise level and measured range."""
    rows = []
    for name in ("dev", "test"):
        for key in sorted(k for k in quality.get(name, {}) if k.startswith("denoise_t")):
            own, other = quality[name][key]["own_prompt"], quality[name][key]["shuffled_prompt"]
            blur = quality[name][key].get("blurred_input", {"category_accuracy": float("nan"), "r_at_1": float("nan")})
            rows.append(f"| {name} | {key.removeprefix('denoise_t')} | {own['category_accuracy']:.3f} | "
                        f"{other['category_accuracy']:.3f} | {blur['category_accuracy']:.3f} | {own['r_at_1']:.3f} | "
                        f"{other['r_at_1']:.3f} | {blur['r_at_1']:.3f} |")
    if not rows:
        return "(not measured)"
    return "\n".join(["| range | t | category acc., own prompt | shuffled prompt | blurred x_t | R@1, own prompt "
                      "| shuffled prompt | blurred x_t |", "|---|---|---|---|---|---|---|---|", *rows])


def model_card(training: dict[str, Any], quality: dict[str, Any], params: int) -> str:
    """The README.md of ``toyworld-mvdiffusion/``: what it is, data, training, measured figures."""
    c = training["config"]
    check = next(iter(quality.values()), {"guidance": c["guidance"], "sample_steps": c["sample_steps"]})
    return f"""# text3d embedded multi-view diffusion teacher (toyworld-mvdiffusion)

The embedded stand-in for the 2D teachers of TriplaneTurbo (Ma et al., 2025): a text- and
camera-conditioned denoiser of 4 views at {c['image_size']}² with 7 channels each — RGB plus world-space
normal and depth (RichDreamer's (Qiu et al., 2024) role). As in MVDream (Shi et al., 2024) the
self-attention spans the tokens of all 4 views and each view carries the embedding of its camera
(flattened 4×4 camera-to-world matrix); the prompt's all-MiniLM-L6-v2 token states enter by
cross-attention and, pooled, the adaLN modulation with the time step. It is a DiT (width {c['width']},
depth {c['depth']}, {c['heads']} heads, {c['patch_size']}×{c['patch_size']} patches) trained by rectified flow
(velocity prediction, {c['time_sampling']} flow times); {params:,} parameters, weights stored in float16 (EMA).

Teacher interface (`text3d.nn.teachers`, name `embedded-mvdiffusion`): noised views + noise level
t + prompts + cameras → the guided denoised views x̂₀ (x_t = (1 − t)·x₀ + t·ε, x̂₀ = x_t + t·v).

* Data: renders only — {training['items']:,} toyworld training items (seeds from 0, categories round-robin),
  4 views 90° apart from a random start yaw at one random pitch in [{c['pitch_low']}, {c['pitch_high']}]°, r 2,
  FoV 40°, white background, rendered at {2 * c['image_size']}² and area-averaged; texts: each item's prompt
  and one of its captions.
* Training: seed {c['seed']}, {c['steps']} AdamW steps at batch {c['batch']}, peak lr {c['lr']} (cosine, warm-up
  {c['warmup']}), {c['cond_dropout']:.0%} of prompts dropped for classifier-free guidance, EMA {c['ema']}.
* Wall time on {training['hardware']} (2 cores shared with other jobs, one torch thread): data
  {training['data_seconds'] / 60:.1f} min, training {training['train_seconds'] / 60:.1f} min, held-out check
  {training['check_seconds'] / 60:.1f} min; {training.get('cpu_minutes', 'not recorded')} CPU-minutes in all
  (rendering workers included).
* Reproduce: `{training['command']}`

## Measured by itself (held-out prompts, canonical views)

Samples ({check['sample_steps']} Euler steps, guidance {check['guidance']}) for each held-out prompt at toyworld's
canonical4 cameras, read by the embedded image encoder beside the true renders of the same
prompts (both at {c['image_size']}², upsampled to the encoder's 64²). Category accuracy: the encoder's
category head (logits averaged over the 4 views) names the prompt's category. R@1: the sample's
mean view embedding is nearest to the true renders of its own prompt among the N prompts.

{quality_table(quality)}

One-step denoising, the quantity score distillation reads: the true views noised to level t
(x_t = (1 − t)·x₀ + t·ε) and denoised once (x̂₀, same guidance), with each item's own prompt and
with its neighbour's prompt (shuffled), read by the same encoder; "blurred x_t" is a classical
denoiser with no model (x_t/(1 − t) under a 3×3 binomial filter) for scale:

{denoising_table(quality)}

{settings_section(MVDiffusionTrainConfig, c)}"""
