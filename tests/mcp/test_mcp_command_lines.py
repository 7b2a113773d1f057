"""The command lines the MCP tools build: every tool, with every parameter set, must build a
command line the current CLI parses (renaming a CLI option without its tool fails here).

No subprocess: a recording runner keeps the argv; click parses it without invoking.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import click
import pytest
from tests.mcp.test_mcp_server import EXPECTED_TOOLS, SETUP

from perfinvest.cli.group import cli as cli_group
from perfinvest.mcp.models import PerfAnswer
from perfinvest.mcp.tools import PerfTools, Runner


class Recorder(Runner):
    def __init__(self) -> None:
        super().__init__(Path.cwd())
        self.calls: list[list[str]] = []

    async def run(self, args: Any, cwd: str | None = None) -> PerfAnswer:
        self.calls.append(list(args))
        return PerfAnswer(ok=True, command=args[0], exit_code=0)


def command_of(args: list[str]) -> tuple[click.Command, list[str]]:
    """The click command an argv names, and the arguments left for it."""
    command: click.Command = cli_group
    rest = list(args)
    while isinstance(command, click.Group) and rest and rest[0] in command.commands:
        command = command.commands[rest.pop(0)]
    return command, rest


#: Every tool with every parameter set: the command line it builds must parse.
ALL_CALLS: list[tuple[str, dict[str, Any]]] = [
    (
        "start",
        {
            **SETUP,
            "param_env": "N",
            "shell": True,
            "metrics_format": "perf-metrics",
            "metrics_file": "m.json",
            "no_checkpoint": True,
        },
    ),
    ("start", {**SETUP, "mode": "tool", "tool": "hyperfine", "extra_args": ["--shell"]}),
    ("status", {}),
    ("list_investigations", {}),
    ("resume", {"id": "perf-20260101-000000-00000000"}),
    ("log", {"id": "perf-20260101-000000-00000000"}),
    (
        "compare",
        {
            "version_a": "v1",
            "version_b": "v2",
            "metrics": ["p95_ms"],
            "force": True,
            "fail_on_regression": True,
        },
    ),
    (
        "run_command",
        {
            "command": ["python", "-m", "bench", "--fast"],
            "mode": "duration",
            "runs": 2,
            "allow_short": "r",
            "metrics_format": "perf-metrics",
            "export": "runs.json",
            "shell": True,
            "duration": 0.3,
            "strict": True,
        },
    ),
    (
        "diff",
        {
            "baseline_file": "a.json",
            "current_file": "b.json",
            "metrics": ["wall_ms"],
            "force": True,
            "fail_on_regression": True,
        },
    ),
    (
        "diff",
        {
            "current_file": "b.json",
            "history": 5,
            "history_model": "iqr",
            "report_dir": "out",
            "fail_on_regression": True,
        },
    ),
    (
        "baseline",
        {
            "runs": 2,
            "duration": 0.3,
            "strict": True,
            "quote": "-x",
            "skip_reason": "r",
            "no_checkpoint": True,
        },
    ),
    (
        "breaking_point",
        {
            "min": 1,
            "max": 500,
            "fail_when": ["p95_ms>150"],
            "resolution": 5,
            "param_env": "N",
            "approve_expansion": "r",
            "allow_no_metrics": "r",
            "duration": 0.3,
            "strict": True,
            "quote": "q",
            "no_checkpoint": True,
        },
    ),
    (
        "constraints",
        {
            "cpu": [0.5, 1],
            "memory": ["256MB"],
            "pids": 64,
            "runs": 2,
            "backend": "cgroup1",
            "image": "img",
            "duration": 0.3,
            "strict": True,
            "quote": "q",
            "skip_reason": "r",
            "no_checkpoint": True,
        },
    ),
    (
        "hypotheses_gather",
        {
            "since": "HEAD~3",
            "paths": ["app.py"],
            "quote": "q",
            "skip_reason": "r",
            "no_checkpoint": True,
        },
    ),
    (
        "hypotheses_add",
        {
            "statement": "-slow",
            "evidence": ["e"],
            "confidence": "high",
            "from_file": "h.json",
            "quote": "q",
            "no_checkpoint": True,
        },
    ),
    ("hypotheses_list", {}),
    ("code_paths", {"top": 5, "quote": "q", "skip_reason": "r", "no_checkpoint": True}),
    (
        "profile",
        {
            "profiler": "py-spy",
            "rate": 100,
            "top": 5,
            "duration": 0.3,
            "strict": True,
            "quote": "q",
            "skip_reason": "r",
            "no_checkpoint": True,
        },
    ),
    ("profile_diff", {"a": "p1", "b": "p2", "top": 5}),
    ("experiment", {"skip_reason": "r", "quote": "q", "no_checkpoint": True}),
    (
        "experiment",
        {
            "action": "start",
            "hypothesis": "H1",
            "change": "cache it",
            "files": ["app.py"],
            "quote": "q",
            "no_checkpoint": True,
        },
    ),
    ("experiment", {"action": "run", "runs": 2, "duration": 0.3, "strict": True}),
    (
        "experiment",
        {
            "action": "ab",
            "hypothesis": "H1",
            "change": "flag",
            "runs": 2,
            "duration": 0.3,
            "strict": True,
        },
    ),
    ("experiment", {"action": "abort", "quote": "q"}),
    ("experiment", {"action": "list"}),
    ("experiment", {"action": "show", "number": 1}),
    ("experiment", {"action": "apply", "number": 1}),
    (
        "decide",
        {
            "verdict": "stop",
            "rationale": "goal met",
            "quote": "q",
            "skip_reason": "r",
            "no_checkpoint": True,
        },
    ),
    ("consolidate", {"quote": "q", "skip_reason": "r", "no_checkpoint": True}),
    ("recover", {"release": True}),
    (
        "history_check",
        {
            "current": "now.json",
            "metric": "p95_ms",
            "scenario": "s",
            "window": 5,
            "model": "iqr",
            "k": 3,
            "per_run": True,
            "extra_args": ["--window=6"],
        },
    ),
    (
        "budget_check",
        {
            "current": "now.json",
            "baseline": "then.json",
            "version": "v1",
            "budgets": "b.yaml",
            "history": 5,
            "history_model": "iqr",
        },
    ),
    (
        "metrics_export",
        {
            "result": "now.json",
            "version": "v1",
            "output": "m.json",
            "name": "-n",
            "history": 5,
            "metric": "p95_ms",
            "history_model": "iqr",
        },
    ),
    ("load", {"action": "check", "targets": "t.yaml"}),
    ("load", {"action": "init", "targets": "t.yaml", "extra_args": ["--force"]}),
    (
        "load",
        {
            "action": "run",
            "profile": "smoke",
            "users": 2,
            "rate": 5,
            "allow_short": "r",
            "approve": "r",
            "workers": 2,
            "targets": "t.yaml",
            "duration": 3,
        },
    ),
    ("load", {"action": "suite", "profiles": ["smoke", "baseline"], "duration": 3}),
    ("report", {"id": "perf-20260101-000000-00000000", "output": "r.zip", "bundle": True}),
    (
        "export",
        {
            "format": "openmetrics",
            "id": "perf-20260101",
            "version": "v1",
            "output": "perf.om",
            "push": "http://127.0.0.1:9091",
            "text_format": "prometheus",
        },
    ),
    ("export", {"format": "grafana", "output": "board.json", "title": "-t"}),
    ("export", {"format": "csv", "id": "-perf", "output": "tables"}),
    (
        "simulate",
        {
            "scenario": "api-route",
            "seed": 3,
            "output": "o.json",
            "export": "runs.json",
            "batches": 5,
            "overrides": ["arrival.rate_per_s=200", "routes.checkout.stages.app.workers=6"],
            "max_requests": 1000,
            "name": "n",
            "extra_args": ["--emit-perf-metrics"],
        },
    ),
    ("simulate", {"list_scenarios": True}),
    (
        "capacity",
        {
            "from_file": "points.csv",
            "source": "load",
            "metric": "rps",
            "current": 4,
            "current_throughput": 90.5,
        },
    ),
]


@pytest.mark.parametrize(("method", "params"), ALL_CALLS)
def test_tool_parameters_are_options_the_cli_accepts(method: str, params: dict[str, Any]) -> None:
    recorder = Recorder()

    async def call() -> None:
        await getattr(PerfTools(recorder), method)(**params)

    anyio.run(call)
    [argv] = recorder.calls
    assert argv.count("--json") == 1
    command, rest = command_of(argv)
    # parsing alone (no invocation): an unknown option or a bad choice raises UsageError
    with command.make_context(command.name or "", rest) as parsed:
        for name in (
            "id",
            "statement",
            "version_a",
            "version_b",
            "a",
            "b",
            "number",
            "baseline_file",
            "current_file",
            "current",
            "scenario",
            "result",
        ):
            if name in params:  # positional values arrive as values, not as options
                values = [str(v) if isinstance(v, Path) else v for v in parsed.params.values()]
                assert params[name] in values, parsed.params


def test_every_tool_has_a_method_and_extra_args_pass_through() -> None:
    assert set(PerfTools.NAMES) == EXPECTED_TOOLS
    assert {method for method, _ in ALL_CALLS} == set(PerfTools.NAMES.values())
    recorder = Recorder()

    async def call() -> None:
        tools = PerfTools(recorder)
        await tools.breaking_point(min=1, max=500, fail_when=["p95_ms>150"], extra_args=["--x=1"])
        await tools.experiment(action="show", number=2)
        await tools.recover(extra_args=["--release"])

    anyio.run(call)
    assert recorder.calls == [
        ["breaking-point", "--min=1", "--max=500", "--fail-when=p95_ms>150", "--x=1", "--json"],
        ["experiment", "show", "--json", "--", "2"],
        ["recover", "--release", "--json"],
    ]


def test_shared_parameters_have_one_shape_in_every_tool() -> None:
    """``command_tool`` appends the shared parameters: one description, one default each."""
    from perfinvest.mcp.params import SHARED, command_tool
    from perfinvest.mcp.server import build_server

    listed = anyio.run(build_server(Runner(Path.cwd())).list_tools)
    schemas = {tool.name: tool.inputSchema["properties"] for tool in listed}
    assert all("cwd" in properties for properties in schemas.values())
    for name in SHARED:
        shapes = {
            json.dumps(properties[name], sort_keys=True)
            for tool, properties in schemas.items()
            # start's quote is a list; a load profile has its own duration
            if name in properties and (tool, name) not in {("start", "quote"), ("load", "duration")}
        }
        assert len(shapes) == 1, (name, shapes)
    measuring = {t for t, p in schemas.items() if "strict" in p}
    assert measuring == {
        "baseline",
        "breaking_point",
        "constraints",
        "profile",
        "experiment",
        "run",
    }
    with pytest.raises(ValueError, match="no shared parameter nope"):
        command_tool("nope")
