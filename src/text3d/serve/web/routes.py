"""The web app's routes: the page at ``/``, its scripts, three.js, and the gallery's JSON.

::

    GET /                                  the page (static/index.html)
    GET /web/<file>                        its scripts and style (static/)
    GET /vendor/three/build/<file>         three.js, installed from npm by scripts/setup.sh
    GET /vendor/three/examples/jsm/<path>  three's add-ons (GLTFLoader, OrbitControls)
    GET /v1/options                        backends, augmenters and view protocols to choose from
    GET /v1/jobs/{id}/gallery              items with kind, caption, thumbnail, per-asset metrics
    GET /v1/jobs/{id}/report               the run's evaluation (metrics.json), 404 before one
    GET /v1/jobs/{id}/report.html          the run's evaluation report (one self-contained page)

Static files are served by Starlette's ``StaticFiles``, which refuses paths that leave its
folder; the report routes open only the fixed names of :data:`~text3d.serve.web.gallery.REPORT_FILES`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.params import Depends
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from text3d.serve.jobs import JobStore
from text3d.serve.web.gallery import Gallery, gallery, report_file

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
THREE_DIR = WEB_DIR / "node_modules" / "three"
"""three.js as ``npm ci --prefix src/text3d/serve/web`` installs it (package-lock.json pins the version)."""
REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
"""report.html is text3d's own page with inline style and data-URI images; nothing else may load."""


class Options(BaseModel):
    """``GET /v1/options``: what the page's form offers."""

    backends: list[str]
    augmenters: list[str]
    views: list[str]


def three_installed() -> bool:
    """True when three.js and its add-ons are where the page imports them from."""
    return (THREE_DIR / "build" / "three.module.js").is_file() and (THREE_DIR / "examples" / "jsm").is_dir()


def _augmenter_names(registered: list[str]) -> list[str]:
    """The registered augmenters with ``none`` first (the page's default), each named once."""
    return ["none", *(name for name in registered if name != "none")]


def mount_web(app: FastAPI, store: JobStore, guarded: list[Depends]) -> None:
    """Add the page, its files and the gallery's endpoints to ``app``."""
    if not three_installed():
        log.warning("web app: three.js is missing from %s; run scripts/setup.sh (npm ci) for the 3D viewer",
                    THREE_DIR)
    router = APIRouter()

    @router.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers={"Cache-Control": "no-cache"})

    @router.get("/v1/options", response_model=Options, tags=["web"])
    def options() -> Options:
        """Registered backends and augmenters, and the view protocols."""
        from text3d.generators.base import generators
        from text3d.prompts.base import augmenters
        from text3d.render.cameras import PROTOCOLS

        return Options(backends=list(generators.names()), augmenters=_augmenter_names(augmenters.names()),
                       views=list(PROTOCOLS))

    @router.get("/v1/jobs/{job_id}/gallery", response_model=Gallery, dependencies=guarded, tags=["web"])
    def job_gallery(job_id: str) -> Gallery:
        """The job's items with prompt kind, caption, thumbnail path and per-asset metrics."""
        return gallery(store.get(job_id))

    @router.get("/v1/jobs/{job_id}/report", dependencies=guarded, tags=["web"], response_class=FileResponse,
                responses={200: {"content": {"application/json": {}}}})
    def job_report(job_id: str) -> FileResponse:
        """metrics.json of the job's run once ``text3d eval`` evaluated it (404 before), as written."""
        return FileResponse(report_file(store.get(job_id), "metrics.json"), media_type="application/json")

    @router.get("/v1/jobs/{job_id}/report.html", dependencies=guarded, tags=["web"], response_class=FileResponse)
    def job_report_html(job_id: str) -> FileResponse:
        """report.html of the job's run: tables, plots and a thumbnail per asset, in one file."""
        return FileResponse(report_file(store.get(job_id), "report.html"), media_type="text/html",
                            headers={"Content-Security-Policy": REPORT_CSP})

    app.include_router(router)
    app.mount("/web", StaticFiles(directory=STATIC_DIR), name="web")
    for part in ("build", "examples/jsm"):
        app.mount(f"/vendor/three/{part}", StaticFiles(directory=THREE_DIR / part, check_dir=False),
                  name=f"three-{part}")
