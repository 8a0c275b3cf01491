"""The service's request and response bodies (pydantic models, shown at ``/docs``).

Value ranges come from :mod:`text3d.limits`, so the API refuses what the CLI refuses; the
checks that need text3d's own rules (prompt words, backend names, seeds of a batch) run in
:func:`text3d.serve.requests.check_request` and answer with the same one-line messages.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from text3d.limits import (
    MAX_CANDIDATES,
    MAX_CFG,
    MAX_RESOLUTION,
    MAX_SEED,
    MAX_STEPS,
    MAX_TIMEOUT_S,
    MIN_RESOLUTION,
)

JobState = Literal["queued", "running", "done", "failed", "cancelled"]
"""``done``: the batch ran to its end (an item may still have failed: see its row);
``failed``: the job could not run (``error`` says why); ``cancelled``: ``DELETE`` stopped it."""

ItemState = Literal["pending", "running", "done", "failed", "skipped"]
"""``skipped``: the job ended (failed or cancelled) before the item ran."""


class JobOptions(BaseModel):
    """Generation and rendering settings of every item of a job (backend defaults when omitted)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    steps: int | None = Field(None, ge=1, le=MAX_STEPS, description="Sampling steps.")
    cfg: float | None = Field(None, ge=0.0, le=MAX_CFG, allow_inf_nan=False, description="Guidance weight.")
    candidates: int | None = Field(None, ge=1, le=MAX_CANDIDATES,
                                   description="Best-of-K of the embedded backend (others refuse it).")
    resolution: int = Field(512, ge=MIN_RESOLUTION, le=MAX_RESOLUTION, description="Size of the rendered views.")
    views: list[str] = Field(default_factory=lambda: ["canonical4"], max_length=4,
                             description="View protocols to render (canonical4, clip8, depth20, turntable).")
    gif: bool = Field(True, description="Write turntable.gif for every item.")
    timeout_s: float | None = Field(None, gt=0.0, le=MAX_TIMEOUT_S, allow_inf_nan=False,
                                    description="Seconds an LLM augmenter may take per caption.")


class JobRequest(BaseModel):
    """``POST /v1/jobs``: one prompt or a list of prompts (item ``k`` uses ``seed + k``)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    prompt: str | None = Field(None, examples=["small blue sailboat"])
    prompts: list[str] | None = Field(None, min_length=1, examples=[["red chair", "wooden table"]])
    augment: str = Field("embedded", max_length=200, description="embedded, none, ollama:TAG, openai:MODEL, hf:REPO.")
    backend: str = Field("embedded", max_length=100, description="embedded, procedural, trellis-text, …")
    seed: int = Field(0, ge=0, le=MAX_SEED)
    options: JobOptions = Field(default_factory=JobOptions)

    @model_validator(mode="after")
    def _one_kind_of_prompt(self) -> JobRequest:
        if (self.prompt is None) == (self.prompts is None):
            raise ValueError("give either 'prompt' or 'prompts'")
        return self

    def prompt_list(self) -> list[str]:
        """The prompts of the job, in item order."""
        return [self.prompt] if self.prompt is not None else list(self.prompts or [])


class Progress(BaseModel):
    """Counts of a job's items by state."""

    total: int
    done: int
    failed: int
    pending: int  # not started yet
    skipped: int = 0
    running: int = 0  # the item a worker is on (0 or 1: a job's items run in order)


class JobItem(BaseModel):
    """One item (prompt) of a job; its files are under ``/v1/jobs/{id}/items/{index}/``."""

    index: int
    prompt: str
    state: ItemState
    caption: str | None = None
    error: str | None = None
    seconds: dict[str, float] = Field(default_factory=dict, description="Seconds per stage (augment, generate, …).")
    files: list[str] = Field(default_factory=list, description="Paths of the item's files, relative to the item.")
    warnings: list[str] = Field(default_factory=list,
                                description="What the generator said about the item (a prompt it read loosely).")


class JobSummary(BaseModel):
    """A job without its items (``GET /v1/jobs``)."""

    id: str
    state: JobState
    created: str
    started: str | None = None
    finished: str | None = None
    backend: str
    augment: str
    progress: Progress
    error: str | None = None
    retries: int = Field(0, description="Times the job's worker process was killed (a signal, out of memory) and "
                                        "the job ran again from its finished items; at most once.")


class JobStatus(JobSummary):
    """``GET /v1/jobs/{id}``: the job, its request and every item."""

    request: JobRequest
    items: list[JobItem]


class JobAccepted(BaseModel):
    """``202`` answer of ``POST /v1/jobs``."""

    id: str
    state: JobState
    url: str


class JobList(BaseModel):
    jobs: list[JobSummary]


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str
    workers: int
    queue_size: int
    queued: int
    running: int
