"""The host-wide benchmark lock (rule 1) against real second processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from perfinvest.adapters.hostlock import (
    LOCK_NAME,
    current_holder,
    host_lock,
    lock_path,
)
from perfinvest.core.errors import ExitCode, PerfError

HOLDER = textwrap.dedent(
    """
    import sys, time
    from perfinvest.adapters.hostlock import host_lock
    with host_lock("inv-holder", "bench --fast", "/repo/a"):
        print("ready", flush=True)
        time.sleep(60)
    """
)

RAW_HOLDER = textwrap.dedent(
    """
    import fcntl, os, sys, time
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o666)
    fcntl.flock(fd, fcntl.LOCK_EX)
    print("ready", flush=True)
    time.sleep(60)
    """
)


@pytest.fixture
def lock_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PERFINVEST_LOCK_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def holder(lock_dir: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER], stdout=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "ready\n"
    yield proc
    proc.kill()
    proc.wait()
    proc.stdout.close()


def test_lock_path_defaults_to_tmp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERFINVEST_LOCK_DIR", raising=False)
    assert lock_path() == Path("/tmp") / LOCK_NAME


def test_holder_details_are_written_and_cleared(lock_dir: Path) -> None:
    with host_lock("inv-1", "make bench", Path("/repo/x")) as lease:
        assert lease.path == lock_dir / LOCK_NAME
        assert lease.takeover is None
        details = json.loads(lease.path.read_text())
        assert details["pid"] == os.getpid()
        assert details["investigation_id"] == "inv-1"
        assert details["repo"] == "/repo/x" and details["command"] == "make bench"
        assert details["started_at"].endswith("Z") and details["host"]
        assert current_holder() == lease.holder
    assert lease.path.read_text() == ""  # released cleanly: nothing to take over
    assert current_holder() is None
    with host_lock("inv-2", "make bench", "/repo/x") as again:
        assert again.takeover is None


def test_second_run_is_refused_at_once_naming_the_holder(
    holder: subprocess.Popen[str],
) -> None:
    started = time.monotonic()
    with pytest.raises(PerfError) as info, host_lock("inv-2", "bench", "/repo/b"):
        pytest.fail("a second benchmark must not run")
    assert time.monotonic() - started < 1.0
    error = info.value
    assert error.code == ExitCode.REFUSED and error.kind == "locked"
    assert f"pid {holder.pid}" in error.message
    assert "investigation inv-holder" in error.message
    assert "started 20" in error.message
    assert "\n" not in error.message


def test_same_process_cannot_nest_benchmarks(lock_dir: Path) -> None:
    with (
        host_lock("inv-1", "bench", "/r"),
        pytest.raises(PerfError, match=f"pid {os.getpid()}"),
        host_lock("inv-1", "bench", "/r"),
    ):
        pass


def test_killed_holder_is_taken_over(holder: subprocess.Popen[str]) -> None:
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with host_lock("inv-3", "bench", "/repo/c") as lease:
        assert lease.takeover is not None
        assert lease.takeover.pid == holder.pid
        assert lease.takeover.investigation_id == "inv-holder"
        assert lease.holder.pid == os.getpid()


def test_holder_without_details_is_named_by_the_kernel(lock_dir: Path) -> None:
    path = lock_dir / LOCK_NAME
    proc = subprocess.Popen(
        [sys.executable, "-c", RAW_HOLDER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        started = time.monotonic()
        with (
            pytest.raises(PerfError, match=f"pid {proc.pid}, details not written yet"),
            host_lock("inv-4", "bench", "/r"),
        ):
            pass
        assert time.monotonic() - started < 1.0
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def test_unwritable_lock_dir_is_an_environment_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("PERFINVEST_LOCK_DIR", str(blocker / "sub"))
    with pytest.raises(PerfError) as info, host_lock("inv", "bench", "/r"):
        pass
    assert info.value.code == ExitCode.ENVIRONMENT
