"""``text3d serve``: the REST service (FastAPI + uvicorn), OpenAPI at ``/docs``."""

from __future__ import annotations

import errno
import socket
from pathlib import Path
from typing import Any

import typer

from text3d.errors import InputError
from text3d.limits import MAX_ITEMS, MAX_WORKERS


def bind_listener(host: str, port: int) -> socket.socket:
    """A socket bound to (``host``, ``port``) as uvicorn binds one (SO_REUSEADDR), for uvicorn to
    serve on; a name that does not resolve, an address not of this machine or a port in use is
    refused in one line before anything is printed."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError):
        raise InputError(f"--host {host}: not a local address or resolvable name") from None
    family, kind, proto, _, address = found[0]
    listener = socket.socket(family, kind, proto)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
    except OSError as exc:
        listener.close()
        where = _address_text(address[0], port)
        if exc.errno == errno.EADDRINUSE:
            raise InputError(f"--port {port}: address {where} is already in use") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise InputError(f"--host {host}: not a local address or resolvable name") from None
        if exc.errno == errno.EACCES:
            raise InputError(f"--port {port}: no permission to listen on {where} "
                             "(ports below 1024 need privileges)") from None
        raise InputError(f"--host {host} --port {port}: cannot listen on {where}: {exc.strerror}") from None
    listener.set_inheritable(True)
    return listener


def check_origin(origin: str) -> str:
    """``origin`` as a browser sends it in the Origin header (``scheme://host[:port]``, or ``*``: any), else
    a one-line error: an origin written with a path or a trailing slash would never match a request."""
    from urllib.parse import urlsplit

    if origin == "*":
        return origin
    try:
        parts = urlsplit(origin)
        parts.port  # noqa: B018 (raises on a port that is not a number in range)
    except ValueError as error:
        raise InputError(f"--cors-origin {origin!r}: {error}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query \
            or parts.fragment or "@" in parts.netloc:
        raise InputError(f"--cors-origin {origin!r}: an origin is scheme://host[:port] with nothing after it, as "
                         "browsers send it (e.g. http://localhost:3000), or * for any")
    return origin


def _address_text(host: str, port: int) -> str:
    """``host:port``, with an IPv6 address in brackets as a URL writes it."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port to listen on (0: any free port)."),
    workers: int = typer.Option(1, "--workers", min=1, max=MAX_WORKERS, help="Jobs that run at the same time."),
    queue_size: int = typer.Option(16, "--queue-size", min=1, max=MAX_ITEMS,
                                   help="Jobs that may wait; one more is refused with 429 and Retry-After."),
    max_batch: int = typer.Option(100, "--max-batch", min=1, max=MAX_ITEMS, help="Most prompts of one job."),
    token: str = typer.Option(None, "--token", envvar="TEXT3D_SERVE_TOKEN",
                              help="Require 'Authorization: Bearer TOKEN' on /v1/jobs (or set TEXT3D_SERVE_TOKEN)."),
    data: Path = typer.Option(Path("text3d-serve"), "--data",
                              help="Folder of the jobs (one run folder each); a restarted service resumes them."),
    cors_origin: list[str] = typer.Option(None, "--cors-origin",
                                          help="Origin allowed to call the API from a browser (repeatable; "
                                               "none by default)."),
) -> None:
    """Serve text-to-3D jobs over HTTP: POST /v1/jobs, GET /v1/jobs/{id}, files, events."""
    import uvicorn

    from text3d.serve.app import create_app
    from text3d.serve.jobs import JobStore

    if token and not (token.isascii() and token.isprintable() and " " not in token):
        # a header carries ASCII (servers decode it as latin-1): no request could ever present this token
        raise InputError("--token: use visible ASCII characters without spaces (no HTTP request could send "
                         "this one)")
    origins = tuple(check_origin(origin) for origin in cors_origin or ())
    listener = bind_listener(host, port)  # a bad --host or a busy --port fails here, in one line
    with listener:
        store = JobStore(data, workers=workers, queue_size=queue_size, max_batch=max_batch)
        store.start()  # a bad or busy --data fails here in one line, before the port opens
        app = create_app(store, token=token or None, cors_origins=origins)
        bound_host, bound_port = listener.getsockname()[:2]  # the real port of --port 0
        typer.echo(f"text3d serve: jobs in {data}, API docs at http://{_address_text(bound_host, bound_port)}/docs",
                   err=True)
        config = uvicorn.Config(app, host=bound_host, port=bound_port, log_level="info", timeout_graceful_shutdown=10)
        server = _stoppable_server(config, app)
        server.run(sockets=[listener])
    if not server.started:  # uvicorn has logged why (a failed lifespan start-up); its exit code, as uvicorn.run
        raise typer.Exit(3)


def _stoppable_server(config: Any, app: Any) -> Any:
    """A uvicorn server that, told to stop (SIGTERM, Ctrl-C), first ends the open event streams:
    uvicorn waits for open connections, so a follower of ``/events`` held the shutdown for the whole
    graceful timeout and ended it with a cancelled-task traceback."""
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            app.state.shutting_down = True
            super().handle_exit(sig, frame)

    return Server(config)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
