"""The ``ray`` executor: a stage's items on Ray actors, each loading the stage's models once.

``--executor ray`` starts a local Ray cluster on this machine (all its CPUs); ``ray:ADDRESS``
joins a running one (``ray:auto`` on a cluster node, ``ray:ray://HEAD:10001`` through Ray
Client; see docs/ray.md). A process that already called ``ray.init`` is reused as it is.

A :meth:`RayExecutor.map` call uses ``n`` actors (``n`` = the cluster's CPUs divided by the
stage's ``cpus``, or its GPUs for a stage on CUDA, which then gets ``num_gpus=1`` each; at most
one per item), started on first use and kept until :meth:`RayExecutor.close`. Each actor runs
``stage.setup()`` on its first item of a stage and keeps the state, so a model loads once per
worker; items are handed out one at a time to whichever actor is
free, so a slow item never holds back the rest. An actor whose process dies (killed, out of
memory) is restarted once by Ray and its item retried (``max_restarts`` / ``max_task_retries``);
an error raised by the stage itself is not retried and reaches the caller as the stage's own
exception (a :class:`~text3d.errors.Text3DError` stays one line).

Workers write item folders at the paths the caller gives, so the run folder must be on storage
every node mounts at the same path (one machine, NFS, a shared volume).
"""

from __future__ import annotations

import logging
import math
import os
import socket
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from text3d.device import OPENMP_WAIT_POLICY
from text3d.errors import InputError, Text3DError
from text3d.executors.base import Stage, executors
from text3d.progress import track

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")

@dataclass
class RayConfig:
    """Where and how wide: ``address`` None starts a local cluster (``num_cpus`` CPUs, default all);
    ``workers`` caps the actors per stage (default: as many as the cluster's CPUs or GPUs allow);
    ``retries`` is how often a dead actor is restarted and its item retried."""

    address: str | None = None
    num_cpus: int | None = None
    workers: int | None = None
    retries: int = 1
    torch_threads: int | None = None
    """torch's intra-op threads in each actor; None: the caller's own count. CPU float reductions split
    by thread count, so only the same count makes an actor's assets bit-identical to a local run's."""


class _StageWorker:
    """The actor. It outlives one ``map`` (the executor keeps a pool, so a study's many batches start
    no new processes) and holds the state of the last stage it ran: on the first item of a stage
    (``key``) it fetches the stage and runs ``setup()`` (so a failing setup reaches the caller as that
    item's exception, and a restarted actor sets up again), then ``run(state, item)`` per item."""

    def __init__(self) -> None:
        self._key: str | None = None
        self._run: Any = None
        self._state: Any = None

    def run(self, key: str, stage: list[Any], item: Any) -> Any:
        if key != self._key:
            import ray

            self._key, self._state = None, None  # the previous stage's models go before the next load
            setup, self._run, threads = ray.get(stage[0])  # a reference in a list: fetched here, not by Ray
            if threads:  # Ray gives a 1-CPU actor OMP_NUM_THREADS=1; match the caller instead
                import torch

                torch.set_num_threads(threads)
            self._state = setup()
            self._key = key
        return self._run(self._state, item)


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise InputError("--executor ray: Ray is not installed (pip install -c constraints.txt 'text3d[ray]')") \
            from None
    return ray


def _check_reachable(address: str | None, timeout_s: float = 10.0) -> None:
    """Refuse in one line a HOST:PORT (or ray://HOST:PORT) that takes no TCP connection: ``ray.init``
    would retry it for minutes. ``auto`` and None are left to Ray (it fails fast on its own)."""
    if not address or address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise InputError(f"--executor ray:{address}: give HOST:PORT, ray://HOST:PORT or auto")
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise InputError(f"--executor ray:{address}: cannot reach the cluster ({exc.strerror or exc})") from None


