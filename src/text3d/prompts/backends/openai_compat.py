"""``openai:<model>``: any OpenAI-compatible chat server (vLLM, llama.cpp's server, LM Studio, …).

Request: ``POST {base}/chat/completions`` with ``{"model", "messages", "temperature", "seed",
"max_tokens", "stream": false}`` plus ``chat_template_kwargs: {"enable_thinking": false}``,
which vLLM and llama.cpp's server pass to the chat template to switch Qwen3's thinking off;
a server that rejects that field (HTTP 400) is asked again without it. Response:
``choices[0].message.content`` and ``usage.prompt_tokens`` / ``usage.completion_tokens``.
Reasoning may come inside the content (``<think>…</think>``, stripped by the rules) or in a
separate ``reasoning_content`` / ``reasoning`` field, which is recorded and never used as
the caption.

The server is ``$OPENAI_BASE_URL`` (default ``http://localhost:8000/v1``, vLLM's default);
``$OPENAI_API_KEY`` is sent as a bearer token when set (local servers need none).
"""

from __future__ import annotations

import os
from typing import Any

from text3d.errors import BackendError, InputError
from text3d.prompts.backends._http import HTTPStatusError, JSONClient, int_or_none, timeout_from_env
from text3d.prompts.base import AugmentRequest, Completion, augmenters

DEFAULT_BASE_URL = "http://localhost:8000/v1"


@augmenters.register("openai")
class OpenAICompatibleAugmenter:
    """A model behind an OpenAI-compatible ``/v1/chat/completions`` endpoint."""

    backend = "openai"
    cacheable = True
    identity = False

    def __init__(self, model: str = "", base_url: str | None = None, api_key: str | None = None,
                 timeout_s: float | None = None, http_retries: int = 2, backoff_s: float = 0.5) -> None:
        if not model:
            raise InputError("--llm openai needs a model name, e.g. openai:Qwen/Qwen3-0.6B")
        self.model = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY", "")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        timeout = timeout_from_env(timeout_s)
        self.timeout_s = timeout
        self.endpoint = self.base_url
        self._client = JSONClient(self.base_url, "OpenAI-compatible server", timeout, http_retries, backoff_s,
                                  headers)
        self._send_template_kwargs = True
        self._label = f"OpenAI-compatible server at {self.base_url}"

    def request_body(self, request: AugmentRequest) -> dict[str, Any]:
        """The ``/chat/completions`` body for ``request`` (seed + attempt, so a retry samples anew)."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(m) for m in request.messages],
            "temperature": request.params.temperature,
            "seed": request.seed + request.attempt,
            "max_tokens": request.params.max_tokens,
            "stream": False,
        }
        if self._send_template_kwargs:
            body["chat_template_kwargs"] = {"enable_thinking": False}
        return body

    def propose(self, request: AugmentRequest) -> Completion:
        """One chat completion; raises BackendError with the server's message on failure."""
        try:
            data = self._client.post("/chat/completions", self.request_body(request), request.deadline)
        except HTTPStatusError as exc:
            if exc.status not in (400, 422) or not self._send_template_kwargs:
                raise
            self._send_template_kwargs = False
            data = self._client.post("/chat/completions", self.request_body(request), request.deadline)
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise BackendError(f"{self._label}: malformed response (no choices)")
        message = choices[0].get("message")
        if not isinstance(message, dict):
            raise BackendError(f"{self._label}: malformed response (no message)")
        content = message.get("content")
        if content is not None and not isinstance(content, str):
            raise BackendError(f"{self._label}: malformed response (message.content is not text)")
        reasoning = message.get("reasoning_content") or message.get("reasoning") or ""
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        return Completion(
            text=content or "",
            prompt_tokens=int_or_none(usage.get("prompt_tokens")),
            completion_tokens=int_or_none(usage.get("completion_tokens")),
            reasoning=reasoning if isinstance(reasoning, str) else "",
            model=str(data.get("model", self.model)),
        )
