"""Nothing a benchmark starts outlives its run, not even a daemon (issue 23 item 2).

A benchmark that forks, ``setsid``s and forks again leaves its session and process group and
is reparented to init: the group kill and the descendant tracking of the runner do not see
it. Two nets catch it at the end of every run:

- a *run marker*: ``PERFINVEST_BENCH_TOKEN=<random>`` in the benchmark's environment, which a
  daemon keeps (:func:`perfinvest.adapters.processes.stop_marked` finds it by that);
- a *run cgroup* where the cgroup v1 ``pids`` hierarchy is writable (as root on hosts with
  cgroup v1; see docs/measuring.md): the calling thread joins
  ``/sys/fs/cgroup/pids/perfinvest-run-<lock token>-<run token>`` (its ``tasks`` file: only
  this thread, not the process) for as long as it spawns, so every process the benchmark
  starts is born inside and cannot leave it by reparenting or by clearing its environment.
  The thread goes back to its own cgroup before anything is signalled.

:func:`contained` yields the prepared command with the marker added; when the block ends,
everything still running in the cgroup or carrying the marker is stopped (SIGTERM, SIGKILL
after a grace) and counted, and the cgroup removed. A run killed with SIGKILL leaves its
cgroup; :func:`stop_leftover_cgroups` (the next lock holder, ``perfinvest recover``) empties
and removes those of a dead lock holder.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from perfinvest.adapters import deathsig
from perfinvest.adapters.processes import RUN_TOKEN_ENV, stop_marked
from perfinvest.adapters.runner.launch import Prepared

#: The marker of one run's processes (the lock's token marks every run of the holder).
BENCH_TOKEN_ENV = "PERFINVEST_BENCH_TOKEN"
#: The cgroup v1 hierarchy used for tracking only (no limit is set on it).
PIDS_ROOT = Path("/sys/fs/cgroup/pids")
CGROUP_PREFIX = "perfinvest-run-"
#: After SIGTERM, how long the escaped processes get before SIGKILL.
ESCAPED_GRACE_S = 1.0
#: Disable the run cgroup (the marker still works): set to 1.
NO_CGROUP_ENV = "PERFINVEST_NO_RUN_CGROUP"


@dataclass
class Containment:
    """One run's nets; :attr:`stopped` is filled when the block ends."""

    token: str
    cgroup: Path | None = None
    stopped: int = 0
    notes: list[str] = field(default_factory=list)


def _thread_cgroup_path(root: Path) -> Path | None:
    """The ``pids`` cgroup of the calling thread (``/proc/thread-self/cgroup``)."""
    try:
        text = Path("/proc/thread-self/cgroup").read_text(encoding="ascii")
    except OSError:
        return None
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3 and "pids" in parts[1].split(","):
            return root / parts[2].lstrip("/")
    return None


def _write_tid(folder: Path, tid: int) -> bool:
    try:
        (folder / "tasks").write_text(str(tid), encoding="ascii")
    except OSError:
        return False
    return True


def _make_cgroup(token: str) -> Path | None:
    if os.environ.get(NO_CGROUP_ENV) == "1" or not (PIDS_ROOT / "tasks").is_file():
        return None
    if not os.access(PIDS_ROOT, os.W_OK):
        return None
    lock_token = os.environ.get(RUN_TOKEN_ENV, "") or "nolock"
    folder = PIDS_ROOT / f"{CGROUP_PREFIX}{lock_token}-{token}"
    try:
        folder.mkdir()
    except OSError:
        return None
    return folder


def _members(folder: Path) -> list[int]:
    try:
        text = (folder / "cgroup.procs").read_text(encoding="ascii")
    except OSError:
        return []
    return [int(word) for word in text.split() if word.isdigit()]


def _own_threads_out(folder: Path, home: Path | None) -> None:
    """Move every thread of this process still in ``folder`` back to ``home`` (a thread
    started while the spawning thread was inside was born there too)."""
    own = set()
    with contextlib.suppress(OSError):
        own = {int(t.name) for t in Path(f"/proc/{os.getpid()}/task").iterdir()}
    try:
        tids = [int(w) for w in (folder / "tasks").read_text(encoding="ascii").split()]
    except OSError:
        return
    target = home if home is not None else PIDS_ROOT
    for tid in tids:
        if tid in own:
            _write_tid(target, tid)


def empty_cgroup(folder: Path, grace_s: float = ESCAPED_GRACE_S) -> int:
    """SIGTERM, then SIGKILL, every process in ``folder`` but this one; remove it; count."""
    me = os.getpid()
    seen: set[int] = set()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        members = [pid for pid in _members(folder) if pid != me]
        seen.update(members)
        for pid in members:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)  # a cgroup member cannot be a recycled pid: it is pinned
        deadline = time.monotonic() + grace_s
        while [p for p in _members(folder) if p != me] and time.monotonic() < deadline:
            time.sleep(0.02)
    for _ in range(50):
        try:
            folder.rmdir()
            break
        except FileNotFoundError:
            break
        except OSError:
            time.sleep(0.02)  # zombies are still being reaped by init
    return len(seen)


@contextlib.contextmanager
def contained(prep: Prepared) -> Iterator[tuple[Prepared, Containment]]:
    """``prep`` with the run marker; the calling thread inside the run cgroup meanwhile.

    On leaving (normally or not), everything the run left behind is stopped and counted in
    ``Containment.stopped``.
    """
    box = Containment(token=secrets.token_hex(12))
    marked = replace(prep, env={**prep.env, BENCH_TOKEN_ENV: box.token})
    tid = threading.get_native_id()
    deathsig.ensure_started()  # spawned from inside the cgroup it would die with the run
    home = _thread_cgroup_path(PIDS_ROOT)
    folder = _make_cgroup(box.token)
    if folder is not None and _write_tid(folder, tid):
        box.cgroup = folder
    elif folder is not None:
        with contextlib.suppress(OSError):
            folder.rmdir()
    try:
        yield marked, box
    finally:
        if box.cgroup is not None:
            _write_tid(home if home is not None else PIDS_ROOT, tid)
            _own_threads_out(box.cgroup, home)
            box.stopped += empty_cgroup(box.cgroup)
        report = stop_marked(box.token, ESCAPED_GRACE_S, env_name=BENCH_TOKEN_ENV)
        box.stopped += len(report.stopped)
        if report.alive:
            box.notes.append(
                f"{len(report.alive)} process(es) the benchmark left could not be stopped: "
                + ", ".join(o.describe() for o in report.alive)
            )


def stop_leftover_cgroups(lock_token: str) -> int:
    """Empty and remove the run cgroups a dead lock holder (``lock_token``) left; count."""
    if not lock_token or not PIDS_ROOT.is_dir():
        return 0
    stopped = 0
    with contextlib.suppress(OSError):
        for folder in sorted(PIDS_ROOT.glob(f"{CGROUP_PREFIX}{lock_token}-*")):
            stopped += empty_cgroup(folder)
    return stopped
