"""Local stand-ins for an Ollama server and an OpenAI-compatible server (127.0.0.1 only).

Each speaks its API as the official documentation gives it — request bodies are checked
field by field, responses have the documented shape — with a scripted "model": a list of
replies served in order (the last one repeats). A reply is a string (the answer text) or a
:class:`Reply` with an HTTP status, a raw body, reasoning, or a delay. Servers run in a
daemon thread, answer at most ``max_requests`` requests, and stop on ``close()``.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass
class Reply:
    """One scripted server answer."""

    content: str = ""
    status: int = 200
    raw_body: bytes | None = None  # sent as-is (malformed JSON, HTML error pages)
    error: str = ""  # the error message of a non-200 reply
    reasoning: str = ""  # Ollama message.thinking / OpenAI reasoning_content
    delay_s: float = 0.0
    drip_s: float = 0.0  # send the body a byte at a time, this long apart (a server that never finishes)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (a timeout test) closes the socket: not an error here."""
        import sys

        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class ApiViolation(Exception):
    """The client sent something the documented API does not accept."""


class FakeServer:
    """Base class: a bounded HTTP server on 127.0.0.1 with scripted replies."""

    path = "/"

    def __init__(self, replies: list[str | Reply], max_requests: int = 50) -> None:
        self.replies = [r if isinstance(r, Reply) else Reply(content=r) for r in replies]
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.violations: list[str] = []
        self.max_requests = max_requests
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                server._handle(self)

            def do_GET(self) -> None:
                self._send(405, b'{"error": "method not allowed"}')

            def _send(self, status: int, body: bytes, drip_s: float = 0.0) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not drip_s:
                    self.wfile.write(body)
                    return
                for i in range(len(body)):
                    self.wfile.write(body[i:i + 1])
                    self.wfile.flush()
                    time.sleep(drip_s)

            def log_message(self, *args: object) -> None:
                pass

        self._handler = Handler
        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self._httpd.timeout = 5
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def _next_reply(self) -> Reply:
        index = min(len(self.requests) - 1, len(self.replies) - 1)
        return self.replies[index]

    def _handle(self, handler: Any) -> None:
        if len(self.requests) >= self.max_requests:
            handler._send(503, b'{"error": "test server request limit reached"}')
            return
        length = int(handler.headers.get("Content-Length", "0"))
        raw = handler.rfile.read(length)
        self.headers.append({k.lower(): v for k, v in handler.headers.items()})
        body: Any = {}
        try:
            if handler.path != self.path:
                raise ApiViolation(f"unexpected path {handler.path}")
            if "application/json" not in handler.headers.get("Content-Type", ""):
                raise ApiViolation("Content-Type is not application/json")
            body = json.loads(raw)
            self.check(body)
        except (ApiViolation, json.JSONDecodeError) as exc:
            self.violations.append(str(exc))
            self.requests.append(body if isinstance(body, dict) else {})
            handler._send(400, json.dumps(self.error_body(str(exc))).encode())
            return
        self.requests.append(body)
        reply = self._next_reply()
        if reply.delay_s:
            time.sleep(reply.delay_s)
        if reply.raw_body is not None:
            handler._send(reply.status, reply.raw_body)
        elif reply.status != 200:
            handler._send(reply.status, json.dumps(self.error_body(reply.error or "error")).encode())
        else:
            handler._send(200, json.dumps(self.response_body(body, reply)).encode(), reply.drip_s)

    def check(self, body: dict[str, Any]) -> None:
        raise NotImplementedError

    def error_body(self, message: str) -> dict[str, Any]:
        raise NotImplementedError

    def response_body(self, request: dict[str, Any], reply: Reply) -> dict[str, Any]:
        raise NotImplementedError

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_messages(messages: object) -> None:
    if not isinstance(messages, list) or not messages:
        raise ApiViolation("messages must be a non-empty list")
    for message in messages:
        if not isinstance(message, dict) or set(message) - {"role", "content", "images", "tool_calls"}:
            raise ApiViolation(f"bad message {message!r}")
        if message.get("role") not in ("system", "user", "assistant", "tool"):
            raise ApiViolation(f"bad role {message.get('role')!r}")
        if not isinstance(message.get("content"), str):
            raise ApiViolation("message content must be a string")


def _words(text: str) -> int:
    return max(1, len(text.split()))


