"""A process tree followed from one poll to the next: the root and every descendant.

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
import time
from collections.abc import Iterable
from typing import Literal, NamedTuple

from perfinvest.adapters.procfs import (
    CLK_TCK,
    DEAD_STATES,
    PAGE,
    ProcId,
    Stat,
    all_pids,
    boottime_s,
    last_pid,
    pid_max,
    procfs_available,
    read_stat,
    tgid,
)

Backend = Literal["auto", "procfs", "psutil"]

#: Examine pids one by one up to this many new ones per tick; beyond it scan all of /proc.
_MAX_RANGE = 256


class ProcSnapshot(NamedTuple):
    """One process at one tick."""

    id: ProcId
    rss_bytes: int
    cpu_s: float  # user + system since the process started
    threads: int
    age_s: float  # seconds since it started, for the first CPU reading


class _ProcfsTree:
    """The tree of ``root`` from /proc; see the module docstring for how members are found."""

    def __init__(self, root: int) -> None:
        self.root = root
        stat = read_stat(root)
        self._known: dict[int, int] = {root: stat.start} if stat else {}
        # Only a session *leader* root makes "same session" mean "ours".
        self._session = root if stat is not None and stat.session == root else None
        self._cursor = root  # every pid handed out after the root's is a candidate
        self._pid_max = pid_max()
        self._fresh: dict[int, Stat] = {}

    def _discover(self) -> None:
        last = last_pid()
        if last is not None and last == self._cursor:
            return
        gap = (last - self._cursor) % self._pid_max if last is not None else _MAX_RANGE + 1
        ranged = gap <= _MAX_RANGE
        first = self._cursor
        if ranged:
            candidates: Iterable[int] = [(first + i) % self._pid_max for i in range(1, gap + 1)]
        else:
            candidates = all_pids()
        if last is not None:
            self._cursor = last
        pending: dict[int, Stat] = {}
        for pid in candidates:
            if pid and pid not in self._known:
                stat = read_stat(pid)
                if stat is not None and stat.state not in DEAD_STATES:
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
                if ranged and tgid(pid) != pid:
                    continue  # a thread of a member, not a process
                self._known[pid] = stat.start
                self._fresh[pid] = stat
                changed = True

    def poll(self) -> list[ProcSnapshot]:
        self._discover()
        fresh, self._fresh = self._fresh, {}
        now = boottime_s()
        out: list[ProcSnapshot] = []
        for pid, start in list(self._known.items()):
            stat = fresh.get(pid) or read_stat(pid)
            if stat is None or stat.start != start or stat.state in DEAD_STATES:
                del self._known[pid]
                continue
            out.append(
                ProcSnapshot(
                    ProcId(pid, float(start)),
                    stat.rss_pages * PAGE,
                    stat.cpu_ticks / CLK_TCK,
                    stat.threads,
                    now - start / CLK_TCK,
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
