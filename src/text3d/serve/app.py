"""The REST service: ``create_app(store)`` → a FastAPI app over a :class:`~text3d.serve.jobs.JobStore`.

Endpoints (OpenAPI at ``/docs``)::

    POST   /v1/jobs                                   202 {id, state, url}; 429 + Retry-After when the queue is full
    GET    /v1/jobs                                   every job, newest first
    GET    /v1/jobs/{id}                              state, per-item progress, seconds per stage, captions, errors
    GET    /v1/jobs/{id}/events                       the same as server-sent events until the job ends
    DELETE /v1/jobs/{id}                              cancel (finished items stay)
    GET    /v1/jobs/{id}/items/{k}/asset.glb          likewise turntable.gif, meta.json, views/<protocol>/<file>
    GET    /v1/health
    GET    /  and  /v1/jobs/{id}/gallery, /report …   the web app (text3d.serve.web)

Refusals are 4xx with ``{"detail": "<one line naming the input and the problem>"}``. With a
token every ``/v1/jobs`` endpoint needs ``Authorization: Bearer <token>``; cross-origin
requests are refused unless origins are allowed.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from text3d.errors import Text3DError, one_line
from text3d.serve.jobs import FINISHED, JobConflict, JobNotFound, JobStore, QueueFull
from text3d.serve.schemas import Health, JobAccepted, JobList, JobRequest, JobState, JobStatus
from text3d.serve.web import mount_web
from text3d.version import __version__

MAX_BODY_BYTES = 1024 * 1024
"""Largest request body: the largest valid job, 100 prompts of 600 characters, written by a client
that escapes every character (Python's json and requests by default: ``\\uXXXX``, 12 bytes for a
character outside the BMP), is 100 · 600 · 12 = 720,000 bytes; 1 MiB leaves room for the rest."""
EVENT_INTERVAL_S = 0.5
MEDIA_TYPES = {".glb": "model/gltf-binary", ".gif": "image/gif", ".json": "application/json", ".png": "image/png"}


class BodyLimit:
    """Refuse a request body over ``limit`` bytes (413) or of unknown length (411) before it is read.

    uvicorn never delivers more bytes than Content-Length says, so the header is the bound."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH"):
            headers = dict(scope["headers"])
            length = headers.get(b"content-length")
            if length is None and b"chunked" in headers.get(b"transfer-encoding", b""):
                await JSONResponse({"detail": "request body: give its Content-Length"}, 411)(scope, receive, send)
                return
            if length is not None and (not length.isdigit() or int(length) > self.limit):
                detail = f"request body: {length.decode(errors='replace')[:20]} bytes, more than {self.limit:,}"
                await JSONResponse({"detail": detail}, 413)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _validation_line(exc: RequestValidationError) -> str:
    """``body.options.steps: Input should be less than or equal to 500`` — the first problem, one line."""
    errors = exc.errors()
    if not errors:
        return "request: invalid"
    first = errors[0]
    if first.get("type") == "json_invalid":  # loc is ("body", character offset)
        offset = (first.get("loc") or ("body", 0))[-1]
        reason = (first.get("ctx") or {}).get("error", "invalid")
        return one_line(f"body: not valid JSON at character {offset}: {reason}")
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "__root__")
    message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return one_line(f"{where or 'request'}: {message}{more}")


