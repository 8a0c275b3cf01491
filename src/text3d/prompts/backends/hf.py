"""``hf:<repo-or-path>``: a local transformers causal LM driven through its chat template.

The model and tokenizer load with ``AutoTokenizer`` / ``AutoModelForCausalLM.from_pretrained``
(a Hub repo id or a local folder; set ``HF_HUB_OFFLINE=1`` to forbid downloads) once per
process and device. Prompts are rendered with the tokenizer's chat template and
``add_generation_prompt=True, enable_thinking=False`` — Qwen3's templates then open an empty
think block, other templates ignore the flag. Sampling is seeded (seed + attempt) inside a
forked RNG so the caller's random state is untouched; temperature 0 decodes greedily.
Heavy imports stay inside functions.

``hf:toyworld-lm:s`` (``m``, ``l``) names the toyworld caption LMs shipped in the package
(``text3d/weights/toyworld-lm-<size>``, trained by ``text3d train lm``); any other name is passed
to transformers unchanged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from text3d.device import resolve_device
from text3d.errors import InputError, ModelNotAvailableError, one_line
from text3d.progress import progress_enabled
from text3d.prompts.base import AugmentRequest, Completion, augmenters

log = logging.getLogger(__name__)

SHIPPED_PREFIX = "toyworld-lm:"
"""``hf:toyworld-lm:<size>`` → the shipped folder ``weights/toyworld-lm-<size>``."""
_LOADED: dict[tuple[str, str], tuple[Any, Any]] = {}


def model_source(name: str) -> str:
    """What transformers loads for ``name``: a shipped toyworld LM's folder, else ``name`` itself,
    checked offline (a local folder that exists, or a hub id already in the local cache)."""
    if not name.startswith(SHIPPED_PREFIX):
        path = Path(name).expanduser()
        if name.startswith((".", "/", "~")) or path.exists():
            if not (path / "config.json").is_file():
                raise ModelNotAvailableError(f"hf:{name}: no such model folder (a folder with config.json)")
            return str(path)
        from huggingface_hub import try_to_load_from_cache

        if not isinstance(try_to_load_from_cache(name, "config.json"), str):
            raise ModelNotAvailableError(f"hf:{name}: not in the local Hugging Face cache, and text3d does not "
                                         f"download at run time; download it first (hf download {name}) or give "
                                         "a local folder")
        return name
    from text3d.nn.checkpoint import WEIGHTS_ROOT

    size = name[len(SHIPPED_PREFIX):]
    folder = WEIGHTS_ROOT / f"toyworld-lm-{size}"
    if not size or "/" in size or not (folder / "config.json").exists():
        shipped = sorted(p.name.removeprefix("toyworld-lm-") for p in WEIGHTS_ROOT.glob("toyworld-lm-*"))
        raise ModelNotAvailableError(f"hf:{name}: no shipped toyworld LM of that size (shipped: "
                                     f"{', '.join(shipped) or 'none'})")
    return str(folder)
_LOAD_LOCK = threading.Lock()


def load_chat_model(name: str, device: str | None = None) -> tuple[Any, Any]:
    """(tokenizer, model) for ``name`` on ``device``, loaded once per process."""

    torch_device = resolve_device(device)
    key = (name, str(torch_device))
    with _LOAD_LOCK:
        if key not in _LOADED:
            from transformers import AutoModelForCausalLM, AutoTokenizer

            if not progress_enabled():  # transformers' own "Loading weights" bar follows TEXT3D_PROGRESS too
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
            source = model_source(name)
            try:
                tokenizer = AutoTokenizer.from_pretrained(source)
                model = AutoModelForCausalLM.from_pretrained(source, dtype="auto")
            except (OSError, ValueError, KeyError) as exc:
                raise ModelNotAvailableError(
                    f"hf:{name}: cannot load the model ({one_line(str(exc), 160)})") from None
            if not getattr(tokenizer, "chat_template", None):
                raise ModelNotAvailableError(f"hf:{name}: the tokenizer has no chat template; use an "
                                             "instruction-tuned (chat) model")
            model.to(torch_device).eval()
            log.info("loaded hf:%s on %s", name, torch_device)
            _LOADED[key] = (tokenizer, model)
        return _LOADED[key]


@augmenters.register("hf")
class HFAugmenter:
    """A chat model run in-process with transformers, e.g. ``hf:Qwen/Qwen3-0.6B`` or ``hf:/models/qwen3``."""

    backend = "hf"
    cacheable = True
    identity = False
    check_model = staticmethod(model_source)  # a shipped size, a local folder or a cached hub id; loads nothing

    def __init__(self, model: str = "", device: str | None = None) -> None:
        if not model:
            raise InputError("--llm hf needs a model repo or folder, e.g. hf:Qwen/Qwen3-0.6B")
        self.model = model
        self.device = device

    def warm_up(self) -> None:
        """Load the tokenizer and model (done once per process)."""
        load_chat_model(self.model, self.device)

    def render_chat(self, messages: Sequence[dict[str, str]]) -> str:
        """The chat-template text the model reads (thinking switched off where the template can)."""
        tokenizer, _ = load_chat_model(self.model, self.device)
        return tokenizer.apply_chat_template([dict(m) for m in messages], tokenize=False,
                                             add_generation_prompt=True, enable_thinking=False)

    def propose(self, request: AugmentRequest) -> Completion:
        """Generate one answer with seeded sampling; counts prompt and completion tokens."""
        import torch

        tokenizer, model = load_chat_model(self.model, self.device)
        text = self.render_chat(request.messages)
        inputs = tokenizer(text, return_tensors="pt", add_special_tokens=False).to(model.device)
        prompt_length = int(inputs["input_ids"].shape[1])
        params = request.params
        sample = params.temperature > 0
        options: dict[str, Any] = {"max_new_tokens": params.max_tokens, "do_sample": sample}
        if sample:
            options["temperature"] = params.temperature
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        devices = [model.device.index or 0] if model.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), torch.inference_mode():
            torch.manual_seed(request.seed + request.attempt)
            output = model.generate(**inputs, pad_token_id=pad, **options)
        new_tokens = output[0, prompt_length:]
        stop_ids = {i for i in (tokenizer.eos_token_id, pad) if i is not None}
        completion_length = sum(1 for token in new_tokens.tolist() if token not in stop_ids)
        answer = tokenizer.decode(new_tokens, skip_special_tokens=True)
        return Completion(text=answer, prompt_tokens=prompt_length, completion_tokens=completion_length,
                          model=self.model)
