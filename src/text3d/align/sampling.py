"""Sampling GAP3D's (Gkotsi et al., 2026) aligner: caption → soft-prompt condition C → Euler/CFG
sampling of the image encoder's tokens [CLS, registers, patches], which then condition an
image-token generator (``Condition(tokens=…)``) in place of a real image's tokens.

A trained aligner folder (written by ``text3d train aligner``) holds the DiT's ``config.json`` +
``model.safetensors`` and ``soft_tokens.safetensors`` (s, 384); the frozen all-MiniLM-L6-v2 is the
shipped one, not saved again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import torch

from text3d.device import resolve_device
from text3d.encoders.minilm import MAX_TOKENS, JsonTokenizer, bundled_model_path, shared_text_encoder
from text3d.errors import InputError
from text3d.nn.aligner import GROUPS, AlignerConfig, AlignerDiT
from text3d.nn.aligner_flow import aligner_euler_sample
from text3d.nn.checkpoint import SINGLE_FILE, build_network, load_checked, load_folder, read_config
from text3d.nn.soft_prompt import SoftPromptEncoder

SAMPLING: dict[str, Any] = {"steps": 32, "cfg": 3.0, "group_cfg": None, "guidance_rescale": 0.0, "temperature": 1.0,
                            "token_scale": None, "candidates": 1}
"""Sampler settings of an aligner folder whose ``config.json`` has no ``"sampling"`` block; a
shipped aligner's block holds the settings chosen for it on development seeds (its model card).
``group_cfg``: {group: w_k}, the guidance weight of the groups named (None or absent: ``cfg``);
``temperature``: the starting noise's scale τ (see :func:`~text3d.nn.aligner_flow.aligner_euler_sample`);
``token_scale``: {group: s_k}, each group's sampled tokens multiplied by s_k (None: 1), the
calibration ``text3d align calibrate`` measures on development pairs; ``candidates``: K token
samples drawn per caption, of which the consensus one is kept (:func:`consensus_index`; 1: one draw)."""

log = logging.getLogger(__name__)

STAGE2_FOLDER = "aligner-stage2"
"""The shipped stage-2 aligner's folder name (``text3d/weights/``), the default of every GAP3D command."""

SOFT_TOKENS_FILE = "soft_tokens.safetensors"
"""The trained soft tokens (s, 384) beside the DiT's ``model.safetensors``; MiniLM itself is not saved."""


@functools.lru_cache(maxsize=1)
def _tokenizer() -> JsonTokenizer:
    return JsonTokenizer(bundled_model_path() / "tokenizer.json")