def create_app(store: JobStore, token: str | None = None, cors_origins: tuple[str, ...] = (),
               max_body_bytes: int = MAX_BODY_BYTES) -> FastAPI:
    """The service over ``store`` (started with the app, closed when it stops)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(store.start)
        try:
            yield
        finally:
            await run_in_threadpool(store.close)

    app = FastAPI(title="text3d", version=__version__, lifespan=lifespan,
                  description="Text-to-3D jobs: submit prompts, follow their progress, download the assets.")
    app.state.store = store
    app.state.shutting_down = False  # set when the server is told to stop: open event streams then end
    if cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(BodyLimit, limit=max_body_bytes)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_line(exc)}, 422)

    @app.exception_handler(Text3DError)
    async def _refused(request: Request, exc: Text3DError) -> JSONResponse:
        if isinstance(exc, QueueFull):
            return JSONResponse({"detail": one_line(str(exc))}, 429, headers={"Retry-After": str(exc.retry_after_s)})
        status = 404 if isinstance(exc, JobNotFound) else 409 if isinstance(exc, JobConflict) else 400
        return JSONResponse({"detail": one_line(str(exc))}, status)

    bearer = HTTPBearer(auto_error=False)

    def authorized(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if token is None:
            return
        given = credentials.credentials if credentials is not None else ""
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise HTTPException(401, "Authorization: a valid bearer token is required",
                                headers={"WWW-Authenticate": "Bearer"})

    guarded = [Depends(authorized)]

    @app.get("/v1/health", response_model=Health, tags=["service"])
    def health() -> Health:
        """The service is up; its workers and queue."""
        queued, running = store.counts()
        return Health(version=__version__, workers=store.workers, queue_size=store.queue_size, queued=queued,
                      running=running)

    @app.post("/v1/jobs", status_code=202, response_model=JobAccepted, dependencies=guarded, tags=["jobs"],
              responses={429: {"description": "The queue is full; retry after Retry-After seconds."}})
    def submit(body: JobRequest) -> JobAccepted:
        """Queue a job of one prompt or a list of prompts."""
        job = store.submit(body)
        return JobAccepted(id=job.id, state=job.state, url=f"/v1/jobs/{job.id}")

    @app.get("/v1/jobs", response_model=JobList, dependencies=guarded, tags=["jobs"])
    def list_jobs(state: JobState | None = None, limit: int = Query(100, ge=1, le=1000)) -> JobList:
        """The service's jobs (of one ``state`` if given), newest first, without items."""
        chosen = [job for job in store.jobs() if state in (None, job.state)][:limit]
        return JobList(jobs=[store.summary(job) for job in chosen])

    @app.get("/v1/jobs/{job_id}", response_model=JobStatus, dependencies=guarded, tags=["jobs"])
    def job_status(job_id: str) -> JobStatus:
        """State, per-item progress, seconds per stage, captions and errors of a job."""
        return store.status(store.get(job_id))

    @app.delete("/v1/jobs/{job_id}", response_model=JobStatus, dependencies=guarded, tags=["jobs"])
    def cancel(job_id: str) -> JobStatus:
        """Cancel a queued or running job; its finished items stay. 409 for a job that already ended."""
        return store.status(store.cancel(job_id))

    @app.get("/v1/jobs/{job_id}/events", dependencies=guarded, tags=["jobs"],
             response_class=StreamingResponse, responses={200: {"content": {"text/event-stream": {}}}})
    async def events(job_id: str, request: Request) -> StreamingResponse:
        """Server-sent events: ``progress`` with the job's status whenever it changes, then ``end``."""
        job = store.get(job_id)

        async def stream() -> AsyncIterator[str]:
            last = None
            while True:
                status = await run_in_threadpool(store.status, job)
                text = status.model_dump_json()
                if text != last:
                    yield f"event: progress\ndata: {text}\n\n"
                    last = text
                if status.state in FINISHED:
                    yield f"event: end\ndata: {json.dumps({'id': job.id, 'state': status.state})}\n\n"
                    return
                if await request.is_disconnected():
                    return
                if request.app.state.shutting_down:  # the job resumes when the service starts again
                    yield f"event: shutdown\ndata: {json.dumps({'id': job.id, 'state': status.state})}\n\n"
                    return
                await asyncio.sleep(EVENT_INTERVAL_S)

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    def send(path: Path) -> FileResponse:
        return FileResponse(path, media_type=MEDIA_TYPES.get(path.suffix, "application/octet-stream"))

    item = "/v1/jobs/{job_id}/items/{index}"

    @app.get(item + "/asset.glb", dependencies=guarded, tags=["files"], response_class=FileResponse)
    def asset_glb(job_id: str, index: int) -> FileResponse:
        """The item's asset (y-up GLB)."""
        return send(store.item_file(job_id, index, "asset.glb"))

    @app.get(item + "/turntable.gif", dependencies=guarded, tags=["files"], response_class=FileResponse)
    def turntable_gif(job_id: str, index: int) -> FileResponse:
        """The item's turntable preview (when the job asked for ``gif``)."""
        return send(store.item_file(job_id, index, "turntable.gif"))

    @app.get(item + "/meta.json", dependencies=guarded, tags=["files"], response_class=FileResponse)
    def meta_json(job_id: str, index: int) -> FileResponse:
        """The item's meta.json: prompt, caption, backend, model, seed, seconds per stage."""
        return send(store.item_file(job_id, index, "meta.json"))

    @app.get(item + "/views/{protocol}/{name}", dependencies=guarded, tags=["files"], response_class=FileResponse)
    def view_file(job_id: str, index: int, protocol: str, name: str) -> FileResponse:
        """A rendered view (``000.png`` …) or ``cameras.json`` of a protocol the job rendered."""
        return send(store.item_file(job_id, index, name, protocol=protocol))

    for path, endpoint in ((item + "/asset.glb", asset_glb), (item + "/turntable.gif", turntable_gif),
                           (item + "/meta.json", meta_json), (item + "/views/{protocol}/{name}", view_file)):
        # HEAD as well: a client's size or existence check (curl -I) before downloading; one GET in the docs
        app.add_api_route(path, endpoint, methods=["HEAD"], dependencies=guarded, response_class=FileResponse,
                          include_in_schema=False)
    mount_web(app, store, guarded)  # the page at /, its files, /v1/options and each job's gallery and report
    return app
