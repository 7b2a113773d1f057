"""Process liveness, and the benchmark processes a dead perfinvest left running.

Every process started while the host lock is held carries ``PERFINVEST_RUN_TOKEN=<token>``
in its environment (the holder puts it there, see :mod:`perfinvest.adapters.hostlock`), and
the token is recorded in the lock file. A perfinvest killed with SIGKILL cannot kill its
benchmark's tree; the next holder (or ``perfinvest recover``) finds the tree by that marker,
wherever its members went (another session, reparented to init), and stops it. The marker is
checked on each process right before it is signalled, through a pidfd that pins it, so a
reused pid or process group is never hit. A process that cleared its environment
(``env -i``) carries no marker and is not found. A live member of the benchmark's recorded
process group whose environment this user may not read (another user's) can be neither
verified nor stopped: it is reported alive, so the caller refuses to run beside it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from perfinvest.adapters.sampler import ProcId, is_alive, session_members

#: The environment variable that marks every process of a lock holder's runs.
RUN_TOKEN_ENV = "PERFINVEST_RUN_TOKEN"
#: After SIGTERM, how long an orphaned tree gets before SIGKILL.
ORPHAN_GRACE_S = 2.0
_PROC = Path("/proc")


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` exists (another user's process counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Orphan:
    """A marked process: who it is and what it runs, for the message."""

    proc: ProcId
    pgid: int
    command: str

    def describe(self) -> str:
        return f"pid {self.proc.pid} (group {self.pgid}: {self.command})"


@dataclass(frozen=True)
class OrphanReport:
    """What :func:`stop_marked` did: the processes it stopped and those still alive."""

    stopped: tuple[Orphan, ...]
    alive: tuple[Orphan, ...]


def _stat(pid: int) -> tuple[float, int, bytes] | None:
    """Start time, process group and state of ``pid`` from ``/proc/<pid>/stat``."""
    try:
        data = (_PROC / str(pid) / "stat").read_bytes()
    except OSError:
        return None
    fields = data[data.rfind(b")") + 2 :].split()
    try:
        return float(fields[19]), int(fields[2]), fields[0]
    except (IndexError, ValueError):
        return None


def _marked(pid: int, marker: bytes) -> bool:
    try:
        environ = (_PROC / str(pid) / "environ").read_bytes()
    except OSError:  # gone, or another user's: not ours to stop
        return False
    return environ.startswith(marker) or b"\0" + marker in environ


def _command(pid: int) -> str:
    try:
        words = (_PROC / str(pid) / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    text = " ".join(w.decode("utf-8", "replace") for w in words if w)
    return text if len(text) <= 80 else text[:79] + "…"


def _ancestors() -> set[int]:
    """This process and its ancestors: never stopped, whatever their environment says."""
    seen = {os.getpid()}
    pid = os.getppid()
    while pid > 1 and pid not in seen:
        seen.add(pid)
        try:
            status = (_PROC / str(pid) / "status").read_text()
        except OSError:
            break
        line = next((row for row in status.splitlines() if row.startswith("PPid:")), "")
        pid = int(line.split()[1]) if line else 0
    return seen


def find_marked(token: str, env_name: str = RUN_TOKEN_ENV) -> list[Orphan]:
    """Live processes carrying ``PERFINVEST_RUN_TOKEN=token`` (or ``env_name=token``;
    zombies and ourselves excluded)."""
    if not token:
        return []
    marker = f"{env_name}={token}\0".encode()
    skip = _ancestors()
    try:
        pids = [int(entry.name) for entry in _PROC.iterdir() if entry.name.isdigit()]
    except OSError:
        return []
    found = []
    for pid in pids:
        if pid in skip:
            continue
        stat = _stat(pid)
        if stat is None or stat[2] in (b"Z", b"X") or not _marked(pid, marker):
            continue
        found.append(Orphan(ProcId(pid, stat[0]), stat[1], _command(pid)))
    return found


def _signal_marked(
    orphan: Orphan, token: str, sig: signal.Signals, env_name: str = RUN_TOKEN_ENV
) -> None:
    """Signal the very process found, and only while it still carries the marker."""
    marker = f"{env_name}={token}\0".encode()
    try:
        fd = os.pidfd_open(orphan.proc.pid)
    except OSError:
        return  # gone
    try:
        stat = _stat(orphan.proc.pid)
        if stat is None or stat[0] != orphan.proc.start or not _marked(orphan.proc.pid, marker):
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            signal.pidfd_send_signal(fd, sig)
    finally:
        os.close(fd)


def unverifiable(pgid: int | None) -> list[Orphan]:
    """Live members of group (or session) ``pgid`` whose environment cannot be read."""
    if not pgid:
        return []
    skip = _ancestors()
    found = []
    for proc in session_members(pgid):
        if proc.pid in skip:
            continue
        try:
            (_PROC / str(proc.pid) / "environ").read_bytes()
        except PermissionError:
            found.append(Orphan(proc, pgid, _command(proc.pid)))
        except OSError:
            continue
    return found


def stop_marked(
    token: str,
    grace_s: float = ORPHAN_GRACE_S,
    *,
    pgid: int | None = None,
    env_name: str = RUN_TOKEN_ENV,
) -> OrphanReport:
    """SIGTERM every process carrying the token, SIGKILL what is left after ``grace_s``.

    Looks again after each round: a member may fork while it dies. Members of ``pgid`` (the
    benchmark's recorded group) that cannot be checked are reported alive.
    """
    report = _stop_marked(token, grace_s, env_name)
    return OrphanReport(report.stopped, report.alive + tuple(unverifiable(pgid)))


def group_members(pgids: set[int], skip: set[int]) -> list[Orphan]:
    """Live processes in one of ``pgids`` (zombies and ``skip`` excluded)."""
    if not pgids:
        return []
    try:
        pids = [int(entry.name) for entry in _PROC.iterdir() if entry.name.isdigit()]
    except OSError:
        return []
    found = []
    for pid in pids:
        stat = _stat(pid)
        if pid in skip or stat is None or stat[2] in (b"Z", b"X") or stat[1] not in pgids:
            continue
        found.append(Orphan(ProcId(pid, stat[0]), stat[1], _command(pid)))
    return found


def _signal_pinned(orphan: Orphan, sig: signal.Signals) -> None:
    """Signal the very process found (same start time), through a pidfd."""
    try:
        fd = os.pidfd_open(orphan.proc.pid)
    except OSError:
        return
    try:
        stat = _stat(orphan.proc.pid)
        if stat is None or stat[0] != orphan.proc.start:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            signal.pidfd_send_signal(fd, sig)
    finally:
        os.close(fd)


def _stop_unmarked_members(found: list[Orphan], marker_pids: set[int]) -> list[Orphan]:
    """Members without the marker (``env -i``) of a process group that still has a marked
    member: that group never emptied, so its id was never reused: it is the benchmark's."""
    skip = _ancestors()
    own = {os.getpgrp()} | {stat[1] for pid in skip if (stat := _stat(pid)) is not None}
    groups = {orphan.pgid for orphan in found if orphan.pgid > 1} - own  # never our own
    members = [m for m in group_members(groups, skip) if m.proc.pid not in marker_pids]
    for member in members:
        _signal_pinned(member, signal.SIGKILL)
    return members


def _stop_marked(token: str, grace_s: float, env_name: str) -> OrphanReport:
    stopped: dict[ProcId, Orphan] = {}
    found = find_marked(token, env_name)
    for member in _stop_unmarked_members(found, {o.proc.pid for o in found}):
        stopped[member.proc] = member
    for _ in range(3):
        found = [orphan for orphan in found if orphan.proc not in stopped]
        if not found:
            break
        for orphan in found:
            _signal_marked(orphan, token, signal.SIGTERM, env_name)
        deadline = time.monotonic() + grace_s
        alive = found
        while alive and time.monotonic() < deadline:
            time.sleep(0.05)
            alive = [orphan for orphan in alive if is_alive(orphan.proc)]
        for orphan in alive:
            _signal_marked(orphan, token, signal.SIGKILL, env_name)
        deadline = time.monotonic() + 1.0
        while alive and time.monotonic() < deadline:
            time.sleep(0.02)
            alive = [orphan for orphan in alive if is_alive(orphan.proc)]
        stopped.update((o.proc, o) for o in found if o not in alive)
        if alive:
            return OrphanReport(tuple(stopped.values()), tuple(alive))
        found = find_marked(token, env_name)
    return OrphanReport(tuple(stopped.values()), tuple(found))
