"""`perfinvest run`: shell command lines, what it says up front, and how it words results."""

from __future__ import annotations

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
