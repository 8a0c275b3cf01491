"""``text3d serve``: the REST service (FastAPI + uvicorn), OpenAPI at ``/docs``."""

from __future__ import annotations

from pathlib import Path

import typer

from text3d.limits import MAX_ITEMS, MAX_WORKERS


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

    store = JobStore(data, workers=workers, queue_size=queue_size, max_batch=max_batch)
    store.start()  # a bad or busy --data fails here in one line, before the port opens
    app = create_app(store, token=token or None, cors_origins=tuple(cors_origin or ()))
    typer.echo(f"text3d serve: jobs in {data}, API docs at http://{host}:{port}/docs", err=True)
    uvicorn.run(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=10)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
