"""``text3d train turbo``: progressive rendering distillation (PRD) of TriplaneTurbo (Ma et al., 2025).

The student (:class:`~text3d.triplane.student.TriplaneStudent`: the teacher's frozen backbone with
PETA adapters) learns to make triplanes in K steps without reading any 3D data. One optimizer step:
for a batch of prompts, planes start as noise; at each step k = 0 … K − 1 the student predicts clean
planes ẑ_k from z_k, ẑ_k is rendered from a random ring of the teacher's views by volume rendering and
by mesh rasterization (dual rendering), each render x is noised to a teacher level t ~ U(t_min, t_hi)
(t_hi linear from ``t_max`` to ``t_max_end``, equal by default: annealed down, an empty scene satisfies the
teacher at the low levels left) and the frozen teacher's guided estimate x̂₀ is the
target of score distillation in image space, L_k = ‖x − sg(x̂₀)‖² (+ λ·eikonal on the volume samples);
its gradient is back-propagated at once (the graphs of the K steps never coexist) and the next step
starts from the prediction renoised, z_{k+1} = s_{k+1}·sg(ẑ_k) + (1 − s_{k+1})·ε. The gradients of
the K steps are summed into one update of the trainable parameters.

Prompts are texts of toyworld training seeds (:func:`~text3d.data.toyworld.instance.item_prompts`
never builds a mesh); a probe loss (fixed development prompts, noise, views and teacher times) tracks
progress. Seeded and resumable (a checkpoint every ``checkpoint_every`` steps); the output is a student folder.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from text3d.data.toyworld.instance import DEV_SEEDS, TRAIN_SEEDS, item_prompts
from text3d.data.toyworld.vocabulary import built_categories
from text3d.errors import InputError
from text3d.nn.mvdiffusion import MultiViewDiT
from text3d.nn.teachers.base import Teacher
from text3d.progress import track
from text3d.store.atomic import write_json
from text3d.train.config import differing_settings, reproduce_command, stage_key, warn_cpu_only
from text3d.train.loop import Checkpoint, LossLog, adamw_decay_groups, cosine_lr, cpu_seconds, set_lr
from text3d.train.prd_config import (
    ADAPTATIONS,
    MODEL_STAGES,
    RENDERERS,
    SIGNALS,
    SUPERVISE,
    TEACHER_ASSETS,
    PRDTrainConfig,
)
from text3d.train.prd_views import c2w_tensor, random_views, render_teacher_views
from text3d.triplane.student import StudentConfig, TriplaneStudent

log = logging.getLogger(__name__)

FOLDER = "triplane-turbo"
"""The trained student's folder inside ``--out``."""


