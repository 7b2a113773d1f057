"""Resource sampling of a whole process tree, cheap enough to run beside every benchmark.

Rule 7 (resource minimalism): the sampler must cost under 2 % of one core at 10 Hz, and its
cost is measured (``ResourceSummary.sampler_cpu_s``, ``benchmarks/sampler_cost.py``).

Why not psutil's ``children(recursive=True)`` on every tick: it reads ``/proc/<pid>/stat`` of
*every* process on the host to build a parent map -- 3.4 ms per call on a host with ~80
processes, 3.4 % of a core at 10 Hz, and it grows with the host's process count. On Linux
this module reads ``/proc`` itself:

* one ``/proc/<pid>/stat`` read per tree member and tick gives RSS, CPU time, threads,
  parent, session, state and start time (the start time makes a pid an identity);
* new members are found by examining only the pids created since the last tick: the kernel
  hands out pids cyclically and ``/proc/loadavg`` ends with the last one it handed out, so
  the candidates are the pids in between (a full ``/proc`` scan only when many were made).

A process joins the tree when its parent is a member, or when it is in the session the root
leads (the runner starts every command in a new session), which also catches children whose
parent died before a tick saw them. Members stay members while alive, even once reparented to
init, because a daemonised child is still the benchmark's load (and the runner kills it).
Elsewhere (no ``/proc``) psutil does the same work, slower.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple

if TYPE_CHECKING:
    import psutil

Backend = Literal["auto", "procfs", "psutil"]

_PROC = "/proc"
_CLK_TCK = float(os.sysconf("SC_CLK_TCK")) if hasattr(os, "sysconf") else 100.0
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
#: Examine pids one by one up to this many new ones per tick; beyond it scan all of /proc.
_MAX_RANGE = 256
_DEAD_STATES = frozenset((b"Z", b"X", b"x"))


class ProcId(NamedTuple):
    """A process identity that survives pid reuse: the pid and its start time."""

    pid: int
    start: float  # clock ticks since boot (procfs) or psutil's create_time


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


class ProcSnapshot(NamedTuple):
    """One process at one tick."""

    id: ProcId
    rss_bytes: int
    cpu_s: float  # user + system since the process started
    threads: int
    age_s: float  # seconds since it started, for the first CPU reading


class _Stat(NamedTuple):
    pid: int
    state: bytes
    ppid: int
    pgrp: int
    session: int
    cpu_ticks: int
    threads: int
    start: int
    rss_pages: int


@functools.cache
def procfs_available() -> bool:
    """True on Linux with /proc mounted: the fast backend."""
    return Path(_PROC, "self", "stat").exists() and Path(_PROC, "loadavg").exists()


def _read(path: str, size: int = 4096) -> bytes | None:
    """One small /proc file with raw syscalls: no Python file object, no buffering (cheap)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        return os.read(fd, size)
    except OSError:
        return None
    finally:
        os.close(fd)


def _read_stat(pid: int) -> _Stat | None:
    data = _read(f"{_PROC}/{pid}/stat")
    if not data:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = data[data.rfind(b")") + 2 :].split()
    try:
        return _Stat(
            pid,
            fields[0],
            int(fields[1]),
            int(fields[2]),
            int(fields[3]),
            int(fields[11]) + int(fields[12]),
            int(fields[17]),
            int(fields[19]),
            int(fields[21]),
        )
    except (IndexError, ValueError):
        return None


def _tgid(pid: int) -> int | None:
    """The thread group of a pid: a thread id is accessible under /proc but is no process."""
    data = _read(f"{_PROC}/{pid}/status", 1024)
    if not data:
        return None
    start = data.find(b"\nTgid:")
    if start < 0:
        return None
    end = data.find(b"\n", start + 1)
    try:
        return int(data[start + 6 : end])
    except ValueError:
        return None


def _last_pid() -> int | None:
    data = _read(f"{_PROC}/loadavg", 256)
    try:
        return int(data.split()[-1]) if data else None
    except ValueError:
        return None


def _pid_max() -> int:
    data = _read(f"{_PROC}/sys/kernel/pid_max", 64)
    try:
        return int(data) if data else 4_194_304
    except ValueError:
        return 4_194_304


def _all_pids() -> list[int]:
    try:
        names = os.listdir(_PROC)  # noqa: PTH208 - hot path: no Path object per process
    except OSError:
        return []
    return [int(name) for name in names if name.isdigit()]


def _boottime_s() -> float:
    """Seconds since boot on the clock /proc start times use (CLOCK_BOOTTIME)."""
    return time.clock_gettime(time.CLOCK_BOOTTIME)


