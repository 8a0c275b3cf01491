"""What every training loop of :mod:`text3d.train` shares: the learning-rate schedule, the
loss log (``train_log.jsonl``, one JSON record a line) and the optimizer step."""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch

from text3d.store.atomic import write_atomic

log = logging.getLogger(__name__)


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (user + system), in seconds."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def cosine_lr(step: int, total: int, warmup: int, peak: float) -> float:
    """Linear warm-up to ``peak``, then cosine decay to 0:
    lr = peak·(step+1)/warmup while step < warmup, else peak·½(1 + cos(π·min(1, (step − warmup)/(total − warmup))))."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set the learning rate of every parameter group."""
    for group in optimizer.param_groups:
        group["lr"] = lr


def optimizer_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor, model: torch.nn.Module | None = None,
                   clip: float = 1.0) -> None:
    """Backward pass and update; with ``model``, gradients clipped to global norm ``clip`` first."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if model is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()


class LossLog:
    """Appends one record every ``every`` steps (and at the last one) to an open ``train_log.jsonl``,
    with the seconds since the log was made (``time_s``). A checkpointed trainer passes the step it
    starts at (0 for a fresh start): the rows a killed attempt wrote for this model from that step on
    are dropped first (they were written past the checkpoint resumed from, or before any checkpoint,
    and this run writes those steps again)."""

    def __init__(self, handle: IO[str], model: str, total: int, every: int = 25, start: int | None = None) -> None:
        self.handle, self.model, self.total, self.every = handle, model, total, every
        self.start = time.perf_counter()
        self.dropped = drop_rows_from(handle, model, start) if start is not None else 0

    def due(self, step: int) -> bool:
        """Whether ``step`` is logged."""
        return step % self.every == 0 or step == self.total - 1

    def write(self, step: int, **values: Any) -> None:
        """One line: ``{"model", "step", **values, "time_s"}``."""
        record = {"model": self.model, "step": step, **values, "time_s": round(time.perf_counter() - self.start, 1)}
        self.handle.write(json.dumps(record) + "\n")
        self.handle.flush()


def drop_rows_from(handle: IO[str], model: str, step: int) -> int:
    """Truncate the open append-mode log ``handle`` before its last run of ``model`` rows with
    step ≥ ``step`` (a killed attempt's rows past its checkpoint; they end the file, as nothing ran
    after it). Rows of other models, and a torn last line, end the scan: only a suffix of this
    model's own rows is ever removed. Returns the number of rows dropped."""
    name = getattr(handle, "name", None)
    if not isinstance(name, str) or not Path(name).is_file():
        return 0  # an in-memory log (tests): nothing on disk to trim
    handle.flush()
    path = Path(name)
    lines = path.read_bytes().splitlines(keepends=True)
    keep = len(lines)
    while keep > 0:
        try:
            record = json.loads(lines[keep - 1])
        except ValueError:
            break
        if not isinstance(record, dict) or record.get("model") != model or not isinstance(record.get("step"), int) \
                or record["step"] < step:
            break
        keep -= 1
    dropped = len(lines) - keep
    if dropped:
        # In place: the handle is open for appending, so later writes go to the new end.
        handle.truncate(sum(len(line) for line in lines[:keep]))
        log.info("dropped %d rows of the killed %s run past step %d from %s", dropped, model, step, path.name)
    return dropped


def adamw_decay_groups(model: torch.nn.Module, lr: float, weight_decay: float,
                       betas: tuple[float, float] = (0.9, 0.999)) -> torch.optim.AdamW:
    """AdamW whose weight decay applies to the trainable matrices (ndim ≥ 2) only; biases and
    norm gains (ndim < 2) are not decayed."""
    trainable = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.AdamW([{"params": [p for p in trainable if p.ndim >= 2], "weight_decay": weight_decay},
                              {"params": [p for p in trainable if p.ndim < 2], "weight_decay": 0.0}],
                             lr=lr, betas=betas)


class Checkpoint:
    """A trainer's resumable state in one file, written atomically; valid only for a run whose
    stage settings match ``key`` (:func:`text3d.train.config.stage_key`) it was written with."""

    def __init__(self, path: Path | None, key: dict[str, Any], every: int, total: int, what: str,
                 cpu_start: float = 0.0) -> None:
        self.path, self.key, self.every, self.total, self.what = path, key, every, total, what
        # CPU-seconds the earlier, killed attempts had spent when they wrote the checkpoint this run resumes.
        self.earlier_cpu_s, self.cpu_start = 0.0, cpu_start
        # The step from which this model's loss-log rows are this run's to write (LossLog's ``start``):
        # the step resumed at; None after a checkpoint of other settings was set aside, whose run's
        # rows stay in the log with it.
        self.log_start: int | None = 0

    def cpu_seconds(self) -> float:
        """CPU-seconds of this training over all attempts: the earlier ones' up to the checkpoint
        resumed from, plus this process's since ``cpu_start`` (a :func:`cpu_seconds` reading). The
        earlier attempts' work past their last checkpoint is not counted."""
        return self.earlier_cpu_s + cpu_seconds() - self.cpu_start

    def load(self, device: torch.device | str = "cpu") -> dict[str, Any] | None:
        """The saved state when there is one written with this key (tensors on ``device``)."""
        if self.path is None or not self.path.exists():
            return None
        saved = torch.load(self.path, map_location=device, weights_only=False)
        if saved.get("key") == self.key:
            return saved
        # Set aside, not overwritten: the earlier run's steps stay there for a rerun with its settings.
        aside = self.path.with_name(f"{self.path.stem}.other-settings{self.path.suffix}")
        os.replace(self.path, aside)
        self.log_start = None
        old = saved.get("key") or {}
        differs = sorted(k for k in set(old) | set(self.key) if old.get(k) != self.key.get(k))
        log.warning("%s was written with other settings (%s differ; its %s steps are kept as %s); training the "
                    "%s from the start", self.path, ", ".join(differs[:4]) or "?", saved.get("step", "?"), aside.name,
                    self.what)
        return None

    def restore(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, rng: np.random.Generator,
                device: torch.device | str = "cpu") -> tuple[int, dict[str, Any] | None]:
        """Load a matching saved state into ``model``, ``optimizer`` and ``rng``: (first step to run,
        the saved dict for any further state), or (0, None) when there is none."""
        saved = self.load(device)
        if saved is None:
            return 0, None
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        rng.bit_generator.state = saved["rng"]
        step = int(saved["step"])
        self.earlier_cpu_s = float(saved.get("cpu_s", 0.0))
        self.log_start = step
        log.info("resuming the %s at step %d from %s", self.what, step, self.path)
        return step, saved

    def save_after(self, done: int, state: Callable[[], dict[str, Any]]) -> None:
        """Save ``state()`` when ``done`` steps end a checkpoint interval (not after the last step)."""
        if self.path is not None and done % self.every == 0 and done < self.total:
            saved = {"key": self.key, "step": done, "cpu_s": self.cpu_seconds(), **state()}
            write_atomic(self.path, lambda handle: torch.save(saved, handle))

    def remove(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)
