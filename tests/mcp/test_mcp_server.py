"""``perfinvest mcp``: the MCP server driven by the ``mcp`` package's own stdio client.

Real parts throughout: the server is a real ``python -m perfinvest mcp`` process, every tool
runs a real ``perfinvest <command> --json`` subprocess in a real git repository.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client.stdio import stdio_client
from tests.conftest import GIT_ENV

from mcp import ClientSession, StdioServerParameters  # the `mcp` extra (in `dev`)
from perfinvest.mcp.models import PerfAnswer
from perfinvest.mcp.tools import PerfinvestUnavailableError, Runner

EXPECTED_TOOLS = {
    "start",
    "status",
    "list",
    "resume",
    "log",
    "compare",
    "run",
    "diff",
    "baseline",
    "breaking_point",
    "constraints",
    "hypotheses_gather",
    "hypotheses_add",
    "hypotheses_list",
    "code_paths",
    "profile",
    "profile_diff",
    "experiment",
    "decide",
    "consolidate",
    "recover",
    "history_check",
    "budget_check",
    "metrics_export",
    "load",
    "report",
    "export",
    "simulate",
    "capacity",
}

SETUP = {
    "scenario": "checkout p95 under load",
    "command": f"{sys.executable} bench.py",
    "metric": "p95_ms",
    "direction": "lower",
    "success": ["p95_ms < 120"],
    "version": "v1",
    "unit": "ms",
    "mode": "duration",
    "quote": ["checkout got slow after the last release"],
    "allow_short_runs": "tests use short runs",
}


def server_env() -> dict[str, str]:
    """What tests/conftest.py gives in-process tests: own host lock, test git identity."""
    env = {**os.environ, **GIT_ENV}
    env.pop("AI_STATE_DIR", None)
    env["PERFINVEST_LOCK_DIR"] = os.environ["PERFINVEST_LOCK_DIR"]
    env["PERFINVEST_MCP_PROGRESS_S"] = "0.2"  # progress notifications during short runs
    return env


def server_params(cwd: Path) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=["-m", "perfinvest", "mcp"], cwd=cwd, env=server_env()
    )


def structured(result: Any) -> dict[str, Any]:
    assert not result.isError, result.content
    assert result.structuredContent is not None
    PerfAnswer.model_validate(result.structuredContent)  # the declared shape
    content: dict[str, Any] = result.structuredContent
    return content


def test_stdio_client_lists_tools_starts_and_reads_status(repo: Path, tmp_path: Path) -> None:
    garbage: list[Exception] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, Exception):  # a stdout line that is not JSON-RPC
            garbage.append(message)

    async def session() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        with (tmp_path / "server.err").open("w") as errlog:
            async with (
                stdio_client(server_params(repo), errlog=errlog) as (read, write),
                ClientSession(read, write, message_handler=on_message) as client,
            ):
                init = await client.initialize()
                seen["server"] = init.serverInfo
                seen["tools"] = (await client.list_tools()).tools
                seen["missing"] = await client.call_tool("start", {"scenario": "only this"})
                seen["start"] = await client.call_tool("start", SETUP)
                seen["status"] = await client.call_tool("status", {})
                seen["list"] = await client.call_tool("list", {})
                seen["log"] = await client.call_tool("log", {})
                seen["dash"] = await client.call_tool(
                    "hypotheses_add", {"statement": "--json is slow", "quote": "-q"}
                )
                seen["compare"] = await client.call_tool(
                    "compare", {"version_a": "v1", "version_b": "v9"}
                )
                seen["bad_cwd"] = await client.call_tool(
                    "status", {"cwd": str(tmp_path / "nowhere")}
                )
        return seen

    seen = anyio.run(session)
    assert not garbage, garbage
    assert seen["server"].name == "perfinvest"

    tools = {tool.name: tool for tool in seen["tools"]}
    assert set(tools) == EXPECTED_TOOLS
    for tool in tools.values():
        assert tool.inputSchema["type"] == "object", tool.name
        assert tool.description, tool.name
        assert tool.outputSchema is not None and "ok" in tool.outputSchema["properties"]
    assert {"scenario", "command", "metric", "direction", "success", "version"} <= set(
        tools["start"].inputSchema["properties"]
    )
    assert tools["resume"].inputSchema["required"] == ["id"]
    assert "extra_args" in tools["baseline"].inputSchema["properties"]

    # a missing setup field is an answer (ok false, what is needed), not a tool error
    missing = structured(seen["missing"])
    assert missing["ok"] is False and missing["exit_code"] == 3
    assert missing["error"]["kind"] == "needs_input"
    assert any(need.startswith("--command") for need in missing["error"]["needs"])
    assert any(need.startswith("--version") for need in missing["error"]["needs"])

    started = structured(seen["start"])
    assert started["ok"] is True, started
    assert started["phase"] == "setup" and started["next"] == "baseline"
    investigation = started["investigation"]
    assert investigation and investigation.startswith("perf-")
    assert started["command_line"][:2] == ["perfinvest", "start"]
    assert (repo / ".claude" / "perf" / "investigation.json").is_file()

    status = structured(seen["status"])
    assert status["ok"] is True and status["exit_code"] == 0
    assert status["investigation"] == investigation
    assert status["phase"] == "setup" and status["next"] == "baseline"
    assert status["data"]["success_criteria"] == ["p95_ms < 120"]
    assert status["data"]["short_run_policy"] == "tests use short runs"

    listed = structured(seen["list"])
    assert [row["id"] for row in listed["data"]["investigations"]] == [investigation]
    log = structured(seen["log"])
    assert "checkout got slow after the last release" in log["data"]["markdown"]

    # a statement starting with dashes reaches perfinvest as the statement: the refusal is
    # rule 8 (history not gathered), not a usage error about an unknown option
    dash = structured(seen["dash"])
    assert dash["ok"] is False and dash["error"]["kind"] != "usage", dash["error"]

    compared = structured(seen["compare"])
    assert compared["ok"] is False and compared["exit_code"] == compared["error"]["code"] != 0

    # perfinvest cannot run there at all: a tool error with a clear message
    assert seen["bad_cwd"].isError
    assert "is not a directory" in seen["bad_cwd"].content[0].text


@pytest.mark.slow
def test_a_measuring_phase_through_the_server_reports_progress(repo: Path) -> None:
    progress: list[tuple[float, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, message))

    async def session() -> tuple[Any, Any]:
        async with (
            stdio_client(server_params(repo)) as (read, write),
            ClientSession(read, write) as client,
        ):
            await client.initialize()
            started = await client.call_tool("start", SETUP)
            measured = await client.call_tool(
                "baseline",
                {"runs": 2, "duration": 0.5, "quote": "measure it"},
                progress_callback=on_progress,
            )
            return started, measured

    started, measured = anyio.run(session)
    assert structured(started)["ok"] is True
    baseline = structured(measured)
    assert baseline["ok"] is True, baseline
    assert baseline["baseline"] == "v1" and baseline["next"] == "breaking-point"
    assert (repo / ".claude" / "perf" / "baselines" / "v1.json").is_file()
    assert progress, "no progress notification during a phase of more than a second"
    values = [value for value, _ in progress]
    assert values == sorted(values) and values[0] > 0


def test_raw_initialize_answers_only_json_rpc_on_stdout(repo: Path) -> None:
    requests = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "raw", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "status"}},
    ]
    server = subprocess.Popen(
        [sys.executable, "-m", "perfinvest", "mcp"],
        cwd=repo,
        env=server_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert server.stdin is not None and server.stdout is not None
    replies: dict[int, dict[str, Any]] = {}
    lines: list[str] = []
    for request in requests:
        server.stdin.write(json.dumps(request) + "\n")
        server.stdin.flush()
        if "id" in request:  # wait for its answer before the next request
            while request["id"] not in replies:
                line = server.stdout.readline()
                assert line, (
                    f"server closed stdout: {server.stderr.read() if server.stderr else ''}"
                )
                lines.append(line)
                reply = json.loads(line)  # every line on stdout is one JSON-RPC message
                assert reply["jsonrpc"] == "2.0"
                if "id" in reply:
                    replies[reply["id"]] = reply
    server.stdin.close()  # the client goes away: the server ends
    rest = server.stdout.read()
    err = server.stderr.read() if server.stderr else ""
    server.wait(timeout=30)
    assert server.returncode == 0, err
    for line in rest.splitlines():
        assert json.loads(line)["jsonrpc"] == "2.0"

    assert replies[1]["result"]["serverInfo"]["name"] == "perfinvest"
    assert {tool["name"] for tool in replies[2]["result"]["tools"]} == EXPECTED_TOOLS
    called = replies[3]["result"]
    # no investigation yet: an answer with ok false, not a protocol or tool error
    assert called["isError"] is False
    assert called["structuredContent"]["ok"] is False
    assert called["structuredContent"]["exit_code"] == 4


def test_stray_writes_to_stdout_go_to_stderr_while_serving(tmp_path: Path) -> None:
    """Once the server holds stdout, a print or a child's output cannot reach the protocol."""
    script = (
        "import os, sys\n"
        "from perfinvest.mcp.server import _claim_stdout, _release_stdout\n"
        "protocol = _claim_stdout()\n"
        "print('stray print')\n"
        "os.system('echo child output')\n"
        "protocol.write('PROTOCOL\\n')\n"
        "_release_stdout(protocol)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout == "PROTOCOL\n"
    assert "stray print" in done.stderr and "child output" in done.stderr


def test_without_the_mcp_package_one_line_and_exit_7() -> None:
    block = "import sys; sys.modules['mcp'] = None; from perfinvest.cli.main import main; "
    text = subprocess.run(
        [sys.executable, "-c", block + "raise SystemExit(main(['mcp']))"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert text.returncode == 7
    assert "pip install 'perfinvest[mcp]'" in text.stderr
    assert "Traceback" not in text.stderr

    as_json = subprocess.run(
        [sys.executable, "-c", block + "raise SystemExit(main(['mcp', '--json']))"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    answer = json.loads(as_json.stdout)
    assert as_json.returncode == 7 and answer["error"]["code"] == 7
    assert "perfinvest[mcp]" in answer["error"]["message"]

    helped = subprocess.run(
        [sys.executable, "-c", block + "raise SystemExit(main(['mcp', '--help']))"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert helped.returncode == 0
    assert "claude mcp add perfinvest -- perfinvest mcp" in helped.stdout


# ---- the runner, with stand-in programs ------------------------------------------------


def python_program(code: str) -> list[str]:
    return [sys.executable, "-c", code, "perfinvest"]


def run_with(program: list[str], tmp_path: Path, **kwargs: Any) -> PerfAnswer:
    runner = Runner(tmp_path, program=program, **kwargs)
    return anyio.run(runner.run, ["status", "--json"])


def test_output_that_is_not_an_answer_is_a_tool_error(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    code = "import sys; print('not json'); sys.stderr.write('boom\\n'); sys.exit(1)"
    with pytest.raises(PerfinvestUnavailableError, match=r"no JSON answer \(exit 1\).*boom"):
        run_with(python_program(code), tmp_path)
    out, err = capfd.readouterr()
    assert "[perfinvest status] boom" in err  # the command's stderr is forwarded to stderr
    assert "not json" not in out  # its stdout never is


def test_missing_perfinvest_is_named_with_the_install_hint(tmp_path: Path) -> None:
    # -S: no site-packages, so this interpreter has no perfinvest to run
    runner = Runner(tmp_path, program=[sys.executable, "-S", "-I", "-m", "perfinvest"])
    with pytest.raises(PerfinvestUnavailableError, match=r"not installed.*perfinvest\[mcp\]"):
        anyio.run(runner.run, ["status", "--json"])

    missing = Runner(tmp_path, program=[str(tmp_path / "no-such-python"), "-m", "perfinvest"])
    with pytest.raises(
        PerfinvestUnavailableError, match=r"cannot run perfinvest.*perfinvest\[mcp\]"
    ):
        anyio.run(missing.run, ["status", "--json"])


def test_progress_is_reported_while_a_command_runs(tmp_path: Path) -> None:
    code = (
        "import json, sys, time\n"
        "for i in range(3):\n"
        "    sys.stderr.write(f'run {i}\\n'); sys.stderr.flush(); time.sleep(0.3)\n"
        "print(json.dumps({'ok': True, 'command': 'baseline'}))\n"
    )
    reports: list[tuple[float, str | None]] = []

    async def hook(elapsed: float, line: str | None) -> None:
        reports.append((elapsed, line))
        raise RuntimeError("client gone")  # must not stop the command

    answer = run_with(python_program(code), tmp_path, on_progress=hook, progress_interval_s=0.1)
    assert answer.ok is True
    assert len(reports) >= 3
    assert any(line and line.startswith("run ") for _, line in reports)
    assert reports[-1][0] < 10  # the ticker stopped with the command


def test_an_answer_with_exit_code_is_returned_not_raised(tmp_path: Path) -> None:
    answer = {
        "ok": False,
        "command": "baseline",
        "status": "blocked",
        "error": {"code": 4, "kind": "refused", "message": "no setup", "needs": ["start"]},
        "future_field": 1,
    }
    code = f"import json, sys; print(json.dumps({answer!r})); sys.exit(4)"
    result = run_with(python_program(code), tmp_path)
    assert result.ok is False and result.exit_code == 4
    assert result.error is not None and result.error.needs == ["start"]
    assert result.model_dump()["future_field"] == 1  # newer fields are kept


def test_cancelling_a_call_stops_the_command_with_sigterm(tmp_path: Path) -> None:
    marker = tmp_path / "terminated"
    code = (
        "import signal, sys, time\n"
        f"def stop(*_):\n    open({str(marker)!r}, 'w').write('TERM'); sys.exit(130)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        f"open({str(tmp_path / 'started')!r}, 'w').close()\n"
        "time.sleep(60)\n"
    )
    runner = Runner(tmp_path, program=python_program(code), terminate_grace_s=10)

    async def call_then_cancel() -> None:
        with anyio.move_on_after(30) as scope:
            async with anyio.create_task_group() as group:
                group.start_soon(runner.run, ["baseline", "--json"])
                while not (tmp_path / "started").exists():
                    await anyio.sleep(0.05)
                group.cancel_scope.cancel()
        assert not scope.cancelled_caught, "the command did not start"

    began = time.monotonic()
    anyio.run(call_then_cancel)
    assert marker.read_text() == "TERM"  # it got SIGTERM, so perfinvest can restore and unlock
    assert time.monotonic() - began < 25