class TextStates:
    """Prompts → padded (states (B, L, D), mask (B, L)) through a teacher's text encoder, cached."""

    def __init__(self, encoder: Any) -> None:
        self.encoder, self.cache = encoder, {}

    def __call__(self, prompts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        missing = [p for p in dict.fromkeys(prompts) if p not in self.cache]
        if missing:
            states, mask = self.encoder(missing)
            for row, prompt in enumerate(missing):
                length = int(mask[row].sum())
                self.cache[prompt] = states[row, :length].float()
        rows = [self.cache[p] for p in prompts]
        width = max(len(r) for r in rows)
        states = torch.zeros(len(rows), width, rows[0].shape[-1])
        mask = torch.zeros(len(rows), width, dtype=torch.bool)
        for i, r in enumerate(rows):
            states[i, :len(r)], mask[i, :len(r)] = r, True
        return states, mask


def _lerp(a: float, b: float, frac: float) -> float:
    return a + (b - a) * frac


def teacher_target(teacher: Teacher, x_t: torch.Tensor, t: torch.Tensor, prompts: Sequence[str],
                   cameras: torch.Tensor, guidance: float, rgb_guidance: float = 0.0,
                   guidance_rescale: float = 0.0) -> torch.Tensor:
    """The teacher's guided estimate x̂₀ (B, V, C, S, S) of noised renders ``x_t``; with ``rgb_guidance``
    > 0 its first 3 channels (RGB) come from a second estimate at that scale, while normals and depth
    keep ``guidance``: at this scale strong guidance keeps an object in the scene but tints its colours
    (dark rims, speckle), and weak guidance gives the prompt's colours but accepts an empty scene.
    ``guidance_rescale`` φ > 0 pulls each estimate's spread back toward the conditional one's."""
    target = teacher.denoise(x_t, t, list(prompts), cameras, guidance, guidance_rescale)
    if rgb_guidance > 0 and rgb_guidance != guidance:
        target[:, :, :3] = teacher.denoise(x_t, t, list(prompts), cameras, rgb_guidance,
                                           guidance_rescale)[:, :, :3]
    return target


def distillation_loss(student: TriplaneStudent, planes: torch.Tensor, teacher: Teacher, prompts: Sequence[str],
                      config: PRDTrainConfig, frac: float, rng: np.random.Generator, generator: torch.Generator,
                      t_values: Sequence[float] | None = None) -> tuple[torch.Tensor, torch.Tensor, dict[str, float]]:
    """Score distillation of one step's planes (B, 3, C, R, R): (loss, its RGB share, the terms). The
    loss is Σ over renderers of the mean ‖x − sg(x̂₀)‖² over all channels, plus the eikonal term; the
    RGB share is the part of it that the 3 RGB channels contribute. ``frac`` ∈ [0, 1] is the training
    progress (NeuS sharpness and t_hi anneal); ``t_values`` (B) fixes the teacher times (probe)."""
    size = teacher.model.config.image_size
    rings = random_views(rng, planes.shape[0], teacher.views, size)
    c2w = c2w_tensor(rings)
    inv_s = _lerp(config.inv_s_start, config.inv_s_end, frac)
    t_hi = _lerp(config.t_max, config.t_max_end, frac)
    kinds = ("volume", "mesh") if config.renderers == "both" else (config.renderers,)
    loss, rgb_loss, parts = planes.new_zeros(()), planes.new_zeros(()), {}
    for kind in kinds:
        views, eikonal = render_teacher_views(student.field, planes, rings, kind, config.samples, inv_s,
                                              config.mesh_resolution, generator, config.mesh_eikonal_points)
        x0 = teacher.encode(views)
        if t_values is None:
            t = config.t_min + (max(t_hi, config.t_min) - config.t_min) * torch.rand(len(prompts), generator=generator)
        else:
            t = torch.as_tensor(t_values, dtype=torch.float32)
        noise = torch.randn(x0.shape, generator=generator)
        with torch.no_grad():
            target = teacher_target(teacher, teacher.add_noise(x0.detach(), noise, t), t, prompts, c2w,
                                    config.guidance, config.rgb_guidance, config.guidance_rescale)
        error = x0 - target  # (B, V, C, H, W); "rgb": the first 3 channels only (a 3-channel teacher: all)
        term = (error[:, :, :3] if config.supervise == "rgb" else error).square().mean()
        rgb_term = error[:, :, :3].square().mean() * (1.0 if config.supervise == "rgb" else 3 / error.shape[2])
        parts[kind] = float(term.detach())
        loss, rgb_loss = loss + term, rgb_loss + rgb_term
        if eikonal is not None and config.eikonal > 0:
            loss = loss + config.eikonal * eikonal
            parts["eikonal"] = float(eikonal.detach())
    return loss, rgb_loss, parts


def backward_split(student: TriplaneStudent, planes: torch.Tensor, loss: torch.Tensor,
                   rgb_loss: torch.Tensor) -> None:
    """Accumulate gradients of ``loss`` such that its RGB share reaches only the texture (the planes'
    texture channels and the color head) and the rest (normals, depth, eikonal) only the geometry:
    TriplaneTurbo's θ_geo / θ_tex split, supervised by the normal-depth and the RGB teacher. Without it,
    an RGB target that accepts an empty scene (weak guidance) erases the surface."""
    field = student.field
    geo = planes.shape[2] - field.config.texture_channels  # channels < geo feed the SDF head, the rest the color head
    rgb_params = [p for p in field.rgb_head.parameters() if p.requires_grad]
    geo_params = [p for p in field.sdf_head.parameters() if p.requires_grad]
    rest = loss - rgb_loss
    g_rgb = torch.autograd.grad(rgb_loss, [planes, *rgb_params], retain_graph=True, allow_unused=True)
    g_geo = torch.autograd.grad(rest, [planes, *geo_params], retain_graph=True, allow_unused=True)
    grad = torch.zeros_like(planes)
    if g_rgb[0] is not None:
        grad[:, :, geo:] += g_rgb[0][:, :, geo:]
    if g_geo[0] is not None:
        grad[:, :, :geo] += g_geo[0][:, :, :geo]
    for p, g in [*zip(rgb_params, g_rgb[1:]), *zip(geo_params, g_geo[1:])]:
        if g is not None:
            p.grad = g if p.grad is None else p.grad + g
    if planes.requires_grad:
        planes.backward(grad)


def prd_step(student: TriplaneStudent, teacher: Teacher, prompts: Sequence[str], texts: TextStates,
             config: PRDTrainConfig, frac: float, rng: np.random.Generator,
             generator: torch.Generator) -> dict[str, float]:
    """The K supervised denoising steps of one batch; gradients accumulate in the trainable parameters
    (the caller zeroes them before and applies the update after). Returns the mean loss terms."""
    states, mask = texts(prompts)
    times = student.times()
    z = student.noise(len(prompts), generator)
    totals: dict[str, float] = {}
    for k in range(len(times) - 1):
        context, context_mask = student.text_context(states, mask)  # per step: its graph is freed by backward
        planes = student.denoise(z, times[k], context, context_mask)
        loss, rgb_loss, parts = distillation_loss(student, planes, teacher, prompts, config, frac, rng, generator)
        if loss.requires_grad:  # a mesh-only step of a field without surface has nothing to learn from
            if config.rgb_geometry:
                loss.backward()
            else:
                backward_split(student, planes, loss, rgb_loss)
        for key, value in {"loss": float(loss.detach()), **parts}.items():
            totals[key] = totals.get(key, 0.0) + value / (len(times) - 1)
        if k + 2 < len(times):
            z = student.renoise(planes.detach(), times[k + 1], generator)
    return totals


@torch.no_grad()
def probe_loss(student: TriplaneStudent, teacher: Teacher, prompts: Sequence[str], texts: TextStates,
               config: PRDTrainConfig, seed: int) -> dict[str, float]:
    """Distillation loss of the K-step samples of fixed ``prompts`` with fixed noise, views and teacher
    times t ∈ {¼, ½, ¾} (cycled), at the final NeuS sharpness: comparable across training steps."""
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    states, mask = texts(prompts)
    planes = student.sample(states, mask, generator=generator)
    t_values = [(0.25, 0.5, 0.75)[i % 3] for i in range(len(prompts))]
    _, _, parts = distillation_loss(student, planes, teacher, prompts, config, 1.0, rng, generator, t_values)
    return parts


def check_settings(config: PRDTrainConfig) -> None:
    """One-line errors for an unknown choice or a setting that cannot train (before any model loads)."""
    if config.adaptation not in ADAPTATIONS:
        raise InputError(f"--adaptation {config.adaptation!r}: use {', '.join(ADAPTATIONS)}")
    if config.renderers not in RENDERERS:
        raise InputError(f"--renderers {config.renderers!r}: use {', '.join(RENDERERS)}")
    if config.supervise not in SUPERVISE:
        raise InputError(f"--supervise {config.supervise!r}: use {', '.join(SUPERVISE)}")
    if not config.rgb_geometry and (config.supervise != "all" or config.texture_channels < 1):
        raise InputError("--no-rgb-geometry: needs RGB and normal/depth supervision (--supervise all) and "
                         "texture channels of their own (texture_channels ≥ 1)")
    if config.signal not in SIGNALS:
        raise InputError(f"--signal {config.signal!r}: use {', '.join(SIGNALS)}")
    if config.batch > config.prompts:
        raise InputError(f"--batch {config.batch}: more than the {config.prompts} --prompts; every batch would "
                         "repeat prompts (lower --batch or raise --prompts)")
    if config.teacher is not None and not str(config.teacher).strip():
        raise InputError("--teacher '': empty; give a multi-view teacher's folder, or leave it out for the shipped one")
    if not config.lr > 0:
        raise InputError(f"--lr {config.lr}: must be above 0 (nothing would be learned)")
    for flag, t in (("--t-max", config.t_max), ("--t-max-end", config.t_max_end)):
        if t < config.t_min:
            raise InputError(f"{flag} {t}: below the lowest teacher noise level t_min = {config.t_min}")
    defaults = PRDTrainConfig()

    def value(flag: str, of: PRDTrainConfig = config) -> Any:
        return getattr(of, flag[2:].replace("-", "_"))

    unused = [(flag, why) for flag, changed, why in (
        ("--lora-rank", config.lora_rank != defaults.lora_rank and config.adaptation == "full",
         "full tuning has no adapters"),
        ("--mesh-eikonal-points", config.mesh_eikonal_points and config.renderers == "volume",
         "it regularizes mesh rendering, and --renderers volume renders none"),
        ("--probe-every", config.probe_every != defaults.probe_every and not config.probe_prompts,
         "--probe-prompts 0 runs no probe"),
        *((flag, value(flag) != value(flag, defaults) and config.signal == "generator",
           "the generator's renders do not depend on the noise or the guidance")
          for flag in ("--guidance", "--rgb-guidance", "--guidance-rescale", "--t-max", "--t-max-end"))) if changed]
    for flag, why in unused:
        log.warning("%s %s is unused: %s", flag, value(flag), why)


def teacher_backbone(teacher: Teacher) -> MultiViewDiT:
    """The backbone the student adapts: the embedded multi-view teacher's own network."""
    backbone = getattr(teacher, "model", None)
    if not isinstance(backbone, MultiViewDiT) or not hasattr(teacher, "text_encoder"):
        raise InputError(f"teacher {getattr(teacher, 'name', teacher)!r}: the student adapts the embedded "
                         "multi-view teacher's backbone (a toyworld-mvdiffusion folder)")
    return backbone


def student_config(config: PRDTrainConfig) -> StudentConfig:
    return StudentConfig(adaptation=config.adaptation, steps=config.denoise_steps,
                         plane_channels=config.plane_channels, texture_channels=config.texture_channels,
                         lora_rank=config.lora_rank, cross_rank=config.cross_rank)


def train_prd(out: str | Path, config: PRDTrainConfig, teacher: Teacher | None = None,
              progress: bool | None = None) -> dict[str, Any]:
    """Distill a student into ``out/triplane-turbo`` (``teacher``: default, the embedded one from
    ``config.teacher``) and return the figures (parameter report, first and last probe losses)."""
    from text3d.train.mvdiffusion import load_embedded_teacher

    torch.set_num_threads(1)  # the shared 2-core machine: two threads oversubscribe
    out = Path(out)
    check_settings(config)
    warn_cpu_only(config, "train turbo")
    done = finished_student(out, config, f"--out {out}")
    if done is not None:
        log.warning("%s already holds a student trained with these settings; nothing was trained (give a new "
                    "--out to train another)", out / FOLDER)
        return done
    out.mkdir(parents=True, exist_ok=True)
    t0, c0 = time.perf_counter(), cpu_seconds()
    if teacher is None:
        teacher = load_embedded_teacher(config.teacher)
    if config.signal == "generator":
        from text3d.train.prd_generator_teacher import GeneratorRendersTeacher

        teacher = GeneratorRendersTeacher(teacher, asset_folder=out / TEACHER_ASSETS)
    backbone = teacher_backbone(teacher)
    prompts = item_prompts(config.prompts, TRAIN_SEEDS.start, built_categories())
    if config.signal == "generator" and config.steps * config.batch >= len(set(prompts)):
        # most prompts will be drawn: their assets are generated up front, in parallel
        teacher.prepare(prompts, config.workers, progress)
    probe = item_prompts(config.probe_prompts, DEV_SEEDS.start, built_categories())
    texts = TextStates(teacher.text_encoder)
    torch.manual_seed(config.seed)
    student = TriplaneStudent(backbone, student_config(config))
    optimizer = adamw_decay_groups(student, config.lr, config.weight_decay)
    trainable = [p for p in student.parameters() if p.requires_grad]
    rng = np.random.default_rng(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    checkpoint = Checkpoint(out / "prd.pt", stage_key(config, MODEL_STAGES), config.checkpoint_every, config.steps,
                            "triplane student", cpu_start=c0)
    start, saved = checkpoint.restore(student, optimizer, rng)
    probes: list[dict[str, Any]] = []
    if saved is not None:
        generator.set_state(saved["generator"])
        probes = saved["probes"]
    with (out / "train_log.jsonl").open("a") as log_file:
        losses = LossLog(log_file, "prd", config.steps, start=checkpoint.log_start)
        for step in track(range(start, config.steps), total=config.steps - start, description="train turbo",
                          enabled=progress):
            if probe and step % config.probe_every == 0 and not any(p["step"] == step for p in probes):
                probes.append({"step": step, **probe_loss(student, teacher, probe, texts, config, config.seed + 1)})
                losses.write(step, probe=probes[-1])
            set_lr(optimizer, cosine_lr(step, config.steps, config.warmup, config.lr))
            optimizer.zero_grad(set_to_none=True)
            pick = rng.integers(len(prompts), size=config.batch)
            terms = prd_step(student, teacher, [prompts[i] for i in pick], texts, config,
                             step / max(1, config.steps - 1), rng, generator)
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            if losses.due(step):
                losses.write(step, **{k: round(v, 5) for k, v in terms.items()}, lr=optimizer.param_groups[0]["lr"])
            checkpoint.save_after(step + 1, lambda: {"model": student.state_dict(), "optimizer": optimizer.state_dict(),
                                                     "rng": rng.bit_generator.state,
                                                     "generator": generator.get_state(), "probes": probes})
    if probe:
        probes.append({"step": config.steps, **probe_loss(student, teacher, probe, texts, config, config.seed + 1)})
    checkpoint.remove()
    shutil.rmtree(out / TEACHER_ASSETS, ignore_errors=True)  # like the checkpoint, a resume aid only
    report = student.parameter_report()
    training = {"config": dataclasses.asdict(config), "teacher": teacher_label(getattr(teacher, "folder", None)),
                "seconds": round(time.perf_counter() - t0, 1),
                "cpu_minutes": round(checkpoint.cpu_seconds() / 60, 1),  # all attempts, when resumed
                "command": reproduce_command("text3d train turbo", config)}
    student.save(out / FOLDER, card=_card(report, training, probes), extra={"training": training,
                                                                            "parameters": report, "probes": probes})
    figures = _figures(report, training, probes)
    write_json(out / "summary.json", figures)
    return figures


def _figures(report: dict[str, Any], training: dict[str, Any], probes: list[dict[str, Any]]) -> dict[str, Any]:
    """What ``train turbo`` prints and writes as summary.json."""
    return {"parameters": report, "probe_first": probes[0] if probes else None,
            "probe_last": probes[-1] if probes else None, "seconds": training["seconds"],
            "cpu_minutes": training["cpu_minutes"]}


def finished_student(out: Path, config: PRDTrainConfig, where: str) -> dict[str, Any] | None:
    """The figures of the student already trained in ``out`` with ``config``'s model settings (None: no
    finished student there). A finished student trained with other settings is a one-line error
    starting with ``where``: training over it would replace it, and a study would mix two recipes."""
    path = out / FOLDER / "config.json"
    if not path.is_file():
        return None
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        figures = _figures(saved["parameters"], saved["training"], saved["probes"])
        differ = differing_settings(config, MODEL_STAGES, saved["training"]["config"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise InputError(f"{path}: not a trained student's config.json; give a new --out folder") from None
    if differ:
        raise InputError(f"{where}: holds a student trained with other settings ({', '.join(differ)} differ); "
                         "give a new folder or the same settings")
    if not (out / "summary.json").is_file():
        write_json(out / "summary.json", figures)
    return figures


def teacher_label(folder: str | Path | None) -> str:
    """A teacher folder as a card and config.json name it: a shipped model by its name, else the path."""
    from text3d.nn.checkpoint import WEIGHTS_ROOT

    if folder is None:
        return "None"
    path = Path(folder).resolve()
    return path.name if path.parent == WEIGHTS_ROOT.resolve() else str(path)


def _card(report: dict[str, Any], training: dict[str, Any], probes: list[dict[str, Any]]) -> str:
    """The student's model card (README.md)."""
    shown = [probes[i] for i in sorted({round(j * (len(probes) - 1) / 10) for j in range(11)})] if probes else []
    kinds = [k for k in ("volume", "mesh") if any(k in p for p in probes)]  # the renderers trained
    rows = "\n".join(f"| {p['step']} | " + " | ".join(f"{p.get(k, float('nan')):.4f}" for k in kinds)
                     + " |" for p in shown)  # at most 11 rows, evenly spaced
    config = training["config"]
    return (f"# TriplaneTurbo student ({config['adaptation']}, K = {config['denoise_steps']})\n\n"
            "A few-step triplane generator distilled by progressive rendering distillation (TriplaneTurbo, "
            "Ma et al., 2025) from the embedded multi-view teacher, without 3D data: prompts of toyworld "
            "training seeds only.\n\n"
            f"Trainable parameters: {report['trainable']:,} of {report['total']:,} "
            f"({100 * report['trainable_fraction']:.2f} %; {100 * report['trainable_per_backbone']:.2f} % of the "
            f"frozen backbone's {report['backbone']:,}; the paper's PETA: 2.5 %).\n\n"
            f"Teacher: `{training['teacher']}`. Training: {training['seconds']} s, "
            f"{training['cpu_minutes']} CPU-minutes.\n\n"
            "## Probe loss (development prompts, fixed noise, views and teacher times)\n\n"
            f"| step | {' | '.join(kinds)} |\n|---|{'---|' * len(kinds)}\n{rows}\n\n"
            f"Reproduce: `{training['command']}`\n")
