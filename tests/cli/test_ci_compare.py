"""`perfinvest ci compare` (issue 24): base and head checked out into temporary worktrees,
measured interleaved on this machine, judged by budgets; the user's tree untouched.

The benchmark is `sleep`: its time is the planted difference (50 % slower at head), so
three short runs per side show it far beyond the noise of a loaded two-core host."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import git

from perfinvest.core.guardrails.ci_comment import MARKER

#: real timing judged against thresholds: alone, after the parallel tiers (scripts/test.sh)
pytestmark = pytest.mark.serial

SHORT = ("--runs", "3", "--duration", "0.3", "--allow-short", "test")


def _bench(repo: Path, seconds: float, message: str) -> None:
    (repo / "bench").write_text(f"#!/bin/sh\nexec sleep {seconds}\n")
    (repo / "bench").chmod(0o755)
    git(repo, "add", "bench")
    git(repo, "commit", "-q", "-m", message)


@pytest.fixture
def slower(repo: Path) -> Path:
    """main's base is tagged `base`; its head sleeps 50 % longer. A dirty, staged tree."""
    _bench(repo, 0.04, "base")
    git(repo, "tag", "base")
    _bench(repo, 0.06, "head: 50 % slower")
    (repo / "app.py").write_text("print('my edit')\n")  # the user's work in progress
    (repo / "notes.txt").write_text("untracked\n")
    git(repo, "add", "notes.txt")
    return repo


def _tree(repo: Path) -> tuple[str, str, str, str]:
    return (
        git(repo, "status", "--porcelain=v1", "--untracked-files=all"),
        git(repo, "rev-parse", "HEAD"),
        (repo / "app.py").read_text(),
        git(repo, "worktree", "list", "--porcelain"),
    )


def test_a_50_percent_slower_head_breaches_and_the_base_against_itself_does_not(
    cli: Any, slower: Path, tmp_path: Path
) -> None:
    before = _tree(slower)
    report = tmp_path / "report"
    summary = tmp_path / "summary.md"
    answer = cli("ci", "compare", "--base", "base", "--command", "./bench", *SHORT,
                 "--enforce", "--report-dir", str(report), "--summary", str(summary), "--json")  # fmt: skip
    assert answer.code == 8, answer.out
    assert answer.json["error"]["kind"] == "regression"
    assert _tree(slower) == before  # tree, index, HEAD, worktrees: as they were
    comment = (report / "comment.md").read_text()
    assert comment.startswith(MARKER + "\n### :x: Performance budget breached: wall_ms +")
    assert "| **BREACH** | wall_ms | max_regression_pct (point) |" in comment
    assert "#### What to do next" in comment and "perfinvest ci compare --base" in comment
    assert summary.read_text() == comment
    wall = next(m for m in json.loads((report / "diff.json").read_text())["metrics"]
                if m["metric"] == "wall_ms")  # fmt: skip
    assert wall["verdict"] == "regressed" and 0.3 < wall["change"] < 0.7, wall
    assert 'failures="1"' in (report / "junit.xml").read_text()
    base_runs = json.loads((report / "base.json").read_text())
    head_runs = json.loads((report / "head.json").read_text())
    assert [r["environment"]["git_commit"] for r in base_runs] == [git(slower, "rev-parse", "base").strip()] * 3  # fmt: skip
    starts = sorted([(r["started_at"], "A") for r in base_runs] + [(r["started_at"], "B") for r in head_runs])  # fmt: skip
    assert "".join(side for _, side in starts) == "ABABAB"  # interleaved
    # the reports are `diff`-able result files: one benchmark, two checkouts
    assert cli("diff", str(report / "base.json"), str(report / "head.json"), "--json").code == 0

    same = cli("ci", "compare", "--base", "base", "--head", "base", "--command", "./bench",
               *SHORT, "--enforce", "--report-dir", str(report), "--json")  # fmt: skip
    assert same.code == 0, same.out
    assert same.json["data"]["breaches"] == 0
    assert ":x:" not in (report / "comment.md").read_text()
    assert _tree(slower) == before


def test_budgets_decide_a_regression_within_budget_passes_enforced(
    cli: Any, slower: Path, tmp_path: Path
) -> None:
    budgets = tmp_path / "budgets.yaml"
    budgets.write_text("budgets:\n  - metric: wall_ms\n    max_regression_pct: 200\n")
    answer = cli("ci", "compare", "--base", "base", "--command", "./bench", *SHORT, "--enforce",
                 "--budgets", str(budgets), "--report-dir", str(tmp_path / "r"), "--json")  # fmt: skip
    assert answer.code == 0, answer.out
    comment = (tmp_path / "r" / "comment.md").read_text()
    # the headline lists every metric that regressed within budget (user_ms may join wall_ms)
    headline = comment.splitlines()[1]
    assert headline.startswith("### :warning: Significant regression within budget: "), headline
    assert "wall_ms" in headline.split("within budget: ", 1)[1].split(", "), headline
    assert f"Budgets: {budgets}." in comment


