"""Crash safety: signals restore the tree; after SIGKILL, `perfinvest recover` does."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from tests.cli.test_experiment import perf, to_phase_8, tree_state
from tests.conftest import git

SLOW_BENCH = """\
import os, time
time.sleep(float(os.environ["PERF_RUN_DURATION"]))
print("PERF_METRICS p95_ms=12.0")
"""


def _prepare(repo: Path, cli: Any) -> dict[str, Any]:
    to_phase_8(cli)
    (repo / "app.py").write_text("print('dirty work')\n")
    (repo / "staged.txt").write_text("staged\n")
    git(repo, "add", "staged.txt")
    (repo / "notes.txt").write_text("untracked\n")
    return tree_state(repo)


def _start_and_change(repo: Path, cli: Any) -> None:
    answer = cli("experiment", "start", "--change", "edit app", "--json")
    assert answer.code == 0, answer.out
    (repo / "app.py").write_text("print('the experiment')\n")
    (repo / "added.py").write_text("NEW = 1\n")
    (repo / "notes.txt").unlink()


def _spawn_run(repo: Path, duration: str = "0.4") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "perfinvest", "experiment", "run", "--runs", "2",
         "--duration", duration, "--json"],
        cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _wait_for_claim(repo: Path, proc: subprocess.Popen[str]) -> None:
    """Until the run process owns the journal (it has begun touching things)."""
    journal = perf(repo) / "experiment-journal.json"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if json.loads(journal.read_text())["pid"] == proc.pid:
                return
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            pass
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.01)
    raise AssertionError("the run never claimed the journal")


@pytest.mark.slow
def test_sigkill_at_several_points_then_recover_restores_byte_identical(
    repo: Path, cli: Any
) -> None:
    before = _prepare(repo, cli)
    stages_hit = set()
    for delay in (0.0, 0.15, 0.6, 1.2, 2.0):
        _start_and_change(repo, cli)
        proc = _spawn_run(repo)
        _wait_for_claim(repo, proc)
        time.sleep(delay)
        proc.kill()
        proc.wait(timeout=10)
        journal_file = perf(repo) / "experiment-journal.json"
        if journal_file.exists():
            stage = json.loads(journal_file.read_text())["stage"]
            stages_hit.add(stage)
            blocked = cli("hypotheses", "list", "--json")
            assert blocked.code == 4, (delay, blocked.out)
            assert "perfinvest recover" in blocked.json["error"]["message"]
            assert cli("status", "--json").code == 0  # status stays available
        recovered = cli("recover", "--json")
        assert recovered.code == 0, (delay, recovered.out)
        assert tree_state(repo) == before, f"tree differs after a kill at +{delay}s"
        assert not journal_file.exists()
        assert "perfinvest-baseline-" not in git(repo, "worktree", "list")
        assert git(repo, "for-each-ref", "refs/perfinvest") == ""
        # nothing is left for a second recover
        again = cli("recover", "--json")
        assert again.code == 0 and "nothing to recover" in again.json["findings"][0]
    assert "measuring" in stages_hit, stages_hit  # at least one kill landed mid-measurement
    experiments = json.loads((perf(repo) / "investigation.json").read_text())["experiments"]
    interrupted = [e for e in experiments if e["state"] == "interrupted"]
    assert interrupted and all(e["restore_verified"] for e in interrupted)
    assert all(e["patch"] is not None for e in interrupted)  # the change is never lost


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_run_restores_the_tree_before_exit(
    repo: Path, cli: Any, signum: int
) -> None:
    (repo / "bench.py").write_text(SLOW_BENCH)
    git(repo, "commit", "-qam", "slow bench")
    before = _prepare(repo, cli)
    _start_and_change(repo, cli)
    proc = _spawn_run(repo, duration="5")
    _wait_for_claim(repo, proc)
    deadline = time.monotonic() + 20
    while "perfinvest-baseline-" not in git(repo, "worktree", "list"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)  # inside the first baseline-side run
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out, err)
    answer = json.loads(out)
    assert answer["error"]["kind"] == "interrupted"
    assert tree_state(repo) == before
    assert not (perf(repo) / "experiment-journal.json").exists()
    exp = answer["data"]["experiment"]
    assert exp["state"] == "interrupted" and exp["restore_verified"] is True


def test_recover_with_nothing_to_do_says_so(repo: Path, cli: Any) -> None:
    answer = cli("recover", "--json")
    assert answer.code == 0 and "nothing to recover" in answer.json["findings"][0]


def test_recover_finishes_a_restore_a_dead_process_left(repo: Path, cli: Any) -> None:
    """A journal at `restoring` whose owner is dead, made without timing luck."""
    before = _prepare(repo, cli)
    _start_and_change(repo, cli)
    journal_file = perf(repo) / "experiment-journal.json"
    journal = json.loads(journal_file.read_text())
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    journal.update(stage="restoring", pid=dead.pid, pid_start="0")
    journal_file.write_text(json.dumps(journal))
    blocked = cli("baseline", "--json")
    assert blocked.code == 4 and blocked.json["error"]["needs"] == ["perfinvest recover"]
    assert cli("experiment", "start", "--change", "y", "--json").code == 4
    recovered = cli("recover", "--json")
    assert recovered.code == 0, recovered.out
    data = recovered.json["data"]
    assert data["journal"] == "restoring" and data["restore"]["verified"] is True
    assert any("kept the change" in a for a in data["actions"])
    assert tree_state(repo) == before
    exp = json.loads((perf(repo) / "investigation.json").read_text())["experiments"][0]
    assert exp["state"] == "interrupted" and exp["patch"] is not None
    log = next((perf(repo) / "investigations").glob("*.md")).read_text()
    assert "recover" in log
    # the kept change can be applied again
    assert cli("experiment", "apply", "1", "--json").code == 0
    assert (repo / "added.py").read_text() == "NEW = 1\n"


def test_an_open_experiment_is_not_a_crash(repo: Path, cli: Any) -> None:
    _prepare(repo, cli)
    _start_and_change(repo, cli)
    assert cli("hypotheses", "list", "--json").code == 0  # other work goes on
    answer = cli("recover", "--json")
    assert answer.code == 0 and "is open" in answer.json["findings"][0]
    assert (repo / "added.py").exists()  # the agent's change is left alone


def test_recover_removes_stale_worktrees(repo: Path, cli: Any, tmp_path: Path) -> None:
    stale = tmp_path / "perfinvest-baseline-old-1-123"
    git(repo, "worktree", "add", "--detach", str(stale), "HEAD")
    answer = cli("recover", "--json")
    assert answer.code == 0
    assert any("stale baseline-side worktree" in f for f in answer.json["findings"])
    assert not stale.exists() and str(stale) not in git(repo, "worktree", "list")