@executors.register("ray")
class RayExecutor:
    """Maps stages over Ray actors; see the module docstring."""

    name = "ray"
    takes_address = True
    check_address = staticmethod(_check_reachable)

    def __init__(self, address: str | None = None, config: RayConfig | None = None) -> None:
        self.config = config or RayConfig(address=address)
        if address is not None:
            self.config.address = address
        self._started = False  # whether this executor called ray.init (and so shuts the cluster down)
        self._pools: dict[tuple[float, bool], list[Any]] = {}
        self.startup_s: float | None = None
        self._ray = _ray()

    def connect(self) -> None:
        """Join (or start) the cluster; a no-op when this process is already connected.
        ``startup_s`` records the seconds it took."""
        ray = self._ray
        if ray.is_initialized():
            self.startup_s = self.startup_s or 0.0
            return
        start = time.perf_counter()
        _check_reachable(self.config.address)
        try:
            ray.init(address=self.config.address, num_cpus=None if self.config.address else self.config.num_cpus,
                     include_dashboard=False, logging_level=logging.WARNING, log_to_driver=True)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = self.config.address or "a local cluster"
            raise InputError(f"--executor ray: cannot reach {where} ({str(exc).splitlines()[0]})") from None
        self._started = True
        self.startup_s = time.perf_counter() - start
        log.info("ray: connected to %s in %.1f s", self.config.address or "a local cluster", self.startup_s)

    def workers_for(self, stage: Stage[Any, Any, Any]) -> int:
        """Actors for ``stage``: the cluster's GPUs (CUDA stages) or CPUs / ``stage.cpus``, capped by ``workers``."""
        self.connect()
        resources = self._ray.cluster_resources()
        if stage.wants_gpu(resources.get("GPU", 0) >= 1):
            n = int(resources.get("GPU", 0))
            if n < 1:
                raise InputError(f"--executor ray: stage {stage.name} runs on {stage.device or 'cuda'} but the "
                                 "cluster has no GPU (give --device cpu, or add GPU workers)")
        else:
            n = max(1, int(math.floor(resources.get("CPU", 1) / stage.cpus)))
        return min(n, self.config.workers) if self.config.workers else n

    def map(self, stage: Stage[Any, T, R], items: Sequence[T], progress: bool | None = None) -> Iterator[tuple[int, R]]:
        """Yield ``(index, result)`` as actors finish items (completion order)."""
        if not items:
            return
        yield from track(self._map(stage, items), total=len(items), description=f"{stage.name} (ray)",
                         enabled=progress)

    def _pool(self, n: int, gpu: bool, cpus: float) -> list[Any]:
        """``n`` actors of one resource shape, started once and kept until :meth:`close`."""
        ray = self._ray
        pool = self._pools.setdefault((cpus, gpu), [])
        if len(pool) < n:
            options: dict[str, Any] = {"num_cpus": cpus, "max_restarts": self.config.retries,
                                       "max_task_retries": self.config.retries}
            if gpu:
                options["num_gpus"] = 1  # Ray sets CUDA_VISIBLE_DEVICES to the actor's GPU
            # Each actor keeps the caller's torch thread count (bit-identical assets), so actors × threads
            # exceed the cores; OpenMP's default spin-waiting then burns the cores the other actors need
            # (a 40-prompt batch on 2 cores: 0.3× the local executor spinning, ~1.1× sleeping).
            options["runtime_env"] = {"env_vars": {"OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY",
                                                                                 OPENMP_WAIT_POLICY)}}
            worker = ray.remote(_StageWorker).options(**options)
            pool += [worker.remote() for _ in range(n - len(pool))]
        return pool[:n]

    def _map(self, stage: Stage[Any, T, R], items: Sequence[T]) -> Iterator[tuple[int, R]]:
        ray = self._ray
        n = min(len(items), self.workers_for(stage))
        gpu = stage.wants_gpu(ray.cluster_resources().get("GPU", 0) >= 1)
        actors = self._pool(n, gpu, stage.cpus)
        key, ref = uuid.uuid4().hex, [ray.put((stage.setup, stage.run, self._torch_threads()))]  # sent once
        queue = iter(enumerate(items))
        pending: dict[Any, tuple[int, Any]] = {}

        def submit(actor: Any) -> None:
            nxt = next(queue, None)
            if nxt is not None:
                pending[actor.run.remote(key, ref, nxt[1])] = (nxt[0], actor)

        try:
            for actor in actors:
                submit(actor)
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                index, actor = pending.pop(done[0])
                try:
                    result = ray.get(done[0])
                except ray.exceptions.RayTaskError as exc:
                    cause = getattr(exc, "cause", None)
                    if isinstance(cause, Text3DError):
                        raise cause from None
                    raise
                submit(actor)
                yield index, result
        finally:
            if pending:  # an error, or the caller stopped early: stop the busy actors, start anew next time
                for actor in self._pools.pop((stage.cpus, gpu), []):
                    ray.kill(actor)

    def _torch_threads(self) -> int | None:
        """The configured count, else this process's when it uses torch (None: leave the actor's)."""
        if self.config.torch_threads:
            return self.config.torch_threads
        torch = sys.modules.get("torch")
        return torch.get_num_threads() if torch is not None else None

    def describe(self) -> str:
        return f"ray ({self.config.address or 'local cluster'})"

    def close(self) -> None:
        """Stop the actors, and shut down the cluster this executor started (one it joined stays up)."""
        if self._ray.is_initialized():
            for pool in self._pools.values():
                for actor in pool:
                    self._ray.kill(actor)
        self._pools.clear()
        if self._started and self._ray.is_initialized():
            self._ray.shutdown()
        self._started = False
