"""A SIGKILLed lock holder's benchmark tree is found by its token and stopped (rule 1).

Real processes throughout: a holder process takes the real host lock, starts a benchmark
tree through the real runner (its own session, plus a grandchild that escapes into a session
of its own), and is SIGKILLed. The deathsig watchdog kills the benchmark's process group at
once; the escaped grandchild is out of its reach and runs on, reparented, until the next
holder (or ``stop_orphans``, used by ``perfinvest recover``) finds it by its token and stops
it. A decoy with no token, and one with another holder's token, must survive.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from perfinvest.adapters.hostlock import LOCK_NAME, HolderInfo, host_lock, stop_orphans
from perfinvest.adapters.processes import RUN_TOKEN_ENV, find_marked

SRC = Path(__file__).resolve().parents[2] / "src"

#: Takes the lock, runs a tree through the runner (duration mode), prints its pids.
HOLDER = textwrap.dedent(
    """
    import sys, threading
    from pathlib import Path
    from perfinvest.adapters import hostlock
    from perfinvest.adapters.runner import RunSpec, run_command
    script = (
        "setsid sh -c 'echo $$ > escaped.pid; exec sleep 300' & "
        "python3 -c 'while True: pass' & echo $! > burner.pid; wait"
    )
    with hostlock.host_lock("inv-killed", "baseline", "/repo/k"):
        spec = RunSpec([script], shell=True, cwd=Path(sys.argv[1]), duration_s=300, sample_hz=0)
        run_command(spec, on_spawn=hostlock.note_benchmark)
    """
)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _wait_for(path: Path, timeout: float = 15.0) -> int:
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.read_text().strip()):
        assert time.monotonic() < deadline, f"{path.name} never written"
        time.sleep(0.02)
    return int(path.read_text())


def _wait_gone(pid: int, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not _alive(pid)


@pytest.fixture
def decoys() -> Iterator[list[subprocess.Popen[bytes]]]:
    """A sleep with no token, one with a foreign token: neither may ever be stopped."""
    plain = {k: v for k, v in os.environ.items() if k != RUN_TOKEN_ENV}
    procs = [
        subprocess.Popen(["sleep", "300"], env=plain),
        subprocess.Popen(["sleep", "300"], env={**plain, RUN_TOKEN_ENV: "someone-else"}),
    ]
    yield procs
    for proc in procs:
        proc.kill()
        proc.wait()


def _killed_holder(tmp_path: Path) -> tuple[int, int, int, dict[str, object]]:
    """Start a holder, wait for its tree, SIGKILL it; its tree's pids and the lock details."""
    work = tmp_path / "work"
    work.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(work)])
    burner = _wait_for(work / "burner.pid")
    escaped = _wait_for(work / "escaped.pid")
    lock = Path(os.environ["PERFINVEST_LOCK_DIR"]) / LOCK_NAME
    deadline = time.monotonic() + 5
    while '"benchmark_pgid": null' in lock.read_text() or not lock.read_text():
        assert time.monotonic() < deadline, lock.read_text()
        time.sleep(0.02)
    details = json.loads(lock.read_text())
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert _wait_gone(burner), "the watchdog kills the benchmark's process group"
    assert _alive(escaped), "the bug this guards against: the escaped daemon lives on"
    return holder.pid, burner, escaped, details


@pytest.mark.slow
def test_takeover_stops_the_dead_holders_tree_and_only_it(
    tmp_path: Path, decoys: list[subprocess.Popen[bytes]]
) -> None:
    holder_pid, burner, escaped, details = _killed_holder(tmp_path)
    assert details["pid"] == holder_pid and details["run_token"]
    assert isinstance(details["benchmark_pgid"], int)
    with host_lock("inv-next", "baseline", "/repo/n") as lease:
        assert lease.takeover is not None and lease.takeover.pid == holder_pid
        stopped = {orphan.proc.pid for orphan in lease.orphans_stopped}
        assert escaped in stopped and burner not in stopped  # the watchdog got there first
        message = lease.takeover_message()
        assert message is not None and "HolderInfo" not in message
        assert f"pid {holder_pid} (investigation inv-killed: baseline, started " in message
        assert f"pid {escaped} " in message and "sleep 300" in message
        assert os.environ[RUN_TOKEN_ENV] == lease.holder.run_token != details["run_token"]
    assert _wait_gone(burner) and _wait_gone(escaped)
    assert all(decoy.poll() is None for decoy in decoys)
    assert RUN_TOKEN_ENV not in os.environ