class _ProcfsTree:
    """The tree of ``root`` from /proc; see the module docstring for how members are found."""

    def __init__(self, root: int) -> None:
        self.root = root
        stat = _read_stat(root)
        self._known: dict[int, int] = {root: stat.start} if stat else {}
        # Only a session *leader* root makes "same session" mean "ours".
        self._session = root if stat is not None and stat.session == root else None
        self._cursor = root  # every pid handed out after the root's is a candidate
        self._pid_max = _pid_max()
        self._fresh: dict[int, _Stat] = {}

    def _discover(self) -> None:
        last = _last_pid()
        if last is not None and last == self._cursor:
            return
        gap = (last - self._cursor) % self._pid_max if last is not None else _MAX_RANGE + 1
        ranged = gap <= _MAX_RANGE
        first = self._cursor
        if ranged:
            candidates: Iterable[int] = [(first + i) % self._pid_max for i in range(1, gap + 1)]
        else:
            candidates = _all_pids()
        if last is not None:
            self._cursor = last
        pending: dict[int, _Stat] = {}
        for pid in candidates:
            if pid and pid not in self._known:
                stat = _read_stat(pid)
                if stat is not None and stat.state not in _DEAD_STATES:
                    pending[pid] = stat
        changed = True
        while changed and pending:  # a grandchild may come before its parent after pid wrap
            changed = False
            for pid, stat in list(pending.items()):
                ours = stat.ppid in self._known or (
                    self._session is not None and stat.session == self._session
                )
                if not ours:
                    continue
                del pending[pid]
                if ranged and _tgid(pid) != pid:
                    continue  # a thread of a member, not a process
                self._known[pid] = stat.start
                self._fresh[pid] = stat
                changed = True

    def poll(self) -> list[ProcSnapshot]:
        self._discover()
        fresh, self._fresh = self._fresh, {}
        now = _boottime_s()
        out: list[ProcSnapshot] = []
        for pid, start in list(self._known.items()):
            stat = fresh.get(pid) or _read_stat(pid)
            if stat is None or stat.start != start or stat.state in _DEAD_STATES:
                del self._known[pid]
                continue
            out.append(
                ProcSnapshot(
                    ProcId(pid, float(start)),
                    stat.rss_pages * _PAGE,
                    stat.cpu_ticks / _CLK_TCK,
                    stat.threads,
                    now - start / _CLK_TCK,
                )
            )
        return out

    def members(self) -> list[ProcId]:
        return [ProcId(pid, float(start)) for pid, start in self._known.items()]


class _PsutilTree:
    """The portable fallback: psutil's recursive children on every poll."""

    def __init__(self, root: int) -> None:
        import psutil  # only where /proc is missing: kept off the CLI's import path

        self.root = root
        self._procs: dict[int, psutil.Process] = {}
        with contextlib.suppress(psutil.Error):
            self._procs[root] = psutil.Process(root)

    def poll(self) -> list[ProcSnapshot]:
        import psutil

        root = self._procs.get(self.root)
        if root is not None:
            with contextlib.suppress(psutil.Error):
                for child in root.children(recursive=True):
                    known = self._procs.get(child.pid)
                    if known is None or known != child:  # Process equality includes create time
                        self._procs[child.pid] = child
        now = time.time()
        out: list[ProcSnapshot] = []
        for pid, proc in list(self._procs.items()):
            try:
                with proc.oneshot():
                    if proc.status() == psutil.STATUS_ZOMBIE:
                        raise psutil.NoSuchProcess(pid)
                    times = proc.cpu_times()
                    created = proc.create_time()
                    out.append(
                        ProcSnapshot(
                            ProcId(pid, created),
                            proc.memory_info().rss,
                            times.user + times.system,
                            proc.num_threads(),
                            now - created,
                        )
                    )
            except psutil.Error:
                del self._procs[pid]
        return out

    def members(self) -> list[ProcId]:
        import psutil

        out: list[ProcId] = []
        for proc in self._procs.values():
            with contextlib.suppress(psutil.Error):
                out.append(ProcId(proc.pid, proc.create_time()))
        return out


class ProcessTree:
    """A root process and its descendants, followed from one poll to the next.

    Not thread-safe: one thread polls (the sampler's, or the runner's when sampling is off).
    """

    def __init__(self, root_pid: int, *, backend: Backend = "auto") -> None:
        if backend == "auto":
            backend = "procfs" if procfs_available() else "psutil"
        self.backend: Backend = backend
        self._impl: _ProcfsTree | _PsutilTree = (
            _ProcfsTree(root_pid) if backend == "procfs" else _PsutilTree(root_pid)
        )

    def poll(self) -> list[ProcSnapshot]:
        """Discover new members, drop dead ones, and return a snapshot of each live one."""
        return self._impl.poll()

    def members(self) -> list[ProcId]:
        """The members alive at the last poll (the root included while it lives)."""
        return self._impl.members()


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


# --- process-table helpers the runner uses to find and kill what a command left behind ---


def session_members(session: int) -> list[ProcId]:
    """Live processes in ``session`` or in process group ``session`` (zombies excluded)."""
    out: list[ProcId] = []
    if procfs_available():
        for pid in _all_pids():
            stat = _read_stat(pid)
            if (
                stat is not None
                and session in (stat.session, stat.pgrp)
                and stat.state not in _DEAD_STATES
            ):
                out.append(ProcId(pid, float(stat.start)))
        return out
    import psutil

    for proc in psutil.process_iter():
        try:
            with proc.oneshot():
                if proc.status() == psutil.STATUS_ZOMBIE:
                    continue
                if os.getsid(proc.pid) == session or os.getpgid(proc.pid) == session:
                    out.append(ProcId(proc.pid, proc.create_time()))
        except (psutil.Error, OSError):
            continue
    return out


def is_alive(proc: ProcId) -> bool:
    """The very process ``proc`` (not a later one reusing its pid) is running (not a zombie)."""
    if procfs_available():
        stat = _read_stat(proc.pid)
        return stat is not None and stat.start == proc.start and stat.state not in _DEAD_STATES
    import psutil

    try:
        p = psutil.Process(proc.pid)
        return p.create_time() == proc.start and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def send_signal(proc: ProcId, sig: signal.Signals) -> bool:
    """Signal ``proc`` if it is still that process; False when it is gone.

    A pidfd pins the process while its identity is checked, so a recycled pid is never hit.
    """
    try:
        fd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        fd = -1
    try:
        if not is_alive(proc):
            return False
        if fd >= 0:
            signal.pidfd_send_signal(fd, sig)
        else:
            os.kill(proc.pid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False
    finally:
        if fd >= 0:
            os.close(fd)
