"""JSON over HTTP for the LLM server backends: a total deadline, bounded retries, one-line errors.

Every caption has one deadline over all its tries (``timeout_s``, default 60 s): a server
that accepts the connection and never answers costs at most that long, not a timeout per
try. While waiting, a status line shows the seconds spent (on a terminal). Transient
failures — a timeout, an HTTP 5xx, a body that is not a JSON object — are retried
``retries`` times with exponential backoff; then the prompt fails with a
:class:`~text3d.errors.BackendError` naming the server and the problem. A refused connection
is not retried: it raises :class:`~text3d.prompts.base.BackendUnavailableError` at once, so
a batch stops instead of failing every prompt against a server that is down. HTTP 4xx
answers raise :class:`HTTPStatusError` with the server's own error message.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import httpx

from text3d.errors import BackendError, InputError, one_line
from text3d.progress import waiting
from text3d.prompts.base import BackendUnavailableError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 60.0
CONNECT_TIMEOUT_S = 5.0


def timeout_from_env(timeout_s: float | None) -> float:
    """Seconds per caption over all tries: ``timeout_s`` if given, else ``$TEXT3D_LLM_TIMEOUT``, else 60 s."""
    if timeout_s is not None:
        return timeout_s
    text = os.environ.get("TEXT3D_LLM_TIMEOUT", "")
    if not text:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"TEXT3D_LLM_TIMEOUT={text!r}: not a number of seconds") from None
    if value <= 0:
        raise InputError(f"TEXT3D_LLM_TIMEOUT={text!r}: must be positive")
    return value


class HTTPStatusError(BackendError):
    """The server answered with an HTTP error status; ``status`` and ``detail`` say which."""

    def __init__(self, message: str, status: int, detail: str) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


def error_detail(response: httpx.Response) -> str:
    """The server's message from ``{"error": "…"}``, ``{"error": {"message": …}}`` or ``{"detail": …}``."""
    try:
        body = response.json()
    except ValueError:
        return one_line(response.text, 200) or response.reason_phrase
    if isinstance(body, dict):
        error = body.get("error", body.get("detail"))
        if isinstance(error, dict):
            error = error.get("message", error)
        if error:
            return one_line(str(error), 200)
    return one_line(response.text, 200)


def is_loopback(url: str) -> bool:
    """True for localhost / 127.0.0.0/8 / ::1 URLs (never sent through an HTTP proxy)."""
    host = (httpx.URL(url).host or "").lower()
    return host == "localhost" or host.startswith("127.") or host in ("::1", "[::1]")


class JSONClient:
    """POSTs JSON to one server and returns the decoded JSON object."""

    def __init__(self, base_url: str, label: str, timeout_s: float = DEFAULT_TIMEOUT_S, retries: int = 2,
                 backoff_s: float = 0.5, headers: dict[str, str] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.label = label
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s, connect=min(CONNECT_TIMEOUT_S, timeout_s)),
            headers=dict(headers or {}), trust_env=not is_loopback(self.base_url))

    def post(self, path: str, body: dict[str, Any], deadline: float | None = None) -> dict[str, Any]:
        """POST ``body`` to ``base_url + path`` before ``deadline`` (``time.monotonic()`` seconds;
        default now + ``timeout_s``); see the module docstring for the failure policy."""

        url = self.base_url + path
        deadline = deadline if deadline is not None else time.monotonic() + self.timeout_s
        problem = ""
        tries = 0
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(max(0.0, min(self.backoff_s * 2 ** (attempt - 1), deadline - time.monotonic())))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                problem = f"no answer within the deadline of {self.timeout_s:g} s"
                break
            tries += 1
            try:
                with waiting(f"waiting for the {self.label} at {self.base_url}", remaining):
                    response = self._post_before(url, body, deadline)
            except httpx.ConnectError as exc:
                raise BackendUnavailableError(
                    f"{self.label} at {self.base_url} is not reachable ({one_line(str(exc), 120)}); "
                    "is the server running?") from None
            except httpx.TimeoutException:
                problem = f"no answer within the deadline of {self.timeout_s:g} s"
                log.info("%s: %s (try %d)", self.label, problem, attempt + 1)
                continue
            except httpx.HTTPError as exc:
                problem = f"transport error: {one_line(str(exc), 120) or type(exc).__name__}"
                continue
            if response.status_code >= 500:
                problem = f"HTTP {response.status_code}: {error_detail(response)}"
                log.info("%s: %s (try %d)", self.label, problem, attempt + 1)
                continue
            if response.status_code >= 400:
                detail = error_detail(response)
                raise HTTPStatusError(f"{self.label} at {url}: HTTP {response.status_code}: {detail}",
                                      response.status_code, detail)
            try:
                data = response.json()
            except ValueError:
                problem = "malformed JSON in the response"
                continue
            if not isinstance(data, dict):
                problem = "malformed response: not a JSON object"
                continue
            return data
        raise BackendError(f"{self.label} at {url}: {problem} ({tries} tr{'ies' if tries != 1 else 'y'}; "
                           "--timeout or TEXT3D_LLM_TIMEOUT sets the deadline)")

    def _post_before(self, url: str, body: dict[str, Any], deadline: float) -> httpx.Response:
        """One POST whose whole answer arrives before ``deadline``. httpx's timeout bounds each read,
        so a server that keeps sending a byte at a time would hold it for ever: the body is read in
        chunks and the deadline checked after each."""
        remaining = deadline - time.monotonic()
        timeout = httpx.Timeout(remaining, connect=min(CONNECT_TIMEOUT_S, remaining))
        with self._client.stream("POST", url, json=body, timeout=timeout) as streamed:
            chunks = []
            for chunk in streamed.iter_bytes():
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("the deadline passed while the answer was arriving")
            return httpx.Response(streamed.status_code, headers=streamed.headers, content=b"".join(chunks),
                                  request=streamed.request)

    def close(self) -> None:
        self._client.close()


def int_or_none(value: object) -> int | None:
    """``value`` as an int when the server sent a number, else ``None``."""
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