class FakeOllama(FakeServer):
    """``POST /api/chat`` as in Ollama's API reference (``stream: false``)."""

    path = "/api/chat"
    allowed = frozenset({"model", "messages", "stream", "think", "options", "format", "keep_alive", "tools"})

    def __init__(self, replies: list[str | Reply], reject_think: bool = False, **kwargs: Any) -> None:
        self.reject_think = reject_think
        super().__init__(replies, **kwargs)

    def check(self, body: dict[str, Any]) -> None:
        if set(body) - self.allowed:
            raise ApiViolation(f"unknown fields {sorted(set(body) - self.allowed)}")
        if not isinstance(body.get("model"), str) or not body["model"]:
            raise ApiViolation("model is required")
        _check_messages(body.get("messages"))
        if body.get("stream") is not False:
            raise ApiViolation("this test server only answers stream: false")
        if "think" in body and not isinstance(body["think"], bool):
            raise ApiViolation("think must be a boolean")
        if self.reject_think and "think" in body:
            raise ApiViolation(f'"{body["model"]}" does not support thinking')
        options = body.get("options", {})
        if not isinstance(options, dict) or set(options) - {"temperature", "seed", "num_predict", "top_p", "top_k"}:
            raise ApiViolation(f"bad options {options!r}")

    def error_body(self, message: str) -> dict[str, Any]:
        return {"error": message}

    def response_body(self, request: dict[str, Any], reply: Reply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.content}
        if reply.reasoning:
            message["thinking"] = reply.reasoning
        prompt_words = sum(_words(m["content"]) for m in request["messages"])
        return {
            "model": request["model"], "created_at": "2025-06-01T12:00:00.000000Z", "message": message,
            "done_reason": "stop", "done": True, "total_duration": 5191566416, "load_duration": 2154458,
            "prompt_eval_count": prompt_words, "prompt_eval_duration": 383809000,
            "eval_count": _words(reply.content), "eval_duration": 4799921000,
        }


class FakeOpenAI(FakeServer):
    """``POST /v1/chat/completions`` as in OpenAI's Chat Completions reference (non-streaming)."""

    path = "/v1/chat/completions"
    allowed = frozenset({"model", "messages", "temperature", "seed", "max_tokens", "max_completion_tokens",
                         "stream", "top_p", "stop", "n", "chat_template_kwargs"})

    def __init__(self, replies: list[str | Reply], reject_template_kwargs: bool = False,
                 api_key: str | None = None, reasoning_field: str = "reasoning_content", **kwargs: Any) -> None:
        self.reject_template_kwargs = reject_template_kwargs
        self.api_key = api_key
        self.reasoning_field = reasoning_field
        super().__init__(replies, **kwargs)

    def check(self, body: dict[str, Any]) -> None:
        allowed = self.allowed - ({"chat_template_kwargs"} if self.reject_template_kwargs else set())
        if set(body) - allowed:
            raise ApiViolation(f"Unrecognized request argument supplied: {min(set(body) - allowed)}")
        if not isinstance(body.get("model"), str):
            raise ApiViolation("model is required")
        _check_messages(body.get("messages"))
        if body.get("stream", False) is not False:
            raise ApiViolation("this test server only answers stream: false")
        for name, kind in (("temperature", (int, float)), ("seed", int), ("max_tokens", int)):
            if name in body and not isinstance(body[name], kind):
                raise ApiViolation(f"{name} has the wrong type")

    def _handle(self, handler: Any) -> None:
        if self.api_key is not None and handler.headers.get("Authorization") != f"Bearer {self.api_key}":
            length = int(handler.headers.get("Content-Length", "0"))
            handler.rfile.read(length)
            handler._send(401, json.dumps(self.error_body("Incorrect API key provided")).encode())
            return
        super()._handle(handler)

    def error_body(self, message: str) -> dict[str, Any]:
        return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}

    def response_body(self, request: dict[str, Any], reply: Reply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.content}
        if reply.reasoning:
            message[self.reasoning_field] = reply.reasoning
        prompt_tokens = sum(_words(m["content"]) for m in request["messages"])
        completion_tokens = _words(reply.content)
        return {
            "id": "chatcmpl-test", "object": "chat.completion", "created": 1735689600, "model": request["model"],
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        }


def closed_port_url() -> str:
    """A 127.0.0.1 URL on which nothing listens (connection refused)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
