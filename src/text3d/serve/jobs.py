"""Jobs of the service: checked requests, a bounded queue, a pool of workers, state on disk.

Layout under ``--data``::

    .text3d.lock               held by the service for its whole life (one service per folder)
    jobs/<id>/job.json         the request and the job's state (queued, running, done, …)
    jobs/<id>/run/             the run folder of the job (run.yaml, manifest.jsonl, items/<item id>/)
    jobs/<id>/worker.log       stderr of the job's worker process

A worker runs each job in its own process (:mod:`text3d.serve.runner`, which calls
:func:`~text3d.runs.pipeline.generate_batch`), so progress is read from the run folder's
manifest and a cancelled job is stopped at once. A service started again on the same folder
queues every job that was queued or running: the run folder resumes and keeps every
finished item.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from text3d.data.toys4k import prompt_id
from text3d.errors import InputError, Text3DError, one_line
from text3d.limits import MAX_ITEMS
from text3d.render.cameras import PROTOCOLS
from text3d.serve.requests import check_request
from text3d.serve.schemas import JobItem, JobRequest, JobState, JobStatus, JobSummary, Progress
from text3d.store.atomic import write_json
from text3d.store.folders import STATUS_DONE, STATUS_FAILED, AssetFolder, RunFolder
from text3d.store.locks import exclusive, folder_lock
from text3d.store.outputs import check_job_output

log = logging.getLogger(__name__)

JOB_ID = re.compile(r"[0-9a-f]{32}")
"""A job id: 32 hex digits (a random UUID), the only name of a job's folder."""
VIEW_FILE = re.compile(r"(\d{3}\.png|cameras\.json)")
ITEM_FILES = ("asset.glb", "meta.json", "turntable.gif")
FINISHED: tuple[JobState, ...] = ("done", "failed", "cancelled")
CANCEL_GRACE_S = 5.0


class JobNotFound(InputError):
    """No job (or item, or file) of that name: HTTP 404."""


class JobConflict(InputError):
    """The job is not in a state that allows the request: HTTP 409."""