def test_bad_input_is_refused_before_anything_runs(
    cli: Any, slower: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = tmp_path / "r"
    cases = [
        (("--base", "nope"), 2, "--base nope: no such commit"),
        (("--base", "base", "--head", "nope"), 2, "--head nope: no such commit"),
        (("--base", "base", "--runs", "1"), 2, "at least 2 runs"),
        (("--base", "base", "--budgets", str(tmp_path / "missing.yaml")), 2, "cannot read budgets file"),
    ]  # fmt: skip
    for args, code, words in cases:
        answer = cli("ci", "compare", "--command", "./bench", *SHORT, *args,
                     "--report-dir", str(report), "--json")  # fmt: skip
        assert answer.code == code and words in answer.json["error"]["message"], answer.out
    long = cli("ci", "compare", "--base", "base", "--command", "./bench", "--duration", "1",
               "--report-dir", str(report), "--json")  # fmt: skip
    assert long.code == 4 and "--allow-short REASON" in long.json["error"]["message"]
    assert not report.exists()
    monkeypatch.chdir(tmp_path)
    outside = cli("ci", "compare", "--base", "base", "--command", "./bench", *SHORT, "--json")
    assert outside.code == 4 and "not in a git repository" in outside.json["error"]["message"]
    assert git(slower, "worktree", "list").count("\n") == 1


def test_a_failing_side_exits_5_and_leaves_no_worktree(
    cli: Any, slower: Path, tmp_path: Path
) -> None:
    (slower / "bench").write_text("#!/bin/sh\nexit 3\n")
    git(slower, "commit", "-q", "-am", "broken head")
    answer = cli("ci", "compare", "--base", "base", "--command", "./bench", *SHORT,
                 "--report-dir", str(tmp_path / "r"), "--json")  # fmt: skip
    assert answer.code == 5 and "the head side" in answer.json["error"]["message"], answer.out
    assert git(slower, "worktree", "list").count("\n") == 1


def test_recover_removes_the_worktrees_of_a_killed_compare(
    cli: Any, slower: Path, tmp_path: Path
) -> None:
    perfinvest = Path(sys.executable).parent / "perfinvest"
    proc = subprocess.Popen(
        [str(perfinvest), "ci", "compare", "--base", "base", "--command", "./bench",
         "--runs", "20", "--duration", "0.5", "--allow-short", "test", "--report-dir", str(tmp_path / "r")],
        cwd=slower, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while git(slower, "worktree", "list").count("perfinvest-baseline-ci-") < 2:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.1)
        live = cli("recover", "--json")  # a running compare's worktrees are its own
        assert (
            live.code == 0 and git(slower, "worktree", "list").count("perfinvest-baseline-ci-") == 2
        )
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert git(slower, "worktree", "list").count("perfinvest-baseline-ci-") == 2
    answer = cli("recover", "--json")
    assert answer.code == 0, answer.out
    assert sum("removed stale baseline-side worktree" in f for f in answer.json["findings"]) == 2
    assert git(slower, "worktree", "list").count("\n") == 1


@pytest.mark.slow
def test_the_instruction_meter_counts_both_sides_exactly(
    cli: Any, repo: Path, tmp_path: Path
) -> None:
    loop = "#!/bin/sh\ni=0; while [ $i -lt {n} ]; do i=$((i+1)); done\n"
    for n, message in ((2000, "base"), (3000, "head: 50 % more work")):
        (repo / "bench").write_text(loop.format(n=n))
        (repo / "bench").chmod(0o755)
        git(repo, "add", "bench")
        git(repo, "commit", "-q", "-m", message)
        if n == 2000:
            git(repo, "tag", "base")
    answer = cli("ci", "compare", "--base", "base", "--command", "./bench", "--runs", "2",
                 "--meter", "instructions", "--enforce", "--report-dir", str(tmp_path / "r"), "--json")  # fmt: skip
    assert answer.code == 8, answer.out
    comment = (tmp_path / "r" / "comment.md").read_text()
    assert "Performance budget breached: instructions +" in comment
    assert "instructions counted under cachegrind" in comment
