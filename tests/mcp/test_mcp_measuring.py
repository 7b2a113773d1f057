"""The `run` and `diff` tools and the tools' hints, through the official MCP stdio client.

Real parts: a real ``python -m perfinvest mcp`` server, real measured runs of real
commands, a real regression (a command made slower) found by `diff`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client.stdio import stdio_client
from tests.mcp.test_mcp_server import server_params, structured

from mcp import ClientSession

WORK = [sys.executable, "work.py"]


def test_hints_mark_the_tools_that_change_the_tree(repo: Path) -> None:
    async def tools() -> dict[str, Any]:
        async with (
            stdio_client(server_params(repo)) as (read, write),
            ClientSession(read, write) as client,
        ):
            await client.initialize()
            return {tool.name: tool for tool in (await client.list_tools()).tools}

    listed = anyio.run(tools)
    destructive = {n for n, t in listed.items() if t.annotations.destructiveHint}
    assert destructive == {"experiment", "recover"}
    read_only = {n for n, t in listed.items() if t.annotations.readOnlyHint}
    assert read_only == {
        "status",
        "list",
        "log",
        "hypotheses_list",
        "history_check",
        "budget_check",
    }
    assert {"run", "diff"} <= set(listed)
    assert listed["run"].inputSchema["required"] == ["command"]
    assert "required" not in listed["diff"].inputSchema  # two files, or one and history
    assert listed["export"].annotations.openWorldHint  # --push reaches a Pushgateway


@pytest.mark.slow
@pytest.mark.serial  # a planted slowdown in real runs: judged alone
def test_run_exports_and_diff_finds_a_real_regression(repo: Path) -> None:
    """One command, measured before and after a change that makes it 50 ms slower."""
    short = {"allow_short": "tests use short runs", "duration": 0.5, "runs": 2}
    work = repo / "work.py"

    async def session() -> dict[str, Any]:
        async with (
            stdio_client(server_params(repo)) as (read, write),
            ClientSession(read, write) as client,
        ):
            await client.initialize()
            seen = {}
            work.write_text("pass\n")
            seen["fast"] = await client.call_tool(
                "run", {"command": WORK, "export": "fast.json", **short}
            )
            work.write_text("import time\ntime.sleep(0.05)\n")
            seen["slow"] = await client.call_tool(
                "run", {"command": WORK, "export": "slow.json", **short}
            )
            seen["diff"] = await client.call_tool(
                "diff",
                {
                    "baseline_file": "fast.json",
                    "current_file": "slow.json",
                    "metrics": ["wall_ms"],
                    "fail_on_regression": True,
                },
            )
            seen["other"] = await client.call_tool(
                "run", {"command": [sys.executable, "-c", "pass"], "export": "other.json", **short}
            )
            seen["mismatch"] = await client.call_tool(
                "diff", {"baseline_file": "fast.json", "current_file": "other.json"}
            )
            seen["empty"] = await client.call_tool("run", {"command": []})
            return seen

    seen = anyio.run(session)
    fast = structured(seen["fast"])
    assert fast["ok"] is True and fast["command_line"][:2] == ["perfinvest", "run"]
    assert fast["command_line"][-3:] == ["--", *WORK]  # the words after --, never options
    assert json.loads((repo / "fast.json").read_text())  # the exported runs
    assert structured(seen["slow"])["ok"] is True
    diff = structured(seen["diff"])
    assert diff["exit_code"] == 8, diff  # --fail-on-regression: the change regressed
    [wall] = diff["data"]["comparison"]["metrics"]
    assert wall["key"] == "wall_ms" and wall["verdict"] == "regressed"
    assert wall["candidate_mean"] > wall["baseline_mean"] + 30  # a 50 ms sleep, measured
    mismatch = structured(seen["mismatch"])  # another command: not comparable unless forced
    assert mismatch["exit_code"] == 4 and "--force" in mismatch["error"]["message"]
    empty = structured(seen["empty"])  # a user error is an answer, not a tool error
    assert empty["ok"] is False and empty["exit_code"] == 2
    assert "give the command" in empty["error"]["message"]
