"""Daemonised benchmark children (fork, setsid, fork) are stopped at the end of every run,
by the run cgroup where there is one and by the run marker in their environment (issue 23)."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import START_ARGS

from perfinvest.adapters.runner import RunSpec, run_command
from perfinvest.adapters.runner.containment import NO_CGROUP_ENV, PIDS_ROOT

#: Forks, setsids, forks again: the grandchild is reparented to init in its own session.
DAEMONISE = """\
import os, sys, time
tag = sys.argv[1]
clear = len(sys.argv) > 2
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        env = {{}} if clear else dict(os.environ)
        os.execve("/bin/sleep", ["sleep", tag], env)
    os._exit(0)
os.wait()
duration = float(os.environ.get("PERF_RUN_DURATION", "0.05"))
time.sleep(min(duration, 0.2))
print("PERF_METRICS p95_ms=12 requests=3")
"""

_TAG = iter(range(4000, 5000))


def _tag() -> str:
    return f"{next(_TAG)}.{os.getpid()}"  # sleep accepts a fraction: unique per test process


def _alive(tag: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cmdline").read_bytes() == f"sleep\0{tag}\0".encode():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture
def tag() -> Iterator[str]:
    value = _tag()
    yield value
    for pid in _alive(value):  # a failing test leaves nothing either
        os.kill(pid, signal.SIGKILL)


def _script(tmp_path: Path) -> Path:
    path = tmp_path / "daemonise.py"
    path.write_text(DAEMONISE.format())
    return path


@pytest.mark.parametrize("mode", ["repeat", "duration"])
@pytest.mark.parametrize("clear_env", [False, True])
def test_no_daemon_outlives_a_run(tmp_path: Path, tag: str, mode: str, clear_env: bool) -> None:
    if clear_env and not os.access(PIDS_ROOT, os.W_OK):
        pytest.skip("a daemon with a cleared environment needs the run cgroup (root, v1 pids)")
    argv = [sys.executable, str(_script(tmp_path)), tag, *(["clear"] if clear_env else [])]
    spec = RunSpec(
        argv=argv,
        cwd=tmp_path,
        mode=mode,  # type: ignore[arg-type]
        duration_s=0.1,
        min_duration_s=0,
        min_iterations=4,
        max_iterations=4,
        warmup=1,
    )
    outcome = run_command(spec)
    assert outcome.valid, outcome.invalid_reason
    assert _alive(tag) == []
    expected = 5 if mode == "repeat" else 1  # one per iteration (warmup included)
    assert outcome.survivors_killed >= expected


def test_the_marker_alone_stops_them_without_a_cgroup(
    tmp_path: Path, tag: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(NO_CGROUP_ENV, "1")
    spec = RunSpec(
        argv=[sys.executable, str(_script(tmp_path)), tag],
        cwd=tmp_path,
        mode="repeat",
        min_iterations=3,
        max_iterations=3,
        warmup=0,
    )
    outcome = run_command(spec)
    assert _alive(tag) == []
    assert outcome.escaped_killed == 3


def test_run_baseline_and_a_probe_leave_no_daemon(
    repo: Path, cli: Any, tag: str, tmp_path: Path
) -> None:
    script = _script(tmp_path)
    args = list(START_ARGS)
    args[args.index("--command") + 1] = f"{sys.executable} {script} {tag}"
    assert cli(*args, "--json").code == 0
    ran = cli(
        "run",
        "--allow-short",
        "test",
        "--duration",
        "0.4",
        "--json",
        "--",
        sys.executable,
        str(script),
        tag,
    )
    assert ran.code == 0, ran.out
    assert _alive(tag) == []
    assert "still running after the benchmark exited" in " ".join(ran.json["findings"])
    base = cli("baseline", "--runs", "2", "--duration", "0.2", "--json")
    assert base.code == 0, base.out
    assert _alive(tag) == []
    probe = cli(
        "breaking-point",
        "--duration",
        "0.15",
        "--fail-when",
        "p95_ms>150",
        "--min",
        "1",
        "--max",
        "4",
        "--json",
    )
    assert probe.code == 0, probe.out
    assert _alive(tag) == []


def test_an_unmarked_member_of_a_marked_group_is_stopped(tag: str) -> None:
    """A dead holder's benchmark child that cleared its environment (``env -i``) but stayed
    in the benchmark's process group: the group still has a marked member, so it is ours."""
    import subprocess
    import time

    from perfinvest.adapters.processes import RUN_TOKEN_ENV, stop_marked

    token = f"test-{os.getpid()}-{tag}"
    other = f"{tag}1"
    leader = subprocess.Popen(
        ["/bin/sh", "-c", f"env -i sleep {other} & exec sleep {tag}"],
        env={**os.environ, RUN_TOKEN_ENV: token},
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 10
        while not (_alive(tag) and _alive(other)) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _alive(tag) and _alive(other)
        report = stop_marked(token, 0.5)
        leader.wait(timeout=10)
        deadline = time.monotonic() + 5
        while _alive(other) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _alive(other) == [] and _alive(tag) == []
        assert len(report.stopped) == 2
    finally:
        for pid in _alive(other):
            os.kill(pid, signal.SIGKILL)
        if leader.poll() is None:
            leader.kill()
