"""The `history_check`, `budget_check` and `load` tools, and `start`'s tool mode, through the
official MCP stdio client.

Real parts: a real ``python -m perfinvest mcp`` server, a real baseline measured by real runs,
a real Locust load run against a real HTTP server on 127.0.0.1. The checks answer what the
CLI's ``--json`` prints, warn-only: a breach is in the answer, the exit code stays 0.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client.stdio import stdio_client
from tests.conftest import SHORT, START_ARGS
from tests.mcp.test_mcp_server import SETUP, server_params, structured
from tests.support.server import Behaviour, serve

from mcp import ClientSession
from perfinvest.core.models import Investigation

#: The CLI's answer and the tool's: the same document (the tool adds how it was run).
ANSWER_KEYS = ("ok", "command", "investigation", "phase", "status", "baseline", "findings")


async def calls(repo: Path, *requests: tuple[str, dict[str, Any]], **kwargs: Any) -> list[Any]:
    async with (
        stdio_client(server_params(repo)) as (read, write),
        ClientSession(read, write) as client,
    ):
        await client.initialize()
        return [await client.call_tool(name, args, **kwargs) for name, args in requests]


def same_answer(tool: dict[str, Any], cli: dict[str, Any]) -> None:
    for key in ANSWER_KEYS:
        assert tool.get(key) == cli.get(key), key
    assert tool["data"] == cli["data"]


def test_history_and_budget_checks_answer_the_cli_json_warn_only(repo: Path, cli: Any) -> None:
    assert cli(*START_ARGS, "--no-checkpoint", "--json").code == 0
    assert cli("baseline", "--runs", "2", *SHORT, "--no-checkpoint", "--json").code == 0
    now = cli(
        "run", "--mode", "duration", *SHORT, "--allow-short", "test", "--export", "now.json",
        "--json", "--", sys.executable, "bench.py",
    )  # fmt: skip
    assert now.code == 0, now.out
    (repo / "budgets.yaml").write_text("budgets:\n  - metric: p95_ms\n    max: 1\n")
    budget_args = {"current": "now.json", "budgets": "budgets.yaml", "version": "v1"}

    history, budget = anyio.run(
        lambda: calls(
            repo, ("history_check", {"current": "now.json"}), ("budget_check", budget_args)
        )
    )
    history_cli = cli("history", "check", "now.json", "--json")
    budget_cli = cli("budget", "check", "now.json", "--budgets", "budgets.yaml", "--version", "v1", "--json")  # fmt: skip

    checked = structured(history)
    assert checked["command_line"][:3] == ["perfinvest", "history", "check"]
    assert checked["exit_code"] == history_cli.code == 0
    same_answer(checked, history_cli.json)
    # one baseline is too short a history to judge: the answer says so, nothing fails
    assert checked["ok"] is True

    judged = structured(budget)
    assert judged["exit_code"] == budget_cli.code == 0  # warn-only, though p95_ms > 1 ms
    same_answer(judged, budget_cli.json)
    assert "--enforce" not in judged["command_line"]
    assert judged["data"]["enforce"] is False and judged["data"]["breaches"]  # p95 ~12 ms
    assert any(finding.startswith("BREACH: p95_ms") for finding in judged["findings"])


def test_start_takes_the_tool_mode_and_load_check_validates(repo: Path) -> None:
    (repo / "targets.yaml").write_text(
        "base_url: http://127.0.0.1:9\nslo_defaults: ['p95_ms <= 80']\n"
        "routes:\n  - {name: home, path: /}\n"
    )
    (repo / "broken.yaml").write_text("base_url: http://127.0.0.1:9\nroutes: 3\n")
    setup = {**SETUP, "command": "hyperfine -N 'sleep 0.01'", "mode": "tool", "tool": "hyperfine"}
    started, valid, broken = anyio.run(
        lambda: calls(
            repo,
            ("start", setup),
            ("load", {"action": "check", "targets": "targets.yaml"}),
            ("load", {"action": "check", "targets": "broken.yaml"}),
        )
    )
    assert structured(started)["ok"] is True, structured(started)
    state = (repo / ".claude" / "perf" / "investigation.json").read_text()
    recorded = Investigation.model_validate_json(state).setup
    assert (recorded.mode, recorded.tool) == ("tool", "hyperfine")

    assert structured(valid)["ok"] is True, structured(valid)
    refused = structured(broken)
    assert refused["ok"] is False and refused["exit_code"] == 2
    assert "routes" in refused["error"]["message"]


@pytest.mark.slow
@pytest.mark.serial  # a 2 ms route's p95 against 80 ms on a loaded host: alone
def test_a_load_run_through_the_server_judges_slos_and_reports_progress(repo: Path) -> None:
    behaviour = Behaviour(routes={"/fast": (0.002, 200), "/slow": (0.15, 200)})
    progress: list[float] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    with serve(behaviour) as url:
        (repo / "targets.yaml").write_text(
            f"base_url: {url}\nslo_defaults: ['p95_ms <= 80']\nroutes:\n"
            "  - {name: fast, path: /fast}\n  - {name: slow, path: /slow}\n"
        )
        request = {
            "action": "run",
            "profile": "smoke",
            "users": 2,
            "duration": 3,
            "allow_short": "tests use short runs",
            "targets": "targets.yaml",
        }
        (ran,) = anyio.run(lambda: calls(repo, ("load", request), progress_callback=on_progress))
    answer = structured(ran)
    assert answer["exit_code"] == 0, answer
    verdicts = {(v["route"], v["metric"]): v["verdict"] for v in answer["data"]["verdicts"]}
    assert verdicts[("slow", "p95_ms")] == "FAIL" and verdicts[("fast", "p95_ms")] == "PASS"
    assert progress, "no progress notification during a load run of seconds"
