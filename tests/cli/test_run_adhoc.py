"""`perfinvest run`: shell command lines, what it says up front, and how it words results."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SHORT_RUN = ("--duration", "0.3", "--allow-short", "test")


def test_shell_runs_the_command_line_through_sh(repo: Path, cli: Any) -> None:
    result = cli(
        "run",
        "--shell",
        "--mode",
        "duration",
        "--format",
        "perf-metrics",
        *SHORT_RUN,
        "--json",
        "--",
        "sleep 0.3; echo PERF_METRICS",
        "answer=42",
    )
    assert result.code == 0, result.out
    (run,) = result.json["data"]["runs"]
    assert run["valid"] and run["exit_code"] == 0
    assert [m["value"] for m in run["metrics"] if m["name"] == "answer"] == [42.0]


def test_shell_repeat_mode_runs_a_compound_command(repo: Path, cli: Any) -> None:
    result = cli("run", "--shell", *SHORT_RUN, "--json", "--", "true; (exit 0)")
    assert result.code == 0, result.out
    assert result.json["data"]["summaries"]["wall_ms"]["samples"]["n"] >= 3


def test_killed_survivors_are_stored_in_the_run_and_named(repo: Path, cli: Any) -> None:
    line = "sleep 30 & sleep 30 & sleep 0.3; echo PERF_METRICS answer=1"
    result = cli("run", "--shell", "--mode", "duration", *SHORT_RUN, "--json", "--", line)
    assert result.code == 0, result.out
    (run,) = result.json["data"]["runs"]
    assert run["valid"] and run["survivors_killed"] == 2
    assert f"{run['run_id']}: 2 processes still running after the benchmark exited, killed" in (
        " ".join(result.json["findings"])
    )


def test_default_duration_is_announced_before_the_run(repo: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "perfinvest", "run", "--", "true"],
        cwd=repo,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    try:
        lines = []
        deadline = time.monotonic() + 20
        while not any("no --duration given" in line for line in lines):
            assert time.monotonic() < deadline, lines
            lines.append(proc.stderr.readline())
        assert "1 run(s) of 60 s" in lines[-1] and "--duration S" in lines[-1]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert proc.returncode == 130


def test_short_run_refusal_names_both_ways_to_allow_it(repo: Path, cli: Any) -> None:
    refused = cli("run", "--duration", "0.5", "--json", "--", "true")
    assert refused.code == 4
    error = refused.json["error"]
    assert "--allow-short REASON" in error["message"] and "PERF_ALLOW_SHORT=1" in error["message"]
    assert "--allow-short-runs" not in error["message"]  # that one is start's
    assert "PERF_ALLOW_SHORT=1" in error["needs"]


def test_results_read_in_human_units(repo: Path, cli: Any) -> None:
    result = cli("run", *SHORT_RUN, "--", "true")
    assert result.code == 0, result.out
    findings = [line for line in result.out.splitlines() if line.startswith("- ")]
    wall = next(line for line in findings if line.startswith("- wall_ms: "))
    assert re.fullmatch(
        r"- wall_ms: mean [\d.]+ ms ± [\d.]+ ms \(min [\d.]+ ms, max [\d.]+ ms, n=\d+\)", wall
    ), wall
    rss = next(line for line in findings if line.startswith("- max_rss_bytes: "))
    assert re.match(r"- max_rss_bytes: mean [\d.]+ MiB ± [\d.]+ (B|KiB|MiB) ", rss), rss
    assert not any("e+" in line or "  " in line for line in findings), findings
    assert "perfinvest: run 1/1 (0.3 s)" in result.err and "run run" not in result.err


def test_a_benchmark_ignoring_the_duration_is_told_how_to_fix_it(repo: Path, cli: Any) -> None:
    result = cli(
        "run", "--mode", "duration", "--duration", "2", "--allow-short", "t", "--json", "--",
        sys.executable, "-c", "print('PERF_METRICS answer=1')",
    )  # fmt: skip
    assert result.code == 5
    (run,) = result.json["data"]["runs"]
    reason = run["invalid_reason"]
    assert reason.startswith("exited after ") and "before the minimum 1.9 s" in reason
    assert "PERF_RUN_DURATION" in reason and "(2 here)" in reason and "--mode repeat" in reason
