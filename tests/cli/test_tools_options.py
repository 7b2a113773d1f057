"""--mode tool / --tool: bad combinations get one clear line and exit 2, nothing written."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import START_ARGS

ALLOW = ("--allow-short", "tests", "--duration", "1")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--mode", "tool", "--", sys.executable, "bench.py"), "name it with --tool"),
        (("--tool", "k6", "--", "k6", "run", "x.js"), "known tools: hyperfine"),
        (("--tool", "hyperfine", "--mode", "repeat", "--", "hyperfine", "true"), "drop --mode"),
        (("--mode", "repeat", "--format", "go", "--", "go", "version"), "only times each"),
    ],
)
def test_run_tool_option_errors(repo: Path, cli: Any, args: tuple[str, ...], message: str) -> None:
    result = cli("run", *ALLOW, "--json", *args)
    assert result.code == 2, result.out
    error = result.json["error"]
    assert message in error["message"] and "\n" not in error["message"]


def test_start_mode_tool_needs_a_recognised_tool(repo: Path, cli: Any) -> None:
    result = cli(*START_ARGS, "--mode", "tool", "--json")
    assert result.code == 2 and "--tool NAME" in result.json["error"]["message"]
    assert not (repo / ".claude" / "perf" / "investigation.json").exists()
    bad = cli(*START_ARGS, "--tool", "wrk", "--json")
    assert bad.code == 2 and "known tools" in bad.json["error"]["message"]


def test_start_with_tool_records_tool_mode(repo: Path, cli: Any) -> None:
    result = cli(*START_ARGS, "--tool", "pyperf", "--json")
    assert result.code == 0, result.out
    text = (repo / ".claude" / "perf" / "investigation.json").read_text()
    assert '"mode": "tool"' in text and '"tool": "pyperf"' in text


def test_a_shell_pipeline_is_not_rewritten(repo: Path, cli: Any) -> None:
    args = list(START_ARGS)
    args[args.index("--command") + 1] = "hyperfine 'sleep 0.01' | cat"
    refused = cli(*args, "--shell", "--mode", "tool", "--json")
    assert refused.code == 2 and "--tool NAME" in refused.json["error"]["message"]
    assert cli(*args, "--shell", "--tool", "hyperfine", "--json").code == 0
    result = cli("baseline", "--duration", "1", "--json")
    assert result.code == 2, result.out
    assert "cannot rewrite the --shell command" in result.json["error"]["message"]


def test_run_format_without_mode_reads_the_output(repo: Path, cli: Any) -> None:
    result = cli(
        "run", "--allow-short", "tests", "--duration", "0.3", "--format", "perf", "--json",
        "--", sys.executable, "bench.py",
    )  # fmt: skip
    assert result.code == 0, result.out
    run = result.json["data"]["runs"][0]
    assert run["mode"] == "duration" and any(m["name"] == "p95_ms" for m in run["metrics"])
