"""The resource sampler on real process trees, with both backends."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from perfinvest.adapters import proctree
from perfinvest.adapters.sampler import (
    Backend,
    ProcessTree,
    ProcId,
    ResourceSampler,
    ResourceSummary,
    is_alive,
    send_signal,
    session_members,
)

PY = sys.executable
BACKENDS: list[Backend] = ["procfs", "psutil"]
Spawn = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """Start a command in a new session; kill its group afterwards."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(*argv: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(argv, start_new_session=True, stdout=subprocess.PIPE)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def sample(pid: int, seconds: float, backend: Backend, hz: float = 20.0) -> ResourceSummary:
    sampler = ResourceSampler(pid, hz, backend=backend).start()
    time.sleep(seconds)
    return sampler.stop()


@pytest.mark.parametrize("backend", BACKENDS)
def test_whole_tree_is_counted(spawn: Spawn, backend: Backend) -> None:
    proc = spawn("sh", "-c", "sleep 3 & sleep 3 & sleep 3 & wait")
    summary = sample(proc.pid, 0.5, backend)
    assert summary.samples >= 5
    assert summary.max_processes == 4
    assert summary.max_threads >= 4
    assert summary.peak_rss_bytes >= summary.mean_rss_bytes > 0
    assert summary.hz == 20.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_children_appearing_later_are_added(spawn: Spawn, backend: Backend) -> None:
    proc = spawn("sh", "-c", "sleep 0.3; sleep 3 & sleep 3 & wait")
    tree = ProcessTree(proc.pid, backend=backend)
    assert len(tree.poll()) <= 2  # the shell, perhaps its "sleep 0.3"
    time.sleep(0.6)
    assert len(tree.poll()) == 3
    assert {p.pid for p in tree.members()} >= {proc.pid}


def test_orphans_in_the_session_stay_members(spawn: Spawn) -> None:
    # The subshell forks a sleep and exits at once: the sleep is reparented, but it is still
    # in the session the root leads, so the procfs backend finds it.
    proc = spawn("sh", "-c", "(sleep 3 & echo $!); sleep 3")
    assert proc.stdout is not None
    orphan = int(proc.stdout.readline())
    tree = ProcessTree(proc.pid, backend="procfs")
    members = {snap.id.pid for snap in tree.poll()}
    assert orphan in members and proc.pid in members


def test_full_scan_when_many_pids_were_created(
    spawn: Spawn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(proctree, "_MAX_RANGE", 0)
    proc = spawn("sh", "-c", "sleep 3 & sleep 3 & wait")
    time.sleep(0.2)
    tree = ProcessTree(proc.pid, backend="procfs")
    assert len(tree.poll()) == 3


def test_threads_are_not_mistaken_for_processes(spawn: Spawn) -> None:
    code = (
        "import threading, time\n"
        "for _ in range(5): threading.Thread(target=time.sleep, args=(3,), daemon=True).start()\n"
        "time.sleep(3)\n"
    )
    proc = spawn(PY, "-c", code)
    tree = ProcessTree(proc.pid, backend="procfs")
    time.sleep(0.5)
    snapshots = tree.poll()
    assert len(snapshots) == 1
    assert snapshots[0].threads == 6


@pytest.mark.parametrize("backend", BACKENDS)
def test_busy_process_cpu_and_memory(spawn: Spawn, backend: Backend) -> None:
    code = (
        "import time\n"
        "block = bytearray(100 * 2**20)\n"
        "for i in range(0, len(block), 4096): block[i] = 1\n"
        "end = time.time() + 3\n"
        "while time.time() < end: pass\n"
    )
    proc = spawn(PY, "-c", code)
    summary = sample(proc.pid, 1.0, backend, hz=10)
    assert summary.peak_rss_bytes >= 100 * 2**20
    assert summary.mean_cpu_percent > 30  # one busy core; the host is shared and noisy
    assert summary.peak_cpu_percent < 250


def test_the_sampler_measures_its_own_cost(spawn: Spawn) -> None:
    proc = spawn("sh", "-c", "sleep 3 & sleep 3 & wait")
    summary = sample(proc.pid, 1.0, "procfs", hz=10)
    assert 0 < summary.sampler_cpu_s < 0.05  # under 5 % of a core even on a noisy host


def test_stop_returns_at_once_and_after_the_tree_died(spawn: Spawn) -> None:
    proc = spawn("sleep", "0.2")
    sampler = ResourceSampler(proc.pid, 1.0).start()  # a tick only every second
    time.sleep(0.5)
    started = time.monotonic()
    summary = sampler.stop()
    assert time.monotonic() - started < 0.2
    assert summary.samples == 1


def test_hz_must_be_positive() -> None:
    with pytest.raises(ValueError):
        ResourceSampler(1, 0)


def test_session_members_identity_and_signals(spawn: Spawn) -> None:
    proc = spawn("sh", "-c", "sleep 3 & sleep 3 & wait")
    time.sleep(0.2)
    members = session_members(proc.pid)
    assert len(members) == 3 and proc.pid in {m.pid for m in members}
    child = next(m for m in members if m.pid != proc.pid)
    assert is_alive(child)
    impostor = ProcId(child.pid, child.start + 1)  # same pid, another start: not that process
    assert not is_alive(impostor)
    assert not send_signal(impostor, signal.SIGTERM)
    assert send_signal(child, signal.SIGTERM)
    deadline = time.monotonic() + 2
    while is_alive(child) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not is_alive(child)
    assert not send_signal(child, signal.SIGTERM)