@pytest.mark.slow
def test_stop_orphans_for_recover(tmp_path: Path, decoys: list[subprocess.Popen[bytes]]) -> None:
    holder_pid, burner, escaped, details = _killed_holder(tmp_path)
    actions = stop_orphans()
    assert len(actions) == 1 and f"pid {holder_pid} (investigation inv-killed" in actions[0]
    assert f"pid {escaped} " in actions[0] and f"pid {burner} " not in actions[0]
    assert _wait_gone(burner) and _wait_gone(escaped)
    assert all(decoy.poll() is None for decoy in decoys)
    assert find_marked(str(details["run_token"])) == []
    assert stop_orphans() == []  # nothing left: nothing said
    with host_lock("inv-next", "baseline", "/r") as lease:  # the takeover is still recorded
        assert lease.takeover is not None and lease.orphans_stopped == ()


def test_stop_orphans_leaves_a_live_holders_benchmark_alone(tmp_path: Path) -> None:
    with host_lock("inv-live", "baseline", "/r"):
        child = subprocess.Popen(["sleep", "300"])  # carries the live holder's token
        try:
            assert stop_orphans() == []
            assert child.poll() is None
        finally:
            child.kill()
            child.wait()


def test_note_benchmark_records_the_process_group(tmp_path: Path) -> None:
    lock = Path(os.environ["PERFINVEST_LOCK_DIR"]) / LOCK_NAME
    with host_lock("inv-1", "baseline", "/r") as lease:
        from perfinvest.adapters.hostlock import note_benchmark

        note_benchmark(123456)
        assert json.loads(lock.read_text())["benchmark_pgid"] == 123456
        note_benchmark(None)  # shorter text over longer: still one valid JSON document
        details = json.loads(lock.read_text())
        assert details["benchmark_pgid"] is None and details["run_token"] == lease.holder.run_token
    assert lock.read_text() == ""
    note_benchmark(7)  # no lock held: nothing to write
    assert lock.read_text() == ""


AS_NOBODY = textwrap.dedent(
    """
    from perfinvest.adapters.hostlock import host_lock
    from perfinvest.core.errors import PerfError
    try:
        with host_lock("inv-other-user", "run", "/r"):
            print("RAN")
    except PerfError as error:
        print(int(error.code), error.message)
    """
)


@pytest.mark.slow
def test_a_tree_this_user_cannot_stop_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The dead holder ran as root; the next run is nobody's, which may not read root's
    environments: the recorded group's live member cannot be verified, so it refuses."""
    setpriv, python = shutil.which("setpriv"), Path("/usr/bin/python3")
    if os.geteuid() != 0 or setpriv is None or not python.exists():
        pytest.skip("needs root, setpriv and /usr/bin/python3 to run as another user")
    lock_dir = Path(tempfile.mkdtemp(prefix="perfinvest-lock-", dir="/tmp"))
    lock_dir.chmod(0o777)
    monkeypatch.setenv("PERFINVEST_LOCK_DIR", str(lock_dir))
    token = "root-holders-token"
    orphan = subprocess.Popen(
        ["sleep", "300"], start_new_session=True, env={"PATH": os.defpath, RUN_TOKEN_ENV: token}
    )
    dead = subprocess.Popen(["true"])
    dead.wait()
    lock = lock_dir / LOCK_NAME
    details = HolderInfo(
        dead.pid, "inv-root", "/r", "baseline", "2026-12-02T18:00:00Z", "vm", token, orphan.pid
    )
    lock.write_text(details.to_json() + "\n")
    lock.chmod(0o666)
    try:
        done = subprocess.run(
            [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups", str(python)]
            + ["-c", AS_NOBODY],
            cwd="/tmp",
            check=False,
            env={"PATH": os.defpath, "PYTHONPATH": str(SRC), "PERFINVEST_LOCK_DIR": str(lock_dir)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.stdout.startswith("4 the benchmark of a dead holder of the lock, "), done
        assert f"pid {dead.pid} (investigation inv-root: baseline" in done.stdout
        assert (
            f"could not be stopped by this user: pid {orphan.pid} (group {orphan.pid}: sleep 300)"
            in done.stdout
        )
        assert orphan.poll() is None and json.loads(lock.read_text())["run_token"] == token
        with host_lock("inv-root-again", "baseline", "/r") as lease:  # root may: it stops it
            assert [o.proc.pid for o in lease.orphans_stopped] == [orphan.pid]
        assert orphan.wait(timeout=5) == -signal.SIGTERM
    finally:
        orphan.kill()
        orphan.wait()
        shutil.rmtree(lock_dir, ignore_errors=True)
