"""A SIGKILLed perfinvest leaves a benchmark tree; the next command finds and ends it (rule 1).

Real perfinvest processes, killed with SIGKILL during a baseline run, a breaking-point probe
and an experiment run. The benchmark starts a CPU-burning child and a child that escapes
into a session of its own; both outlive the killed perfinvest (reparented), until the next
measuring command takes the lock over, or ``perfinvest recover`` runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import SHORT, START_ARGS

pytestmark = pytest.mark.slow

#: Burns a core in a child and parks another in its own session when ORPHAN_LABEL matches.
BENCH = """\
import os, subprocess, sys, time
from pathlib import Path
folder, label = os.environ.get("ORPHAN_DIR"), os.environ.get("PERF_RUN_LABEL", "")
if folder and label.startswith(os.environ["ORPHAN_LABEL"]):
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    escaped = subprocess.Popen(["setsid", "sleep", "300"])
    Path(folder, "pids.tmp").write_text(f"{burner.pid} {escaped.pid}")
    Path(folder, "pids.tmp").rename(Path(folder, "pids"))
time.sleep(float(os.environ["PERF_RUN_DURATION"]))
print("PERF_METRICS p95_ms=12.5 error_rate=0")
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not alive(pid)


@pytest.fixture
def orphans(tmp_path: Path) -> Iterator[Path]:
    """The folder the benchmark reports its children in; kills them whatever the outcome."""
    folder = tmp_path / "orphans"
    folder.mkdir()
    yield folder
    pids = folder / "pids"
    if pids.exists():
        for pid in map(int, pids.read_text().split()):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def start(repo: Path, cli: Any, *extra: str) -> str:
    (repo / "orphan_bench.py").write_text(BENCH)
    args = list(START_ARGS)
    args[args.index("--command") + 1] = f"{sys.executable} orphan_bench.py"
    answer = cli(*args, *extra, "--json")
    assert answer.code == 0, answer.out
    return str(answer.json["investigation"])


def kill_during(repo: Path, orphans: Path, label: str, *command: str) -> tuple[int, int]:
    """Run ``perfinvest COMMAND`` until its benchmark started the children; SIGKILL it."""
    env = {**os.environ, "ORPHAN_DIR": str(orphans), "ORPHAN_LABEL": label}
    proc = subprocess.Popen(
        [sys.executable, "-m", "perfinvest", *command, "--json"],
        cwd=repo,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pids = orphans / "pids"
    deadline = time.monotonic() + 60
    while not pids.exists():
        assert proc.poll() is None, "perfinvest ended before its benchmark started"
        assert time.monotonic() < deadline, "the benchmark never started its children"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    burner, escaped = map(int, pids.read_text().split())
    time.sleep(0.5)
    # the benchmark's group dies with perfinvest (deathsig watchdog, issue 22); the daemon
    # that left the group outlives it until the lock's run token finds it
    assert wait_gone(burner, 3.0), "the benchmark's group must die with perfinvest"
    assert alive(escaped), "the escaped daemon outlives a SIGKILLed perfinvest"
    return burner, escaped


def events(repo: Path) -> list[dict[str, Any]]:
    state = json.loads((repo / ".claude" / "perf" / "investigation.json").read_text())
    found: list[dict[str, Any]] = state["events"]
    return found


def test_sigkill_during_baseline_next_baseline_ends_the_tree(
    repo: Path, cli: Any, orphans: Path
) -> None:
    start(repo, cli)
    burner, escaped = kill_during(repo, orphans, "baseline", "baseline", "--duration", "30")
    result = cli("baseline", "--runs", "2", *SHORT, "--json")
    assert result.code == 0, result.out
    assert wait_gone(burner) and wait_gone(escaped)
    (takeover,) = [e for e in events(repo) if e["kind"] == "lock takeover"]
    assert "HolderInfo" not in takeover["message"]
    assert (
        "(investigation " in takeover["message"] and ": baseline, started " in takeover["message"]
    )
    assert f"pid {escaped} " in takeover["message"]
    # only the escaped child: the benchmark and its burning child died with perfinvest
    assert "stopped 1 of its benchmark processes" in takeover["message"]
    assert takeover["message"] in result.json["findings"]


def test_sigkill_during_a_probe_next_adhoc_run_ends_the_tree(
    repo: Path, cli: Any, orphans: Path
) -> None:
    start(repo, cli)
    assert cli("baseline", "--runs", "2", *SHORT, "--json").code == 0
    burner, escaped = kill_during(
        repo, orphans, "probe-", "breaking-point", "--duration", "30",
        "--min", "1", "--max", "4", "--fail-when", "p95_ms>150",
    )  # fmt: skip
    result = cli("run", "--duration", "0.3", "--allow-short", "t", "--json", "--", "true")
    assert result.code == 0, result.out
    assert wait_gone(burner) and wait_gone(escaped)
    (finding,) = [f for f in result.json["findings"] if "took over the benchmark lock" in f]
    assert ": breaking-point, started " in finding and f"pid {escaped} " in finding


def test_sigkill_during_an_experiment_recover_ends_the_tree(
    repo: Path, cli: Any, orphans: Path
) -> None:
    start(repo, cli)
    assert cli("baseline", "--runs", "2", *SHORT, "--json").code == 0
    for phase in ("breaking-point", "constraints", "hypotheses", "code-paths", "profile"):
        assert cli(phase, "--skip-reason", "not needed here", "--json").code == 0, phase
    assert cli("experiment", "start", "--change", "a comment", "--json").code == 0
    (repo / "app.py").write_text("print('hello')  # changed by the experiment\n")
    burner, escaped = kill_during(
        repo, orphans, "exp", "experiment", "run", "--runs", "2", "--duration", "30"
    )
    result = cli("recover", "--json")
    assert result.code == 0, result.out
    assert wait_gone(burner) and wait_gone(escaped)
    (action,) = [a for a in result.json["findings"] if "dead holder" in a]
    assert ": experiment 1, started " in action and f"pid {escaped} " in action
    assert (repo / "app.py").read_text() == "print('hello')\n"  # the tree restored as well


def test_sigkill_during_baseline_recover_ends_the_tree(repo: Path, cli: Any, orphans: Path) -> None:
    start(repo, cli)
    burner, escaped = kill_during(repo, orphans, "baseline", "baseline", "--duration", "30")
    result = cli("recover", "--json")
    assert result.code == 0, result.out
    assert wait_gone(burner) and wait_gone(escaped)
    (action,) = [a for a in result.json["data"]["actions"] if "dead holder" in a]
    assert "stopped 1 of its benchmark processes" in action and f"pid {escaped} " in action
    assert cli("recover", "--json").json["data"]["actions"] == []  # nothing left the second time
    assert cli("baseline", "--runs", "2", *SHORT, "--json").code == 0
