"""Process identities from /proc, read with raw syscalls: cheap enough for every tick.

A pid alone is no identity (the kernel reuses pids); the pid and its start time are
(:class:`ProcId`). The runner uses the process-table helpers at the end to find and kill
what a command left behind without ever hitting a recycled pid. Without /proc, psutil.
"""

from __future__ import annotations

import functools
import os
import signal
import time
from pathlib import Path
from typing import NamedTuple

PROC = "/proc"
CLK_TCK = float(os.sysconf("SC_CLK_TCK")) if hasattr(os, "sysconf") else 100.0
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
DEAD_STATES = frozenset((b"Z", b"X", b"x"))


class ProcId(NamedTuple):
    """A process identity that survives pid reuse: the pid and its start time."""

    pid: int
    start: float  # clock ticks since boot (procfs) or psutil's create_time


class Stat(NamedTuple):
    """The fields of ``/proc/<pid>/stat`` the tree and the process helpers use."""

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
    return Path(PROC, "self", "stat").exists() and Path(PROC, "loadavg").exists()


def read_small(path: str, size: int = 4096) -> bytes | None:
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


def read_stat(pid: int) -> Stat | None:
    data = read_small(f"{PROC}/{pid}/stat")
    if not data:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = data[data.rfind(b")") + 2 :].split()
    try:
        return Stat(
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


def tgid(pid: int) -> int | None:
    """The thread group of a pid: a thread id is accessible under /proc but is no process."""
    data = read_small(f"{PROC}/{pid}/status", 1024)
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


def last_pid() -> int | None:
    data = read_small(f"{PROC}/loadavg", 256)
    try:
        return int(data.split()[-1]) if data else None
    except ValueError:
        return None


def pid_max() -> int:
    data = read_small(f"{PROC}/sys/kernel/pid_max", 64)
    try:
        return int(data) if data else 4_194_304
    except ValueError:
        return 4_194_304


def all_pids() -> list[int]:
    try:
        names = os.listdir(PROC)  # noqa: PTH208 - hot path: no Path object per process
    except OSError:
        return []
    return [int(name) for name in names if name.isdigit()]


def boottime_s() -> float:
    """Seconds since boot on the clock /proc start times use (CLOCK_BOOTTIME)."""
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def session_members(session: int) -> list[ProcId]:
    """Live processes in ``session`` or in process group ``session`` (zombies excluded)."""
    out: list[ProcId] = []
    if procfs_available():
        for pid in all_pids():
            stat = read_stat(pid)
            if (
                stat is not None
                and session in (stat.session, stat.pgrp)
                and stat.state not in DEAD_STATES
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
        stat = read_stat(proc.pid)
        return stat is not None and stat.start == proc.start and stat.state not in DEAD_STATES
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
