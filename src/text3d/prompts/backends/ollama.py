"""``ollama:<tag>``: Ollama's chat API (``POST /api/chat``), as the LLM-augmentation study
(Kim et al.) ran its LLMs.

Request: ``{"model", "messages", "stream": false, "think": false, "options": {"temperature",
"seed", "num_predict"}}``. Response: ``message.content`` (``message.thinking`` holds the
reasoning when the server separates it), ``prompt_eval_count`` and ``eval_count`` for the
token counts, ``done``. ``think: false`` switches thinking off where the model supports it
(Qwen3, DeepSeek-R1); servers that reject the field for a model (HTTP 400 naming "think")
are asked again without it, and the rules strip any ``<think>`` block the model still writes.

The server is ``$OLLAMA_HOST`` (``host``, ``host:port``, ``:port`` or a full URL; default
``http://127.0.0.1:11434``), as Ollama's own clients read it.
"""

from __future__ import annotations

import os
from typing import Any

from text3d.errors import BackendError, InputError
from text3d.prompts.backends._http import HTTPStatusError, JSONClient, int_or_none, timeout_from_env
from text3d.prompts.base import AugmentRequest, Completion, augmenters

DEFAULT_PORT = 11434


def ollama_base_url(host: str | None) -> str:
    """The base URL for an ``OLLAMA_HOST`` value (``None`` or empty: ``http://127.0.0.1:11434``)."""
    text = (host or "").strip().rstrip("/")
    if not text:
        return f"http://127.0.0.1:{DEFAULT_PORT}"
    scheme = "http"
    if "://" in text:
        scheme, text = text.split("://", 1)
    text, _, path = text.partition("/")
    default_port = 443 if scheme == "https" else DEFAULT_PORT
    if text.startswith("["):  # [::1]:11434
        address, _, rest = text[1:].partition("]")
        name, port = f"[{address}]", rest.lstrip(":") or str(default_port)
    elif text.count(":") == 1:
        name, port = text.split(":")
        port = port or str(default_port)
    else:
        name, port = text, str(default_port)
    if name in ("", "0.0.0.0"):  # a listen address: connect to this machine
        name = "127.0.0.1"
    if not port.isdigit():
        raise InputError(f"OLLAMA_HOST={host!r}: the port {port!r} is not a number")
    return f"{scheme}://{name}:{port}" + (f"/{path}" if path else "")


@augmenters.register("ollama")
class OllamaAugmenter:
    """A model served by Ollama, e.g. ``ollama:qwen3:0.6b`` or ``ollama:gemma3:27b-it-q8_0``."""

    backend = "ollama"
    cacheable = True
    identity = False

    def __init__(self, model: str = "", base_url: str | None = None, timeout_s: float | None = None,
                 http_retries: int = 2, backoff_s: float = 0.5) -> None:
        if not model:
            raise InputError("--llm ollama needs a model tag, e.g. ollama:qwen3:0.6b")
        self.model = model
        self.base_url = base_url or ollama_base_url(os.environ.get("OLLAMA_HOST"))
        timeout = timeout_from_env(timeout_s)
        self.timeout_s = timeout
        self.endpoint = self.base_url
        self._client = JSONClient(self.base_url, "ollama server", timeout, http_retries, backoff_s)
        self._send_think = True

    def request_body(self, request: AugmentRequest) -> dict[str, Any]:
        """The ``/api/chat`` body for ``request`` (seed + attempt, so a retry samples anew)."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(m) for m in request.messages],
            "stream": False,
            "options": {"temperature": request.params.temperature, "seed": request.seed + request.attempt,
                        "num_predict": request.params.max_tokens},
        }
        if self._send_think:
            body["think"] = False
        return body

    def propose(self, request: AugmentRequest) -> Completion:
        """One chat completion; raises BackendError with the server's message on failure."""
        try:
            data = self._client.post("/api/chat", self.request_body(request), request.deadline)
        except HTTPStatusError as exc:
            if exc.status == 400 and "think" in exc.detail.lower() and self._send_think:
                self._send_think = False
                data = self._client.post("/api/chat", self.request_body(request), request.deadline)
            elif exc.status == 404 and "not found" in exc.detail.lower():
                raise BackendError(f"ollama server at {self.base_url}: model {self.model!r} not found "
                                   f"(pull it with: ollama pull {self.model})") from None
            else:
                raise
        message = data.get("message")
        if not isinstance(message, dict) or not isinstance(message.get("content", ""), str):
            raise BackendError(f"ollama server at {self.base_url}: malformed response (no message.content)")
        thinking = message.get("thinking")
        return Completion(
            text=message.get("content") or "",
            prompt_tokens=int_or_none(data.get("prompt_eval_count")),
            completion_tokens=int_or_none(data.get("eval_count")),
            reasoning=thinking if isinstance(thinking, str) else "",
            model=str(data.get("model", self.model)),
        )
