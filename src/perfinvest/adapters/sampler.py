"""Resource sampling of a whole process tree, cheap enough to run beside every benchmark.

Rule 7 (resource minimalism): the sampler must cost under 2 % of one core at 10 Hz, and its
cost is measured (``ResourceSummary.sampler_cpu_s``, ``benchmarks/sampler_cost.py``). How the
tree is followed cheaply is told in :mod:`perfinvest.adapters.proctree`; process identities
and the process-table helpers are in :mod:`perfinvest.adapters.procfs` (re-exported here).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from perfinvest.adapters.procfs import (
    ProcId,
    is_alive,
    procfs_available,
    send_signal,
    session_members,
)
from perfinvest.adapters.proctree import Backend, ProcessTree, ProcSnapshot

__all__ = [
    "Backend",
    "ProcId",
    "ProcSnapshot",
    "ProcessTree",
    "ResourceSampler",
    "ResourceSummary",
    "is_alive",
    "procfs_available",
    "send_signal",
    "session_members",
]


@dataclass(frozen=True)
class ResourceSummary:
    """What the process tree used while it was sampled.

    Sums are over the tree at one tick (RSS counts shared pages once per process, like
    ``ps``); ``*_cpu_percent`` uses 100 for one full core, so a tree can exceed 100.
    """

    samples: int
    peak_rss_bytes: int
    mean_rss_bytes: int
    peak_cpu_percent: float
    mean_cpu_percent: float
    max_threads: int  # most threads alive at one tick, all processes together
    max_processes: int  # most processes alive at one tick, the root included
    hz: float
    sampler_cpu_s: float  # the sampler thread's own CPU time: its cost, measured (rule 7)


class ResourceSampler:
    """Samples a process tree on its own thread at ``hz``; ``stop()`` returns the summary.

    CPU percentages come from the CPU time a process gained between two ticks; a process
    seen for the first time is measured from its start, so short-lived children count too.
    """

    def __init__(self, pid: int, hz: float = 10.0, *, backend: Backend = "auto") -> None:
        if hz <= 0:
            raise ValueError("hz must be positive; do not start a sampler to disable sampling")
        self.tree = ProcessTree(pid, backend=backend)
        self.hz = hz
        self._interval = 1.0 / hz
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"perfinvest-sampler-{pid}")
        self._thread.daemon = True
        self._prev: dict[ProcId, tuple[float, float]] = {}
        self._samples = 0
        self._rss_sum = 0
        self._rss_peak = 0
        self._cpu_sum = 0.0
        self._cpu_peak = 0.0
        self._threads_max = 0
        self._procs_max = 0
        self._own_cpu_s = 0.0
        self._error: BaseException | None = None

    def start(self) -> ResourceSampler:
        self._thread.start()
        return self

    def stop(self) -> ResourceSummary:
        """Stop sampling (at once, not at the next tick) and summarise.

        A failure inside the thread is raised here: a bug must not hide as "no samples".
        """
        self._stopped.set()
        if self._thread.ident is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        n = self._samples
        return ResourceSummary(
            samples=n,
            peak_rss_bytes=self._rss_peak,
            mean_rss_bytes=self._rss_sum // n if n else 0,
            peak_cpu_percent=round(self._cpu_peak, 1),
            mean_cpu_percent=round(self._cpu_sum / n, 1) if n else 0.0,
            max_threads=self._threads_max,
            max_processes=self._procs_max,
            hz=self.hz,
            sampler_cpu_s=self._own_cpu_s,
        )

    def __enter__(self) -> ResourceSampler:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _run(self) -> None:
        began = time.thread_time()
        next_tick = time.monotonic()
        try:
            while True:
                self._tick()
                next_tick += self._interval
                delay = next_tick - time.monotonic()
                if delay < 0:  # fell behind (a busy host): skip ticks rather than burst
                    next_tick = time.monotonic()
                    delay = 0.0
                if self._stopped.wait(delay):
                    break
        except BaseException as exc:
            self._error = exc
        finally:
            self._own_cpu_s = time.thread_time() - began

    def _tick(self) -> None:
        snapshots = self.tree.poll()
        now = time.monotonic()
        if not snapshots:
            self._prev = {}
            return
        cpu = 0.0
        prev: dict[ProcId, tuple[float, float]] = {}
        for snap in snapshots:
            last = self._prev.get(snap.id)
            if last is not None:
                elapsed = now - last[1]
                if elapsed > 0:
                    cpu += (snap.cpu_s - last[0]) / elapsed * 100.0
            elif snap.age_s >= self._interval / 2:
                cpu += snap.cpu_s / snap.age_s * 100.0
            prev[snap.id] = (snap.cpu_s, now)
        self._prev = prev
        rss = sum(snap.rss_bytes for snap in snapshots)
        self._samples += 1
        self._rss_sum += rss
        self._rss_peak = max(self._rss_peak, rss)
        self._cpu_sum += cpu
        self._cpu_peak = max(self._cpu_peak, cpu)
        self._threads_max = max(self._threads_max, sum(snap.threads for snap in snapshots))
        self._procs_max = max(self._procs_max, len(snapshots))
