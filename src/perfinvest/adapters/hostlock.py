"""Rule 1, sequential benchmarks: one host-wide lock held for the whole of any benchmark run.

Two benchmarks on one machine measure each other, whichever investigation or repository they
belong to, so the lock is per host, not per repository: ``perfinvest-benchmark.lock`` in
``$PERFINVEST_LOCK_DIR``, else ``/tmp``. Why ``/tmp``: every repository, user and checkout on
the host sees the same ``/tmp`` and can always write to it, while ``/run/lock`` is root-only
on some systems and ``$XDG_RUNTIME_DIR`` is per user. (Containers each have their own
``/tmp``: point ``PERFINVEST_LOCK_DIR`` at a shared mount to serialise across them.)

``flock(LOCK_EX | LOCK_NB)``: a second run is refused at once, naming the holder, never
queued. The kernel drops the lock when its holder dies however it dies, so a crashed run never
blocks the next one; the holder's details, left behind in the file, let the next run report
the takeover. A clean release empties the file, so details found on acquiring always mean the
previous holder ended without releasing.

A holder killed with SIGKILL cannot stop its benchmark, whose tree would run on beside the
next holder's measurements (rule 1 broken). So every holder marks what it starts: while the
lock is held, ``PERFINVEST_RUN_TOKEN=<random token>`` is in this process's environment (hence
in every benchmark's), the token is in the lock file, and so is the process group of the
benchmark running (:func:`note_benchmark`). Taking over a dead holder's lock first stops the
processes that carry its token (:mod:`perfinvest.adapters.processes`), and refuses to run,
naming them, while any of them lives; :func:`stop_orphans` does the same for
``perfinvest recover``.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import secrets
import socket
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from perfinvest.adapters.processes import (
    RUN_TOKEN_ENV,
    Orphan,
    OrphanReport,
    pid_alive,
    stop_marked,
)
from perfinvest.adapters.runner.containment import ESCAPED_GRACE_S, stop_leftover_cgroups
from perfinvest.core.errors import ExitCode, PerfError, environment_error, refused

LOCK_NAME = "perfinvest-benchmark.lock"
LOCK_DIR_ENV = "PERFINVEST_LOCK_DIR"
#: A holder writes its details right after taking the lock; a refused run waits this long
#: at most for them, so the refusal still comes well within a second.
_DETAILS_WAIT_S = 0.2


@dataclass(frozen=True)
class HolderInfo:
    """Who holds (or held) the benchmark lock."""

    pid: int
    investigation_id: str
    repo: str
    command: str
    started_at: str  # ISO 8601, UTC
    host: str
    run_token: str = ""  # PERFINVEST_RUN_TOKEN of everything this holder started
    benchmark_pgid: int | None = None  # the process group of the benchmark running now

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    def describe(self) -> str:
        """For people: ``pid 123 (investigation X: baseline, started ... on host)``."""
        who = self.investigation_id
        what = who if who.startswith("(") else f"investigation {who}"
        where = f" on {self.host}" if self.host else ""
        group = f", benchmark group {self.benchmark_pgid}" if self.benchmark_pgid else ""
        return f"pid {self.pid} ({what}: {self.command}, started {self.started_at}{where}{group})"

    @classmethod
    def from_json(cls, text: str) -> HolderInfo | None:
        """Details from the lock file, or None when it is empty or not ours."""
        try:
            raw = json.loads(text)
            return cls(
                pid=int(raw["pid"]),
                investigation_id=str(raw["investigation_id"]),
                repo=str(raw["repo"]),
                command=str(raw["command"]),
                started_at=str(raw["started_at"]),
                host=str(raw["host"]),
                run_token=str(raw.get("run_token") or ""),
                benchmark_pgid=int(raw["benchmark_pgid"]) if raw.get("benchmark_pgid") else None,
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


@dataclass(frozen=True)
class HostLease:
    """A held benchmark lock. ``takeover`` names a previous holder that died holding it;
    ``orphans_stopped`` the processes of its benchmark that were still running."""

    path: Path
    holder: HolderInfo
    takeover: HolderInfo | None
    orphans_stopped: tuple[Orphan, ...] = field(default=())

    def takeover_message(self) -> str | None:
        """The log line of a takeover, for people; None when there was none."""
        if self.takeover is None:
            return None
        message = f"took over the benchmark lock from a dead holder, {self.takeover.describe()}"
        if self.orphans_stopped:
            message += "; " + describe_stopped(self.orphans_stopped)
        return message


def describe_stopped(orphans: tuple[Orphan, ...]) -> str:
    shown = ", ".join(orphan.describe() for orphan in orphans[:5])
    more = f" and {len(orphans) - 5} more" if len(orphans) > 5 else ""
    return (
        f"stopped {len(orphans)} of its benchmark processes still running (rule 1): {shown}{more}"
    )


@dataclass
class _Held:
    fd: int
    holder: HolderInfo
    size: int


#: The lock this process holds, for :func:`note_benchmark`.
_held: _Held | None = None


def lock_path() -> Path:
    """``$PERFINVEST_LOCK_DIR/perfinvest-benchmark.lock``, else ``/tmp/...``."""
    return Path(os.environ.get(LOCK_DIR_ENV) or "/tmp") / LOCK_NAME


def _open(path: Path) -> int:
    """Open the lock file for everyone on the host.

    Open an existing file without ``O_CREAT`` first: with ``fs.protected_regular`` the kernel
    refuses ``O_CREAT`` on another user's file in a sticky directory such as ``/tmp``.
    """
    try:
        return os.open(path, os.O_RDWR)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise _open_error(path, exc) from exc
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise _open_error(path, exc) from exc
    with contextlib.suppress(OSError):  # so another user's runs can take it later
        os.fchmod(fd, 0o666)
    return fd


def _open_error(path: Path, exc: OSError) -> PerfError:
    return environment_error(
        f"cannot open the benchmark lock {path}: {exc.strerror or exc}; "
        f"make it writable or set {LOCK_DIR_ENV} to a writable folder"
    )


def _read_details(fd: int) -> HolderInfo | None:
    try:
        data = os.pread(fd, 65536, 0)
    except OSError:
        return None
    return HolderInfo.from_json(data.decode("utf-8", "replace")) if data.strip() else None


def _flock_holder_pid(fd: int) -> int | None:
    """The pid the kernel says holds the flock on this file (``/proc/locks``), if it says."""
    try:
        st = os.fstat(fd)
        with Path("/proc/locks").open(encoding="ascii", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    wanted = f":{st.st_ino}"
    for line in lines:
        parts = line.split()
        # "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"; blocked waiters have a "->" field.
        if len(parts) >= 6 and parts[1] == "FLOCK" and "->" not in parts:
            with contextlib.suppress(ValueError):
                if parts[5].endswith(wanted) and int(parts[5].split(":")[-1]) == st.st_ino:
                    return int(parts[4])
    return None


def _refusal(path: Path, fd: int) -> PerfError:
    """The one-line refusal, naming the live holder (waiting briefly for its details)."""
    kernel_pid = _flock_holder_pid(fd) or None  # 0: a holder outside our pid namespace

    def current(info: HolderInfo | None) -> bool:
        # Details naming a dead pid, or not the pid the kernel names, are a previous holder's,
        # about to be overwritten by the new one.
        return (
            info is not None
            and pid_alive(info.pid)
            and (kernel_pid is None or info.pid == kernel_pid)
        )

    deadline = time.monotonic() + _DETAILS_WAIT_S
    info = _read_details(fd)
    while not current(info) and time.monotonic() < deadline:
        time.sleep(0.01)
        info = _read_details(fd)
    if info is not None and current(info):
        holder = info.describe()
    elif kernel_pid is not None:
        holder = f"pid {kernel_pid}, details not written yet"
    else:
        holder = "a process that gave no details"
    return PerfError(
        f"another benchmark is running on this host ({holder}); benchmarks run one at a "
        f"time (rule 1): wait for it to finish, then retry (lock: {path})",
        ExitCode.REFUSED,
        kind="locked",
    )


def _write(fd: int, holder: HolderInfo, path: Path, pad_to: int = 0) -> int:
    """Write the details in place; padded with spaces (valid JSON) over a longer old text,
    so a reader never sees a mix of the old and the new."""
    data = holder.to_json().encode()
    data = data.ljust(max(pad_to - 1, 0)) + b"\n"
    try:
        if pad_to == 0:
            os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
    except OSError as exc:
        raise _open_error(path, exc) from exc
    return len(data)


def _orphan_refusal(previous: HolderInfo, report: OrphanReport) -> PerfError:
    alive = ", ".join(orphan.describe() for orphan in report.alive[:5])
    return refused(
        f"the benchmark of a dead holder of the lock, {previous.describe()}, is still running "
        f"and could not be stopped by this user: {alive}; stop it (as its owner: "
        "kill -KILL <pid>) and retry, since benchmarks run one at a time (rule 1)"
    )


@contextlib.contextmanager
def host_lock(
    investigation_id: str, command: str, repo: Path | str, *, path: Path | None = None
) -> Iterator[HostLease]:
    """Hold the host-wide benchmark lock for the ``with`` block, or refuse at once.

    Raises ``PerfError`` (kind ``locked``, ``ExitCode.REFUSED``) when a live process holds it,
    and ``ExitCode.REFUSED`` when a dead holder's benchmark is still running and cannot be
    stopped. While held, ``PERFINVEST_RUN_TOKEN`` is set in ``os.environ``.
    """
    global _held  # noqa: PLW0603 - one lock per process: the one note_benchmark writes to
    path = path or lock_path()
    fd = _open(path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise _refusal(path, fd) from None
            raise _open_error(path, exc) from exc
        previous = _read_details(fd)
        stopped: tuple[Orphan, ...] = ()
        if previous is not None and previous.run_token:
            report = stop_marked(previous.run_token, pgid=previous.benchmark_pgid)
            stop_leftover_cgroups(previous.run_token)  # what cleared its environment
            if report.alive:  # the details stay: the next attempt looks again
                raise _orphan_refusal(previous, report)
            stopped = report.stopped
        holder = HolderInfo(
            pid=os.getpid(),
            investigation_id=investigation_id,
            repo=str(repo),
            command=command,
            started_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            host=socket.gethostname(),
            run_token=secrets.token_hex(16),
        )
        size = _write(fd, holder, path)
        saved_token = os.environ.get(RUN_TOKEN_ENV)
        os.environ[RUN_TOKEN_ENV] = holder.run_token
        _held = _Held(fd, holder, size)
        try:
            yield HostLease(path=path, holder=holder, takeover=previous, orphans_stopped=stopped)
        finally:
            _held = None
            # Whatever this holder started and left running (a daemon of a profiler, a load
            # tool, a benchmark run outside the runner) stops with the lock, never runs
            # beside the next holder's benchmark.
            stop_leftover_cgroups(holder.run_token)
            stop_marked(holder.run_token, ESCAPED_GRACE_S)
            if saved_token is None:
                os.environ.pop(RUN_TOKEN_ENV, None)
            else:
                os.environ[RUN_TOKEN_ENV] = saved_token
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)  # released cleanly: nothing to take over
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def note_benchmark(pgid: int | None) -> None:
    """Record the process group of the benchmark now running in the held lock's details.

    For people reading the lock file and the takeover message; does nothing when this
    process holds no lock. Stopping an orphaned tree relies on the token, not on this.
    """
    held = _held
    if held is None or held.holder.benchmark_pgid == pgid:
        return
    held.holder = replace(held.holder, benchmark_pgid=pgid)
    with contextlib.suppress(PerfError):
        held.size = max(held.size, _write(held.fd, held.holder, lock_path(), pad_to=held.size))


def stop_orphans(path: Path | None = None) -> list[str]:
    """For ``perfinvest recover``: stop what a dead holder's benchmark left running.

    Does nothing while a live process holds the lock (its benchmark is no orphan). The
    details stay in the file, so the next run still records the takeover.
    """
    path = path or lock_path()
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return []
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return []
        previous = _read_details(fd)
        if previous is None or not previous.run_token:
            return []
        report = stop_marked(previous.run_token, pgid=previous.benchmark_pgid)
        cgrouped = stop_leftover_cgroups(previous.run_token)
        actions = []
        if cgrouped:
            actions.append(
                f"the benchmark lock's dead holder, {previous.describe()}, left {cgrouped} "
                "process(es) in its run cgroups; stopped them and removed the cgroups"
            )
        if report.stopped:
            actions.append(
                f"the benchmark lock's dead holder, {previous.describe()}, left processes "
                f"running; {describe_stopped(report.stopped)}"
            )
        if report.alive:
            actions.append(str(_orphan_refusal(previous, report)))
        return actions
    finally:
        os.close(fd)


def current_holder(path: Path | None = None) -> HolderInfo | None:
    """The live holder of the benchmark lock, or None (for status displays).

    Reads only: taking even a shared lock to test it could make a real run's
    ``LOCK_EX | LOCK_NB`` fail at that instant.
    """
    path = path or lock_path()
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        info = _read_details(fd)
    finally:
        os.close(fd)
    return info if info is not None and pid_alive(info.pid) else None
