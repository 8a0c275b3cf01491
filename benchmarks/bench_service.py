"""Benchmark: what the service and the Ray executor cost and give, against the CLI and the local executor.

1. ``latency``: a one-prompt job's latency through ``text3d serve`` (POST → state done, polled every
   5 ms) against the same work through ``text3d generate`` in a fresh process (the CLI), median of
   ``--n`` each. Target: the service adds ≤ 50 ms.
2. ``throughput``: 20 one-prompt jobs posted at once to ``text3d serve --workers 2`` against
   ``--workers 1`` (jobs finished per second). Target: ≥ 1.6×.
3. ``ray``: a 40-prompt batch (``generate_batch``) on a local 2-CPU Ray cluster against the local
   executor in this process; start-up (``ray.init`` and the actors' processes) is timed apart and
   excluded from the throughput. Target: ≥ 0.9× once start-up is excluded.

Every job is small (procedural or embedded backend, no LLM, small views), so the figures are the
overheads; on 2 shared CPU cores they move with whatever else runs (say so when quoting them).

    .venv/bin/python benchmarks/bench_service.py [--only latency,throughput,ray] [--n 20]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

JOB = {"backend": "procedural", "augment": "none", "options": {"resolution": 64, "gif": False}}
CLI = ["--backend", "procedural", "--augment", "none", "--resolution", "64", "--no-gif"]
PROMPTS = ["small blue sailboat", "red wooden chair", "tall green pine tree", "yellow rubber duck",
           "black metal lamp", "white ceramic teapot", "orange toy truck", "purple teddy bear",
           "gray stone castle tower", "pink mushroom"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Service:
    """``text3d serve`` in its own process group on a free port, stopped on exit."""

    def __init__(self, data: Path, workers: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([sys.executable, "-m", "text3d", "serve", "--port", str(self.port),
                                         "--data", str(data), "--workers", str(workers), "--queue-size", "64"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.client = httpx.Client(base_url=self.url, timeout=30)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if self.client.get("/v1/health").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("text3d serve did not start")

    def submit(self, prompt: str) -> str:
        answer = self.client.post("/v1/jobs", json={"prompt": prompt, **JOB})
        assert answer.status_code == 202, answer.text
        return answer.json()["id"]

    def wait(self, job_id: str, poll_s: float = 0.005) -> dict:
        while True:
            state = self.client.get(f"/v1/jobs/{job_id}").json()
            if state["state"] in ("done", "failed", "cancelled"):
                assert state["state"] == "done" and state["progress"]["done"] == 1, state
                return state
            time.sleep(poll_s)

    def close(self) -> None:
        self.client.close()
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)


def bench_latency(n: int) -> None:
    cli, service_times = [], []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        service = Service(root / "data", workers=1)
        try:
            service.wait(service.submit(PROMPTS[0]))  # warm-up: file caches, the service's own imports
            for i in range(n + 1):  # interleaved, so both see the same background load
                prompt = PROMPTS[i % len(PROMPTS)]
                start = time.perf_counter()
                subprocess.run([sys.executable, "-m", "text3d", "generate", prompt, "--out", str(root / f"cli{i}"),
                                *CLI], check=True, capture_output=True)
                if i:
                    cli.append(time.perf_counter() - start)
                start = time.perf_counter()
                service.wait(service.submit(prompt))
                if i:
                    service_times.append(time.perf_counter() - start)
        finally:
            service.close()
    c, s = statistics.median(cli), statistics.median(service_times)
    print(f"latency of one procedural job (64² views, no GIF), median of {n}:")
    print(f"  CLI `text3d generate` (fresh process)   {c * 1000:8.0f} ms")
    print(f"  service POST → done (worker process)    {s * 1000:8.0f} ms")
    print(f"  added by the service                    {(s - c) * 1000:8.0f} ms  (target ≤ 50 ms: "
          f"{'PASS' if s - c <= 0.050 else 'FAIL'})")


def bench_throughput(jobs: int = 20) -> None:
    rates = {}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            service = Service(Path(tmp) / "data", workers=workers)
            try:
                service.wait(service.submit(PROMPTS[0]))  # warm-up
                start = time.perf_counter()
                ids = [service.submit(PROMPTS[i % len(PROMPTS)]) for i in range(jobs)]
                for job_id in ids:
                    service.wait(job_id, poll_s=0.05)
                rates[workers] = jobs / (time.perf_counter() - start)
            finally:
                service.close()
    ratio = rates[2] / rates[1]
    print(f"throughput, {jobs} one-prompt jobs posted at once:")
    for workers, rate in rates.items():
        print(f"  --workers {workers}   {rate:6.2f} jobs/s")
    print(f"  2 workers vs 1   {ratio:6.2f}x  (target ≥ 1.6x: {'PASS' if ratio >= 1.6 else 'FAIL'})")


def bench_ray(n: int = 40) -> None:
    import ray

    from text3d.executors.ray import RayConfig, RayExecutor
    from text3d.runs.pipeline import generate_batch

    prompts = [f"{PROMPTS[i % len(PROMPTS)]} number {i}" for i in range(n)]
    settings = {"augment": "none", "backend": "embedded", "candidates": 1, "resolution": 64, "progress": False}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate_batch(prompts[:2], root / "warm", **settings)  # imports and file caches, for both
        start = time.perf_counter()
        generate_batch(prompts, root / "local", **settings)
        local_s = time.perf_counter() - start

        executor = RayExecutor(config=RayConfig(num_cpus=2))
        start = time.perf_counter()
        executor.connect()
        init_s = time.perf_counter() - start
        generate_batch(prompts[:2], root / "ray-warm", executor=executor, **settings)  # the actors' processes
        startup_s = time.perf_counter() - start
        start = time.perf_counter()
        generate_batch(prompts, root / "ray", executor=executor, **settings)
        ray_s = time.perf_counter() - start
        executor.close()
        ray.shutdown()
    ratio = local_s / ray_s
    print(f"{n}-prompt batch, embedded backend (one sample, 64² views, no LLM), 2 CPU cores:")
    print(f"  local executor (this process)       {local_s:6.1f} s  {n / local_s:5.2f} items/s")
    print(f"  ray, local cluster num_cpus=2       {ray_s:6.1f} s  {n / ray_s:5.2f} items/s  "
          f"(each batch loads the model once per actor, as local loads it once)")
    print(f"  ray start-up (excluded above)       {startup_s:6.1f} s  (ray.init {init_s:.1f} s + actors' processes)")
    print(f"  ray vs local, start-up excluded     {ratio:6.2f}x  (target ≥ 0.9x: {'PASS' if ratio >= 0.9 else 'FAIL'})")
    print(f"  ray vs local, start-up included     {local_s / (ray_s + startup_s):6.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="latency,throughput,ray")
    parser.add_argument("--n", type=int, default=20, help="Jobs per side of the latency median.")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"load average at start: {load:.1f} on {os.cpu_count()} cores")
    parts = args.only.split(",")
    if "latency" in parts:
        bench_latency(args.n)
    if "throughput" in parts:
        bench_throughput()
    if "ray" in parts:
        bench_ray()
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
