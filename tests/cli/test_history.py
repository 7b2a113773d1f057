"""`perfinvest history` and `history check` over real baselines made by real runs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import SHORT, START_ARGS

needs_valgrind = pytest.mark.skipif(
    shutil.which("valgrind") is None or shutil.which("gcc") is None,
    reason="needs valgrind and gcc (scripts/bootstrap.sh installs them)",
)

LOOP_C = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    unsigned long n = strtoul(argv[1], NULL, 10);
    volatile unsigned long sum = 0;
    for (unsigned long i = 0; i < n; i++) sum += i;
    printf("%lu\n", sum);
    return 0;
}
"""


def start(cli: Any, command: str | None = None, metric: str | None = None) -> None:
    args = list(START_ARGS)
    if command is not None:
        args[args.index("--command") + 1] = command
    if metric is not None:
        args[args.index("--metric") + 1] = metric
        args[args.index("--success") + 1] = f"{metric} < 120"
    assert cli(*args, "--no-checkpoint", "--json").code == 0


def export(cli: Any, path: Path, *command: str, meter: bool = False) -> Path:
    extra = ("--meter", "instructions") if meter else ("--mode", "duration", *SHORT)
    allow = () if meter else ("--allow-short", "test")
    result = cli("run", *extra, *allow, "--export", str(path), "--json", "--", *command)
    assert result.code == 0, result.out
    return path


def test_an_empty_history_is_refused_saying_how_to_build_one(repo: Path, cli: Any) -> None:
    trend = cli("history", "--json")
    assert trend.code == 4
    assert "history is empty" in trend.json["error"]["message"]
    assert "perfinvest baseline" in trend.json["error"]["message"]
    current = export(cli, repo / "now.json", sys.executable, "bench.py")
    check = cli("history", "check", str(current), "--json")
    assert check.code == 4 and "history is empty" in check.json["error"]["message"]


def test_bad_files_and_options_are_usage_errors(repo: Path, cli: Any) -> None:
    start(cli)
    assert cli("baseline", "--runs", "2", *SHORT, "--no-checkpoint", "--json").code == 0
    missing = cli("history", "check", "nope.json", "--json")
    assert missing.code == 2 and "nope.json" in missing.json["error"]["message"]
    (repo / "junk.json").write_text("{not json")
    assert cli("history", "check", "junk.json", "--json").code == 2
    current = export(cli, repo / "now.json", sys.executable, "bench.py")
    unknown = cli("history", "check", str(current), "--metric", "p59_ms", "--json")
    assert unknown.code == 2
    assert "p95_ms" in unknown.json["error"]["message"]  # names what the file reports
    assert cli("history", "--window", "0", "--json").code == 2
    assert cli("history", "--model", "median").code == 2
    nothing = cli("history", "--metric", "p59_ms", "--json")
    assert nothing.code == 4 and "p59_ms" in nothing.json["error"]["message"]


@pytest.mark.slow
def test_trend_over_archived_and_current_baselines(repo: Path, cli: Any) -> None:
    start(cli)
    for _ in range(3):
        assert cli("baseline", "--runs", "2", *SHORT, "--no-checkpoint", "--json").code == 0
    trend = cli("history", "--json")
    assert trend.code == 0, trend.out
    rows = trend.json["data"]["rows"]
    assert [r["archived"] for r in rows] == [True, True, False]  # oldest first
    assert trend.json["data"]["metric"] == "p95_ms"
    assert not any("mixes" in f for f in trend.json["findings"])  # one host, one setup
    assert rows[0]["change"] is None and rows[1]["change"] is not None
    assert [r["status"] for r in rows] == ["insufficient_history"] * 3  # t needs 3 before
    document = json.loads((repo / ".claude/perf/baselines/v1.json").read_text())
    assert rows[-1]["mean"] == document["summaries"]["p95_ms"]["runs"]["mean"]
    # too short a history is no failure: exit 0, and the answer says how many are missing
    current = export(cli, repo / "now.json", sys.executable, "bench.py")
    check = cli("history", "check", str(current), "--model", "iqr", "--enforce", "--json")
    assert check.code == 0, check.out
    assert check.json["data"]["verdict"]["status"] == "insufficient_history"
    assert "add 1 more baseline(s)" in " ".join(check.json["findings"])
    text = cli("history")
    assert "| version | measured | p95_ms mean |" in text.out


@needs_valgrind
@pytest.mark.slow
def test_instruction_history_gates_a_planted_slowdown_exactly(repo: Path, cli: Any) -> None:
    (repo / "loop.c").write_text(LOOP_C)
    subprocess.run(["gcc", "-O0", "-o", "loop", "loop.c"], cwd=repo, check=True)
    start(cli, "./loop 100000")
    for _ in range(3):
        result = cli(
            "baseline",
            "--meter",
            "instructions",
            "--runs",
            "2",
            *SHORT,
            "--no-checkpoint",
            "--json",
        )
        assert result.code == 0, result.out
    trend = cli("history", "--json")
    assert trend.json["data"]["metric"] == "instructions"
    assert [r["change"] for r in trend.json["data"]["rows"][1:]] == [0.0, 0.0]
    same = export(cli, repo / "same.json", "./loop", "100000", meter=True)
    slow = export(cli, repo / "slow.json", "./loop", "101000", meter=True)  # 1 % more work
    within = cli("history", "check", str(same), "--enforce", "--json")
    assert within.code == 0, within.out
    assert within.json["data"]["verdict"]["status"] == "within"
    breach = cli("history", "check", str(slow), "--enforce", "--json")
    assert breach.code == 8, breach.out
    assert breach.json["error"]["kind"] == "regression"
    assert "above the upper limit" in breach.json["error"]["message"]
    # without --enforce a breach is reported, not failed
    report = cli("history", "check", str(slow), "--json")
    assert report.code == 0 and report.json["data"]["verdict"]["status"] == "breach"
    # --per-run: every run is a point, so 3 baselines of 2 runs feed the IQR model's 4
    runs = cli("history", "--per-run", "--json")
    assert len(runs.json["data"]["rows"]) == 6
    per_run = cli("history", "check", str(same), "--per-run", "--model", "iqr", "--json")
    assert per_run.json["data"]["verdict"]["status"] == "within"
    assert per_run.json["data"]["verdict"]["points"] == 6
    # the current baseline checked against the history leaves itself out of its window
    own = cli("history", "check", ".claude/perf/baselines/v1.json", "--json")
    assert own.json["data"]["verdict"]["points"] == 2


def test_history_window_is_what_other_gates_judge_with(repo: Path, cli: Any) -> None:
    from perfinvest.app.context import AppContext
    from perfinvest.app.guardrails.history import HistoryOptions, history_window
    from perfinvest.core.guardrails.history_gate import judge

    start(cli)
    for _ in range(2):
        assert cli("baseline", "--runs", "2", *SHORT, "--no-checkpoint", "--json").code == 0
    ctx = AppContext.discover(checkpoint=False)
    points, direction, _ = history_window(ctx, "p95_ms", HistoryOptions(window=1))
    assert len(points) == 1 and direction == "lower"
    document = json.loads((repo / ".claude/perf/baselines/v1.json").read_text())
    assert points[0].mean == document["summaries"]["p95_ms"]["runs"]["mean"]
    current = repo / ".claude/perf/baselines/v1.json"
    left, _, _ = history_window(ctx, "p95_ms", HistoryOptions(), exclude=current)
    assert len(left) == 1 and left[0].archived
    verdict = judge([p.mean for p in left], 1.0, metric="p95_ms", direction=direction)
    assert verdict.status == "insufficient_history" and verdict.needed == 3