class QueueFull(Text3DError):
    """The queue holds ``--queue-size`` jobs: HTTP 429 with ``Retry-After``."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


MAX_RETRIES = 1
"""Times a job whose worker process was killed (not one that exited with an error) runs again."""


@dataclass
class Job:
    """A job: its request, its state and, while it runs, its worker process."""

    id: str
    folder: Path
    request: JobRequest
    state: JobState = "queued"
    created: str = field(default_factory=_now)
    started: str | None = None
    finished: str | None = None
    error: str | None = None
    retries: int = 0
    process: subprocess.Popen | None = None

    @property
    def run(self) -> RunFolder:
        return RunFolder(self.folder / "run")

    def record(self) -> dict:
        """What job.json holds."""
        return {"id": self.id, "request": self.request.model_dump(), "state": self.state, "created": self.created,
                "started": self.started, "finished": self.finished, "error": self.error, "retries": self.retries}

    @classmethod
    def load(cls, folder: Path) -> Job:
        import json

        doc = json.loads((folder / "job.json").read_text(encoding="utf-8"))
        return cls(id=doc["id"], folder=folder, request=JobRequest.model_validate(doc["request"]),
                   state=doc["state"], created=doc["created"], started=doc.get("started"),
                   finished=doc.get("finished"), error=doc.get("error"), retries=int(doc.get("retries", 0)))


class JobStore:
    """The jobs under ``data``: a bounded queue served by ``workers`` worker threads.

    Each worker thread runs one job at a time in a worker process. ``queue_size`` jobs may
    wait; one more is refused with :class:`QueueFull`.
    """

    def __init__(self, data: str | Path, workers: int = 1, queue_size: int = 16, max_batch: int = 100) -> None:
        if workers < 1 or queue_size < 1:
            raise InputError(f"--workers {workers}, --queue-size {queue_size}: both must be at least 1")
        if not 1 <= max_batch <= MAX_ITEMS:
            raise InputError(f"--max-batch {max_batch}: must be in [1, {MAX_ITEMS:,}]")
        self.data = Path(data)
        self.workers = workers
        self.queue_size = queue_size
        self.max_batch = max_batch
        self._jobs: dict[str, Job] = {}
        self._queue: deque[Job] = deque()
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._closing = False
        self._durations: deque[float] = deque(maxlen=20)
        self._log_start: dict[str, int] = {}  # job id → where its running worker's lines start in worker.log
        self._stack = ExitStack()

    @property
    def jobs_dir(self) -> Path:
        return self.data / "jobs"

    def start(self) -> None:
        """Lock ``data``, queue the jobs a previous service left unfinished, start the workers (once)."""
        if self._threads:
            return
        check_job_output(self.data, (self.jobs_dir.name,), "the service", "--data")  # not a run or asset folder
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        self._stack.enter_context(exclusive(folder_lock(self.data), f"--data {self.data}", can_wait=False))
        loaded = []
        for record in self.jobs_dir.glob("*/job.json"):
            try:
                loaded.append(Job.load(record.parent))
            except (OSError, ValueError, KeyError) as exc:
                log.warning("%s: not a job record (%s); skipped", record, one_line(str(exc)))
        for job in sorted(loaded, key=lambda j: j.created):
            self._jobs[job.id] = job
            if job.state in ("queued", "running"):
                job.state = "queued"
                self._queue.append(job)
        if self._queue:
            log.info("resuming %d unfinished job(s) from %s", len(self._queue), self.jobs_dir)
        self._closing = False
        for number in range(self.workers):
            thread = threading.Thread(target=self._work, name=f"text3d-worker-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def close(self) -> None:
        """Stop the workers and their processes; running jobs stay ``running`` on disk and resume next time."""
        with self._cond:
            self._closing = True
            processes = [j.process for j in self._jobs.values() if j.process is not None]
            self._cond.notify_all()
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(CANCEL_GRACE_S)
            except subprocess.TimeoutExpired:
                process.kill()
        for thread in self._threads:
            thread.join(CANCEL_GRACE_S)
        self._threads.clear()
        self._stack.close()

    def submit(self, request: JobRequest) -> Job:
        """Check ``request`` and queue it as a new job; :class:`QueueFull` when the queue is full."""
        check_request(request, self.max_batch)
        with self._cond:
            if len(self._queue) >= self.queue_size:
                raise QueueFull(f"the queue holds {len(self._queue)} jobs, its limit; retry later",
                                self._retry_after_s())
            job = Job(id=uuid.uuid4().hex, folder=Path(), request=request)
            job.folder = self.jobs_dir / job.id
            self._save(job)
            self._jobs[job.id] = job
            self._queue.append(job)
            self._cond.notify()
        log.info("job %s queued: %d prompt(s), backend %s", job.id, len(request.prompt_list()), request.backend)
        return job

    def get(self, job_id: str) -> Job:
        """The job ``job_id``; :class:`JobNotFound` for an unknown or malformed id."""
        job = self._jobs.get(job_id) if JOB_ID.fullmatch(job_id) else None
        if job is None:
            raise JobNotFound(f"job {job_id[:40]!r}: no such job")
        return job

    def jobs(self) -> list[Job]:
        """Every job, newest first."""
        with self._cond:
            return sorted(self._jobs.values(), key=lambda j: j.created, reverse=True)

    def counts(self) -> tuple[int, int]:
        """(queued, running) jobs."""
        with self._cond:
            return len(self._queue), sum(j.state == "running" for j in self._jobs.values())

    def cancel(self, job_id: str) -> Job:
        """Cancel a queued or running job (its finished items stay); a finished job is a :class:`JobConflict`."""
        with self._cond:
            job = self.get(job_id)
            if job.state in ("done", "failed"):
                raise JobConflict(f"job {job.id}: already {job.state}; nothing to cancel")
            if job.state == "cancelled":
                return job
            job.state, job.finished = "cancelled", _now()
            if job in self._queue:
                self._queue.remove(job)
            self._save(job)
            process = job.process
        if process is not None:
            process.terminate()
            timer = threading.Timer(CANCEL_GRACE_S, lambda: process.poll() is None and process.kill())
            timer.daemon = True
            timer.start()
        log.info("job %s cancelled", job.id)
        return job

    def summary(self, job: Job) -> JobSummary:
        """The job without its items."""
        return JobSummary(**self._fields(job), progress=_progress(self.items(job)))

    def status(self, job: Job) -> JobStatus:
        """The job with its request and items."""
        items = self.items(job)
        return JobStatus(**self._fields(job), progress=_progress(items), request=job.request, items=items)

    @staticmethod
    def _fields(job: Job) -> dict:
        return {"id": job.id, "state": job.state, "created": job.created, "started": job.started,
                "finished": job.finished, "backend": job.request.backend, "augment": job.request.augment,
                "error": job.error, "retries": job.retries}

    def items(self, job: Job) -> list[JobItem]:
        """Every item of ``job`` as its run folder's manifest describes it; an item without a row is
        pending, or skipped once the job has ended."""
        rows = {row.get("index"): row for row in job.run.manifest.rows().values()}
        items: list[JobItem] = []
        running = job.state == "running"
        unrun = "skipped" if job.state in FINISHED else "pending"
        for index, prompt in enumerate(job.request.prompt_list()):
            row = rows.get(index)
            if row is None or row.get("prompt") != prompt or row.get("status") not in (STATUS_DONE, STATUS_FAILED):
                items.append(JobItem(index=index, prompt=prompt, state="running" if running else unrun))
                running = False  # the worker takes items in order: the first one without a row is the one it works on
                continue
            done = row["status"] == STATUS_DONE
            items.append(JobItem(index=index, prompt=prompt, state="done" if done else "failed",
                                 caption=row.get("caption"), error=row.get("error"),
                                 seconds=row.get("timings_s") or {}, warnings=row.get("warnings") or [],
                                 files=_files(self._item_folder(job, index), job.request.options.views) if done
                                 else []))
        return items

    def item_file(self, job_id: str, index: int, name: str, protocol: str | None = None) -> Path:
        """The file ``name`` (or ``views/<protocol>/<name>``) of item ``index`` of a job, once the item is done.

        Names are checked against the files an asset folder holds and the item folder is found
        by index, so no part of a path comes from the request."""
        job = self.get(job_id)
        prompts = job.request.prompt_list()
        if not 0 <= index < len(prompts):
            raise JobNotFound(f"item {index}: job {job.id} has items 0 to {len(prompts) - 1}")
        if protocol is None and name not in ITEM_FILES:
            raise JobNotFound(f"{name[:40]!r}: an item has {', '.join(ITEM_FILES)} and views/<protocol>/<file>")
        if protocol is not None and (protocol not in PROTOCOLS or not VIEW_FILE.fullmatch(name)):
            raise JobNotFound(f"views/{protocol[:40]}/{name[:40]}: no such view file")
        row = job.run.manifest.rows().get(prompt_id(index, prompts[index]), {})
        if row.get("status") == STATUS_FAILED:
            raise JobNotFound(f"item {index} of job {job.id}: failed ({one_line(str(row.get('error') or '?'), 160)}); "
                              "it has no files")
        if row.get("status") != STATUS_DONE:
            if job.state in FINISHED:  # it will never run
                raise JobNotFound(f"item {index} of job {job.id}: skipped (the job is {job.state}); it has no files")
            raise JobNotFound(f"item {index} of job {job.id}: not done yet")
        folder = self._item_folder(job, index)
        path = (folder.views_dir(protocol) / name) if protocol is not None else folder.root / name
        if not path.is_file() or not path.resolve().is_relative_to(folder.root.resolve()):
            raise JobNotFound(f"item {index} of job {job.id}: has no {path.relative_to(folder.root)}")
        return path

    def _item_folder(self, job: Job, index: int) -> AssetFolder:
        return job.run.item(prompt_id(index, job.request.prompt_list()[index]))

    def _save(self, job: Job) -> None:
        write_json(job.folder / "job.json", job.record())

    def _retry_after_s(self) -> int:
        """Seconds until a place in the queue is likely free: recent job durations × queued jobs / workers."""
        typical = sum(self._durations) / len(self._durations) if self._durations else 10.0
        return int(min(3600, max(1, typical * len(self._queue) / self.workers)))

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                if self._closing:
                    return
                job = self._queue.popleft()
                job.state, job.started, job.error = "running", job.started or _now(), None
                try:
                    job.process = self._launch(job)
                except OSError as exc:
                    job.state, job.error, job.finished = "failed", f"worker process: {one_line(str(exc))}", _now()
                    self._save(job)
                    continue
                self._save(job)
            start = time.monotonic()
            code = job.process.wait()
            with self._cond:
                job.process = None
                if self._closing:
                    return  # state stays "running" on disk: the next service resumes the job
                self._durations.append(time.monotonic() - start)
                if job.state == "cancelled":
                    continue
                if code < 0 and job.retries < MAX_RETRIES:  # killed by a signal: run it again, from its run folder
                    job.retries += 1
                    job.state = "queued"
                    self._queue.appendleft(job)
                    self._save(job)
                    self._cond.notify()
                    log.warning("job %s: worker process killed (signal %d); retried", job.id, -code)
                    continue
                job.state = "done" if code in (0, 1) else "failed"
                job.error = None if code in (0, 1) else _failure(job.folder / "worker.log", code, job.retries,
                                                                 self._log_start.pop(job.id, 0))
                job.finished = _now()
                self._save(job)
            log.info("job %s %s", job.id, job.state)

    def _launch(self, job: Job) -> subprocess.Popen:
        env = {**_thread_limits(self.workers), **os.environ,
               "TEXT3D_PROGRESS": "0", "TEXT3D_SERVE_PARENT": str(os.getpid())}
        with (job.folder / "worker.log").open("ab") as stderr:
            self._log_start[job.id] = stderr.tell()  # this run's lines start here (the log is appended)
            return subprocess.Popen([sys.executable, "-m", "text3d.serve.runner", str(job.folder)],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr, env=env)


def _thread_limits(workers: int) -> dict[str, str]:
    """Threads per worker process: the cores shared among ``workers`` concurrent jobs.

    torch (OpenMP) and Mesa's llvmpipe each start one thread per core in every process; with
    two jobs on two cores that is four busy threads thrashing two cores. The user's own
    settings win (they are applied after these).
    """
    threads = str(max(1, (os.cpu_count() or 1) // max(1, workers)))
    return {"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "LP_NUM_THREADS": threads}


def _progress(items: list[JobItem]) -> Progress:
    done = sum(i.state == "done" for i in items)
    failed = sum(i.state == "failed" for i in items)
    skipped = sum(i.state == "skipped" for i in items)
    running = sum(i.state == "running" for i in items)
    return Progress(total=len(items), done=done, failed=failed, pending=len(items) - done - failed - skipped - running,
                    skipped=skipped, running=running)


def _files(folder: AssetFolder, protocols: list[str]) -> list[str]:
    """Paths (relative to the item) of the files a finished item has."""
    names = [name for name in ITEM_FILES if (folder.root / name).is_file()]
    for protocol in protocols:
        views = folder.view_paths(protocol)
        if views:
            names += [f"views/{protocol}/cameras.json"] + [f"views/{protocol}/{p.name}" for p in views]
    return names


def _failure(log_path: Path, code: int, retries: int, offset: int = 0) -> str:
    """Why a worker failed: killed by a signal (after ``retries`` retries), or the last error line it
    wrote in this run (from byte ``offset`` of its appended log; a warning is not the reason), else
    its exit code."""
    if code < 0:
        return f"the worker process was killed by signal {-code} (after {retries} retr{'y' if retries == 1 else 'ies'})"
    try:
        with log_path.open("rb") as handle:
            handle.seek(offset)
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        text = ""
    lines = [line for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    return one_line((errors or lines)[-1]) if lines else f"the worker process exited with code {code}"