def caption_condition(encoder: SoftPromptEncoder, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """C (B, s, 384) and its mask (B, s) of ``texts`` (MiniLM's tokenizer: right padding, at most
    64 tokens with [CLS] and [SEP])."""
    batch = _tokenizer()(list(texts), max_length=MAX_TOKENS)
    device = encoder.soft.device
    return encoder(batch["input_ids"].to(device), batch["attention_mask"].to(device))


def load_soft(folder: Path) -> torch.Tensor:
    from safetensors.torch import load_file

    path = Path(folder) / SOFT_TOKENS_FILE
    if not path.exists():
        raise InputError(f"{folder}: no {SOFT_TOKENS_FILE}; give a folder written by `text3d train aligner`")
    return load_file(str(path))["soft"].float()


def check_aligner_folder(folder: str | Path, option: str, stage: int | None = None) -> None:
    """Refuse (one line, naming ``option``) a folder that is not one ``text3d train aligner`` wrote;
    with ``stage``, warn when the folder records another training stage (its rows would be mislabelled)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{option} {folder}: {'is a file' if folder.exists() else 'no such folder'}; give a folder "
                         "written by `text3d train aligner`")
    if not (folder / "config.json").is_file():
        raise InputError(f"{option} {folder}: no config.json; give a folder written by `text3d train aligner`")
    config = read_config(folder)
    if not {"model", "soft_tokens"} <= set(config) or not (folder / SOFT_TOKENS_FILE).is_file():
        raise InputError(f"{option} {folder}: not an aligner folder (no model/soft_tokens in config.json, or no "
                         f"{SOFT_TOKENS_FILE}); give a folder written by `text3d train aligner`")
    if not isinstance(config.get("sampling", {}), dict):
        raise InputError(f"{option} {folder}: config.json's \"sampling\" is {json.dumps(config['sampling'])[:40]}, "
                         "not an object; remove it (the defaults apply) or calibrate with `text3d align calibrate`")
    trained = (config.get("training") or {}).get("config", {}).get("stage")
    if stage is not None and trained is not None and trained != stage:
        log.warning("%s %s: a stage-%s aligner (config.json training.config.stage) given as stage %d; its rows "
                    "are labelled stage %d", option, folder, trained, stage, stage)


def check_group_cfg(group_cfg: Mapping[str, float] | None, option: str = "group_cfg") -> dict[str, float] | None:
    """``group_cfg`` as a plain dict (None when empty); refuse (one line) an unknown group or a weight
    outside [0, 50]."""
    if not group_cfg:
        return None
    unknown = sorted(set(group_cfg) - set(GROUPS))
    if unknown:
        raise InputError(f"{option}: unknown token group {', '.join(unknown)}; the groups are {', '.join(GROUPS)}")
    checked = {}
    for group, weight in group_cfg.items():
        try:
            value = float(weight)
        except (TypeError, ValueError):
            raise InputError(f"{option}: {group} = {weight!r} is not a number") from None
        if not 0.0 <= value <= 50.0:  # also refuses NaN
            raise InputError(f"{option}: {group} = {weight!r} is outside [0, 50]")
        checked[group] = value
    return checked


def parse_group_cfg(text: str, option: str = "--group-cfg") -> dict[str, float] | None:
    """'cls=6,registers=6' → {"cls": 6.0, "registers": 6.0} (checked by :func:`check_group_cfg`);
    an empty text gives None."""
    pairs = [part.strip() for part in text.split(",") if part.strip()]
    parsed: dict[str, float] = {}
    for part in pairs:
        group, sep, value = part.partition("=")
        if not sep:
            raise InputError(f"{option} {text!r}: {part!r} is not GROUP=WEIGHT (e.g. 'cls=6,registers=6')")
        if group.strip() in parsed:
            raise InputError(f"{option} {text!r}: names {group.strip()} twice")
        parsed[group.strip()] = value.strip()  # type: ignore[assignment]  # checked below
    return check_group_cfg(parsed, f"{option} {text!r}")


_RANGES: dict[str, tuple[float, float, bool]] = {"steps": (1, 1000, True), "cfg": (0.0, 50.0, False),
                                                 "guidance_rescale": (0.0, 1.0, False),
                                                 "temperature": (0.0, 2.0, False), "candidates": (1, 32, True)}
"""(low, high, integer) of the numeric sampler settings a ``"sampling"`` block may hold."""


def check_saved_sampling(saved: Mapping[str, Any], path: Path) -> None:
    """Refuse in one line, naming ``path`` and the setting, a ``"sampling"`` value of the wrong type or out
    of range (an edited config.json gave internal errors or sampled nothing: steps 0)."""
    for key, value in saved.items():
        where = f"{path}: \"sampling\".{key} = {json.dumps(value)[:40]}"
        if key in _RANGES:
            low, high, integer = _RANGES[key]
            ok = (isinstance(value, int) if integer else isinstance(value, (int, float))) \
                and not isinstance(value, bool) and low <= value <= high  # NaN fails the comparison
            if not ok:
                raise InputError(f"{where}: give {'an integer' if integer else 'a number'} in [{low}, {high}]")
        elif key == "group_cfg" and value is not None:
            if not isinstance(value, dict):
                raise InputError(f"{where}: give an object of token group weights, or null")
            check_group_cfg(value, where)
        elif key == "token_scale" and value is not None:
            bad = not isinstance(value, dict) or set(value) - set(GROUPS) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and 0.0 < v <= 10.0 for v in value.values())
            if bad:
                raise InputError(f"{where}: give an object of token groups ({', '.join(GROUPS)}) to scales in "
                                 "(0, 10], or null")


def sampling_settings(folder: str | Path, **given: Any) -> dict[str, Any]:
    """{steps, cfg, group_cfg, guidance_rescale, temperature, token_scale}: each ``given`` value that is not None,
    else the folder's ``config.json`` ``"sampling"`` block, else :data:`SAMPLING`. A given ``cfg``
    without a given ``group_cfg`` sets every group's weight (the folder's per-group weights are dropped)."""

    path = Path(folder) / "config.json"
    saved = json.loads(path.read_text()).get("sampling", {}) if path.exists() else {}
    if not isinstance(saved, dict):
        raise InputError(f"{path}: \"sampling\" is not an object; remove it (the defaults apply) or calibrate "
                         "with `text3d align calibrate`")
    check_saved_sampling(saved, path)
    unknown = set(given) - set(SAMPLING)
    if unknown:
        raise TypeError(f"unknown sampler settings: {', '.join(sorted(unknown))}")
    if given.get("cfg") is not None and given.get("group_cfg") is None:
        saved = {k: v for k, v in saved.items() if k != "group_cfg"}
    return {k: given[k] if given.get(k) is not None else saved.get(k, default) for k, default in SAMPLING.items()}


UNSET: Mapping[str, Any] = {"group_cfg": None, "candidates": 1}
"""Settings added after run folders first recorded sampling, at the value that reproduces the old sampling."""


def recorded(settings: Mapping[str, Any]) -> dict[str, Any]:
    """``settings`` as run folders record them: without a setting of :data:`UNSET` at its unset
    value, so a run made before that setting existed still resumes with the same sampling."""
    return {k: v for k, v in settings.items() if not (k in UNSET and v == UNSET[k])}


def sampling_line(settings: Mapping[str, Any]) -> str:
    """One readable line of a sampling block, for the tables' headers."""
    groups = settings.get("group_cfg") or {}
    cfg = f"CFG {settings['cfg']}" + "".join(f", {k} {w}" for k, w in groups.items())
    pick = f", consensus of {settings['candidates']} draws" if settings.get("candidates", 1) > 1 else ""
    return (f"{settings['steps']} Euler steps, {cfg}, guidance rescale {settings['guidance_rescale']}, "
            f"temperature {settings.get('temperature', 1.0)}, token scale {settings['token_scale']}{pick}")


