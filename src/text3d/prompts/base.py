"""The augmentation stage's small protocol: backend specs, requests, completions, results.

A *backend* (one file in :mod:`text3d.prompts.backends`, or the embedded augmenter's
:mod:`text3d.prompts.embedded.augmenter`, registered in :data:`augmenters`)
turns one :class:`AugmentRequest` into one raw :class:`Completion`. Everything shared by all
backends — the caption rules, retries, the cache, accounting — lives in
:mod:`text3d.prompts.augment`, which turns a short prompt into an :class:`AugmentResult`.

Backends are named as the LLM-augmentation study (Kim et al.) names its models: ``ollama:qwen3:0.6b`` is backend
``ollama`` with model ``qwen3:0.6b`` (everything after the first colon is the model).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Protocol, runtime_checkable

from text3d.errors import BackendError, InputError
from text3d.registry import Registry


class BackendUnavailableError(BackendError):
    """The backend cannot be reached at all (server down): a batch stops instead of failing every prompt."""


@dataclass(frozen=True)
class BackendSpec:
    """A parsed ``--llm`` value: backend name and model (``""`` when the backend has a default)."""

    backend: str
    model: str

    def __str__(self) -> str:
        return f"{self.backend}:{self.model}" if self.model else self.backend


def parse_llm_spec(spec: str, option: str = "--llm") -> BackendSpec:
    """Split ``"ollama:qwen3:0.6b"`` into backend ``ollama`` and model ``qwen3:0.6b``; errors name
    ``option``, the command-line option the spec came from."""
    text = spec.strip()
    if not text:
        raise InputError(f"{option} is empty: use embedded, none, llamacpp:smollm2:135m, ollama:qwen3:0.6b, "
                         "openai:MODEL or hf:REPO")
    backend, _, model = text.partition(":")
    backend = backend.strip().lower()
    if not backend:
        raise InputError(f"{option} {spec!r}: the backend name before ':' is missing")
    return BackendSpec(backend, model.strip())


@dataclass(frozen=True)
class GenerationParams:
    """Sampling parameters sent to every LLM backend (part of the cache key)."""

    temperature: float = 0.7
    max_tokens: int = 1024  # room for reasoning models that cannot switch thinking off
    max_retries: int = 2
    max_words: int = 40

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AugmentRequest:
    """One call to a backend: the user's prompt, the chat messages built for it, the seed."""

    prompt: str
    messages: tuple[dict[str, str], ...]
    seed: int
    attempt: int
    params: GenerationParams
    deadline: float | None = None  # time.monotonic() by which the whole caption must be answered


@dataclass
class Completion:
    """A backend's raw answer and its token accounting (``None`` when the server does not say)."""

    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning: str = ""  # reasoning a server returned apart from the content; never used as caption
    model: str = ""  # the model name the server reports, when it reports one


@runtime_checkable
class Augmenter(Protocol):
    """A backend that proposes one caption for one request.

    ``backend`` and ``model`` name it in results; ``cacheable`` says whether results are
    worth caching (a remote or neural model) and ``identity`` marks the ``none`` baseline,
    whose output is the prompt and is neither cleaned nor retried.

    Server backends also have ``endpoint`` (the URL they call: part of the cache key, so a
    caption of one server is never served for another) and ``timeout_s`` (the seconds one
    caption may take over all tries); a request's ``deadline`` is that budget's end.
    """

    backend: str
    model: str
    cacheable: bool
    identity: bool

    def propose(self, request: AugmentRequest) -> Completion:
        """Return the backend's raw output for ``request``; raise a Text3DError on failure."""
        ...


augmenters: Registry[Augmenter] = Registry("augmenter", ("text3d.prompts.backends", "text3d.prompts.embedded"))
"""``--llm`` backend name → augmenter class (``embedded``, ``none``, ``ollama``, ``openai``, ``hf``)."""


@dataclass
class AugmentResult:
    """The outcome of augmenting one prompt; ``caption`` is ``None`` exactly when ``error`` is set.

    ``latency_s`` is the time the backend took over all attempts (for a cache hit, that of the
    original generation; ``cached`` says so); token counts are summed over attempts and are
    ``None`` when no language model ran or the server did not report them; ``retries`` counts
    attempts after the first; ``violations`` lists what the kept caption still breaks and
    ``repairs`` what the rules changed on the way (reasoning removed, trimmed, …).
    """

    prompt: str
    caption: str | None
    backend: str
    model: str
    seed: int
    latency_s: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    retries: int = 0
    rules_passed: bool = False
    violations: list[str] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    cached: bool = False
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the row format of batch output files)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AugmentResult:
        """Rebuild a result from :meth:`to_dict` output, ignoring unknown keys."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})
