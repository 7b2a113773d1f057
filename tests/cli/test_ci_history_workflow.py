"""The nightly workflow `ci init` writes, run night after night as a runner would: each
night's result is appended to the branch perf-history of the upstream repository (the
durable history), the retention keeps the newest archived results on the branch's tip,
and `history check` judges each night against the branch's window.

Every `run:` step runs for real (tests/cli/workflow_runner.py) in a clone of a real
upstream repository; each night starts from a clean checkout (no `.claude`) and a new
RUNNER_TEMP, as a new runner does. The install step is stood in for by this checkout's
perfinvest on PATH (tests/cli/test_ci_workflows.py runs it for real), and the runs are
shortened through the workflow's own PERF_DURATION variable.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from tests.cli.workflow_runner import JobRun, run_job
from tests.conftest import git

from perfinvest.app.guardrails.ci_workflows import NIGHTLY_WORKFLOW

#: real timing judged against thresholds: alone, after the parallel tiers (scripts/test.sh)
pytestmark = pytest.mark.serial

VARIABLES = {
    "PERF_RUNS": "2",
    "PERF_DURATION": "0.3",
    "PERF_HISTORY_WINDOW": "3",
    "PERF_HISTORY_KEEP": "2",
}


def _bench(repo: Path, seconds: float) -> None:
    (repo / "bench").write_text(f"#!/bin/sh\nexec sleep {seconds}\n")
    (repo / "bench").chmod(0o755)
    git(repo, "add", "bench")
    git(repo, "commit", "-q", "-m", f"bench sleeps {seconds}")


def _night(work: Path, tmp_path: Path, number: int, **extra: str) -> JobRun:
    shutil.rmtree(work / ".claude", ignore_errors=True)  # a new runner, a clean checkout
    git(work, "pull", "-q", "--ff-only")
    scratch = tmp_path / f"runner-{number}"
    scratch.mkdir()
    return run_job(
        NIGHTLY_WORKFLOW, "nightly", work,
        variables=VARIABLES | extra,
        env={"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"},
        summary=scratch / "summary.md", scratch=scratch, skip=("Install perfinvest",),
    )  # fmt: skip


def _on_branch(upstream: Path, folder: str) -> list[str]:
    listing = git(upstream, "ls-tree", "--name-only", f"perf-history:{folder}")
    return sorted(listing.split())


@pytest.mark.slow
def test_nightly_results_accumulate_on_the_perf_history_branch_and_gate_the_next(
    tmp_path: Path,
) -> None:
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    git(upstream, "init", "-q", "-b", "main")
    _bench(upstream, 0.04)
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(upstream), str(work))

    first = _night(work, tmp_path, 1)
    assert first.code == 0, first.log
    assert first.outputs["restore"]["points"] == "0"  # the branch did not exist yet
    assert "nothing to judge yet" in (tmp_path / "runner-1" / "summary.md").read_text()
    assert _on_branch(upstream, "baselines") == ["nightly.json"]
    for night in (2, 3, 4):
        done = _night(work, tmp_path, night)
        assert done.code == 0, done.log
        assert done.outputs["restore"]["points"] == str(min(night - 1, 3))
    assert "baselines/archive" in git(upstream, "ls-tree", "-r", "--name-only", "perf-history")
    assert len(_on_branch(upstream, "baselines/archive")) == 2  # PERF_HISTORY_KEEP on the tip
    assert git(upstream, "rev-list", "--count", "perf-history").strip() == "4"
    pruned = git(
        upstream,
        "log",
        "--no-renames",
        "--diff-filter=D",
        "--name-only",
        "--format=",
        "perf-history",
    )
    assert pruned.count("baselines/archive/") == 1  # removed from the tip, kept in history
    judged = (tmp_path / "runner-4" / "summary.md").read_text()
    assert "wall_ms" in judged

    _bench(upstream, 0.08)  # main gets twice as slow
    slow = _night(work, tmp_path, 5, PERF_ENFORCE="1")
    assert slow.code == 8, slow.log
    assert slow.ran[-1] == "Judge the night against the history"
    assert git(upstream, "rev-list", "--count", "perf-history").strip() == "5"  # kept anyway