def write_sampling(folder: str | Path, sampling: Mapping[str, Any]) -> Path:
    """Replace the ``"sampling"`` block of the aligner folder's ``config.json`` (atomically)."""
    from text3d.store.atomic import write_json

    path = Path(folder) / "config.json"
    if not path.exists():
        raise InputError(f"{folder}: no config.json; give a folder written by `text3d train aligner`")
    config = json.loads(path.read_text())
    config["sampling"] = dict(sampling)
    return write_json(path, config)


def load_aligner(folder: str | Path, device: str | None = None) -> tuple[AlignerDiT, SoftPromptEncoder]:
    """(DiT, soft-prompt encoder over the shared frozen MiniLM) of a folder written by
    :func:`save_aligner`, in eval mode on ``device``."""
    folder = Path(folder)
    check_aligner_folder(folder, "aligner")
    state, saved = load_folder(folder)
    dit = build_network(AlignerDiT, AlignerConfig, saved["model"], folder, "model")
    load_checked(dit, state, folder, "aligner DiT")
    soft = load_soft(folder)
    text_encoder = shared_text_encoder(device)
    encoder = SoftPromptEncoder(text_encoder.model, soft.shape[0])
    with torch.no_grad():
        encoder.soft.copy_(soft)
    dev = resolve_device(device)
    return dit.to(dev).eval(), encoder.to(dev).eval()


def consensus_index(draws: torch.Tensor) -> torch.Tensor:
    """Index (B,) of each caption's consensus draw among K: argmax_i Σ_j cos(x_i, x_j) over the K
    draws ``draws`` (B, K, F), each a flattened token sequence, i.e. the draw nearest the others on
    average (a medoid: a real sample near the mode, where the mean of the draws would be blurred
    and short). K = 1 gives zeros."""
    unit = torch.nn.functional.normalize(draws.float(), dim=-1)
    return (unit @ unit.transpose(1, 2)).sum(dim=-1).argmax(dim=-1)


def sample_tokens(dit: AlignerDiT, encoder: SoftPromptEncoder, texts: Sequence[str], steps: int = 32,
                  cfg: float = 3.0, seed: int = 0, guidance_rescale: float = 0.0,
                  token_scale: Mapping[str, float] | None = None, temperature: float = 1.0,
                  group_cfg: Mapping[str, float] | None = None, candidates: int = 1) -> torch.Tensor:
    """Generated image-encoder tokens (B, 1 + R + G², D) of ``texts``: [CLS, registers, patches]
    (``guidance_rescale``, ``temperature``, ``group_cfg``: see :func:`~text3d.nn.aligner_flow.aligner_euler_sample`;
    ``token_scale``: see :data:`SAMPLING`). ``candidates`` K > 1 draws K samples of each caption in
    the same batch (rows k·B … k·B + B − 1 are draw k) and keeps each caption's
    :func:`consensus_index`; K = 1 is one draw."""
    if candidates < 1:
        raise InputError(f"candidates {candidates}: give at least 1 draw per caption")
    with torch.no_grad():
        cond, mask = caption_condition(encoder, texts)
        b = cond.shape[0]
        if candidates > 1:
            cond, mask = cond.repeat(candidates, 1, 1), mask.repeat(candidates, 1)
        generator = torch.Generator(device=cond.device).manual_seed(seed)
        groups = aligner_euler_sample(dit, cond, steps, cfg, generator, cond_mask=mask,
                                      guidance_rescale=guidance_rescale, temperature=temperature,
                                      group_cfg=group_cfg)
        if candidates > 1:
            # (K·B, N, D) → (B, K, N, D); keep draw consensus_index of each caption.
            draws = {k: v.reshape(candidates, b, *v.shape[1:]).transpose(0, 1) for k, v in groups.items()}
            pick = consensus_index(torch.cat([draws[k] for k in GROUPS], dim=2).flatten(2))
            rows = torch.arange(b, device=pick.device)
            groups = {k: v[rows, pick] for k, v in draws.items()}
    scale = token_scale or {}
    return torch.cat([groups[k] * float(scale.get(k, 1.0)) for k in GROUPS], dim=1)


