"""The worker process of one job: ``python -m text3d.serve.runner JOB_FOLDER``.

It reads ``JOB_FOLDER/job.json`` (written by :class:`text3d.serve.jobs.JobStore`) and runs
:func:`text3d.runs.pipeline.generate_batch` into ``JOB_FOLDER/run``, the run-folder contract,
which resumes: a restarted job skips every finished item. A job runs in its own process so
that ``DELETE /v1/jobs/{id}`` can stop it at once and a crash of a backend cannot take the
service down. The process leaves when the service that started it dies, so a killed service
never leaves a writer behind on the run folder its successor resumes.

Exit codes are the CLI's (:mod:`text3d.errors`): 0 all items done, 1 some items failed (their
rows say why), 2–5 the job could not run; the reason is the last line on stderr.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from pathlib import Path

from text3d.errors import EXIT_INTERNAL, Text3DError, one_line

log = logging.getLogger(__name__)

WAIT_FOR_RUN_S = 60.0
"""Seconds to wait for the run folder's lock: a killed service's worker may still be leaving."""


def run_job(folder: Path) -> int:
    """Run the job of ``folder``; 0 when every item is done, 1 when some failed."""
    from text3d.runs.pipeline import generate_batch

    request = json.loads((folder / "job.json").read_text(encoding="utf-8"))["request"]
    options = request.get("options") or {}
    prompts = [request["prompt"]] if request.get("prompt") is not None else list(request["prompts"])
    counts = generate_batch(prompts, folder / "run", augment=request["augment"], backend=request["backend"],
                            seed=request["seed"], steps=options.get("steps"), cfg=options.get("cfg"),
                            views=tuple(options.get("views", ("canonical4",))),
                            resolution=options.get("resolution", 512), gif=options.get("gif", True),
                            progress=False, candidates=options.get("candidates"),
                            timeout_s=options.get("timeout_s"), wait_s=WAIT_FOR_RUN_S)
    log.info("job %s: %s", folder.name, counts)
    return 1 if counts["failed"] else 0


def _leave_with_parent(parent: int, interval_s: float = 0.5) -> None:
    """Exit at once when the service that started this process is gone (re-parented)."""
    def watch() -> None:
        while True:
            time.sleep(interval_s)
            if os.getppid() != parent:
                os._exit(EXIT_INTERNAL)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str]) -> int:
    """Entry point of the worker process; returns its exit code."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("text3d")
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    if len(argv) != 1:
        log.error("usage: python -m text3d.serve.runner JOB_FOLDER")
        return 2
    _leave_with_parent(int(os.environ.get("TEXT3D_SERVE_PARENT", os.getppid())))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        return run_job(Path(argv[0]))
    except Text3DError as exc:
        log.error("%s", one_line(str(exc)))
        return exc.exit_code
    except Exception as exc:  # a bug or a backend crash: the service reports the line
        log.exception("internal error")
        log.error("internal error: %s", one_line(f"{type(exc).__name__}: {exc}"))
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