class TokenSource(Protocol):
    """caption → image-encoder tokens (1 + R + G², D) for an image-token generator: a trained
    aligner, or (for the tables' upper bound) the true tokens of a held-out image."""

    def __call__(self, text: str, seed: int = 0) -> torch.Tensor: ...

    def describe(self) -> dict[str, Any]:
        """What made the tokens, for ``meta.json`` (``info.conditioning``) and ``run.yaml``."""
        ...


def weights_sha256(folder: str | Path) -> str:
    """First 16 hex digits of SHA-256 over an aligner folder's weight files (DiT, then soft tokens)."""
    digest = hashlib.sha256()
    for name in (SINGLE_FILE, SOFT_TOKENS_FILE):
        digest.update((Path(folder) / name).read_bytes())
    return digest.hexdigest()[:16]


def aligner_record(folder: str | Path | None) -> dict[str, Any]:
    """{aligner: the resolved folder (None: the shipped stage-2 one), weights_sha256, sampling}: what
    a run folder records of an aligner given by path, so other weights or another sampling block
    (:func:`sampling_settings`) at the same path are told apart."""
    from text3d.nn.checkpoint import resolve_model_folder

    path = resolve_model_folder(None if folder is None else str(folder), STAGE2_FOLDER)
    return {"aligner": str(path), "weights_sha256": weights_sha256(path), "sampling": recorded(sampling_settings(path))}


class TokenAligner:
    """A caption → image-encoder tokens (1 + R + G², D) callable over a trained aligner folder: what
    ``text3d generate --conditioning gap3d`` puts between the augmenter and an image-token generator."""

    def __init__(self, dit: AlignerDiT, encoder: SoftPromptEncoder, folder: Path, steps: int = 32,
                 cfg: float = 3.0, guidance_rescale: float = 0.0, token_scale: Mapping[str, float] | None = None,
                 temperature: float = 1.0, group_cfg: Mapping[str, float] | None = None, candidates: int = 1) -> None:
        self.dit, self.encoder, self.folder, self.steps, self.cfg = dit, encoder, folder, steps, cfg
        self.candidates = int(candidates)
        self.group_cfg = check_group_cfg(group_cfg)
        self.guidance_rescale, self.token_scale, self.temperature = guidance_rescale, token_scale, temperature

    @classmethod
    def from_pretrained(cls, folder: str | Path | None = None, device: str | None = None, steps: int | None = None,
                        cfg: float | None = None, guidance_rescale: float | None = None,
                        token_scale: Mapping[str, float] | None = None,
                        temperature: float | None = None,
                        group_cfg: Mapping[str, float] | None = None,
                        candidates: int | None = None) -> "TokenAligner":
        """The aligner in ``folder`` (default: the shipped stage-2 aligner, ``aligner-stage2``);
        sampler settings left None are the folder's (:func:`sampling_settings`)."""
        from text3d.nn.checkpoint import resolve_model_folder

        path = resolve_model_folder(None if folder is None else str(folder), STAGE2_FOLDER)
        dit, encoder = load_aligner(path, device)
        settings = sampling_settings(path, steps=steps, cfg=cfg, guidance_rescale=guidance_rescale,
                                     token_scale=token_scale, temperature=temperature, group_cfg=group_cfg,
                                     candidates=candidates)
        return cls(dit, encoder, path, **settings)

    def __call__(self, text: str, seed: int = 0) -> torch.Tensor:
        """Tokens (1 + R + G², D) of ``text``, [CLS, registers, patches], sampled from seed ``seed``."""
        return self.sample([text], seed)[0]

    def sample(self, texts: Sequence[str], seed: int = 0) -> torch.Tensor:
        """Tokens (B, 1 + R + G², D) of ``texts`` in one batch (one noise draw from ``seed``)."""
        return sample_tokens(self.dit, self.encoder, texts, self.steps, self.cfg, seed, self.guidance_rescale,
                             self.token_scale, self.temperature, self.group_cfg, self.candidates)

    @functools.cached_property
    def weights_sha256(self) -> str:
        return weights_sha256(self.folder)

    def describe(self) -> dict[str, Any]:
        """Folder, weights digest and sampler settings: a run folder made with other weights at the
        same path is told apart from this one (``run.yaml`` compares them on resume)."""
        return {"kind": "gap3d", "aligner": str(self.folder), "weights_sha256": self.weights_sha256,
                **recorded({k: getattr(self, k) for k in SAMPLING})}
