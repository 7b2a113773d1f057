"""``perfinvest mcp``: the perfinvest tools served over stdio with the ``mcp`` package.

Nothing but the protocol reaches stdout: before serving, the real stdout is set aside for
the protocol alone and file descriptor 1 is pointed at stderr, so a stray ``print``, a
library's warning or a child process that inherits stdout cannot corrupt the stream. The
tools' own subprocesses have their stdout captured (see ``tools``); logs go to stderr.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from perfinvest.mcp.tools import PROGRESS_INTERVAL_S, PerfTools, ProgressHook, Runner

if TYPE_CHECKING:
    from mcp.server.fastmcp import FastMCP

INSTRUCTIONS = (
    "perfinvest runs a performance investigation as ten enforced phases: setup (start), "
    "baseline, breaking_point, constraints, hypotheses (hypotheses_gather, then "
    "hypotheses_add), code_paths, profile, experiment, decide, consolidate. Every tool returns "
    "perfinvest's JSON answer: ok, phase, status, findings, next (the next phase to call, or "
    "the first thing needed) and data. When ok is false read error.message and error.needs: "
    "they say exactly what to supply (ask the user; never guess). Call status to see where an "
    "investigation stands. Tools run in the server's working directory unless you pass cwd "
    "(the repository under investigation). Measuring phases take minutes (60 s runs by "
    "default), load runs as long as their profile. history_check and budget_check judge a "
    "result file warn-only: a breach is in the answer, never a failed call. report writes an "
    "investigation's HTML report for people, export its results as OpenMetrics, a Grafana "
    "dashboard or CSV; simulate answers what-if questions from a queueing model, capacity "
    "fits the Universal Scalability Law to throughput by concurrency: all four take seconds."
)

#: Tools that only read state (the checks are warn-only: they write nothing).
READ_ONLY = frozenset({"status", "list", "log", "hypotheses_list", "history_check", "budget_check"})
#: Tools that change the user's working tree (an experiment edits and restores it,
#: recover puts it back): clients should confirm them.
DESTRUCTIVE = frozenset({"experiment", "recover"})
#: Tools that may reach outside the machine (export openmetrics --push: a Pushgateway).
OPEN_WORLD = frozenset({"export"})

logger = logging.getLogger("perfinvest.mcp")


def build_server(runner: Runner) -> FastMCP:
    """A FastMCP server with one tool per perfinvest command."""
    from mcp.server.fastmcp import FastMCP
    from mcp.types import ToolAnnotations

    from perfinvest import __version__

    server = FastMCP(name="perfinvest", instructions=INSTRUCTIONS, log_level="WARNING")
    lowlevel: Any = server._mcp_server  # FastMCP takes no version: announce perfinvest's
    lowlevel.version = __version__
    tools = PerfTools(runner)
    for name, method in PerfTools.NAMES.items():
        annotations = ToolAnnotations(
            readOnlyHint=name in READ_ONLY,
            destructiveHint=name in DESTRUCTIVE,
            openWorldHint=name in OPEN_WORLD,
        )
        server.add_tool(
            getattr(tools, method), name=name, annotations=annotations, structured_output=True
        )
    return server


def serve(default_cwd: Path | None = None) -> None:
    """Serve over stdio until the client closes stdin."""
    import anyio

    runner = Runner(default_cwd, progress_interval_s=_progress_interval())
    server = build_server(runner)
    runner.on_progress = _progress_reporter(server)
    protocol = _claim_stdout()
    logger.info("perfinvest MCP server on stdio, cwd %s", default_cwd or Path.cwd())
    try:
        anyio.run(_serve, server, protocol)
    finally:
        _release_stdout(protocol)


def _progress_interval() -> float:
    raw = os.environ.get("PERFINVEST_MCP_PROGRESS_S", "")
    try:
        return max(float(raw), 0.05) if raw else PROGRESS_INTERVAL_S
    except ValueError:
        return PROGRESS_INTERVAL_S


def _progress_reporter(server: FastMCP) -> ProgressHook:
    """Progress notifications for the running call (only when its client asked for them)."""

    async def report(elapsed_s: float, last_line: str | None) -> None:
        message = f"{elapsed_s:.0f} s" + (f": {last_line.strip()}" if last_line else "")
        await server.get_context().report_progress(elapsed_s, None, message[:200])

    return report


async def _serve(server: FastMCP, protocol: TextIO) -> None:
    import anyio
    from mcp.server.stdio import stdio_server

    lowlevel: Any = server._mcp_server  # FastMCP.run_stdio_async, with our stdout
    async with stdio_server(stdout=anyio.wrap_file(protocol)) as (read, write):
        await lowlevel.run(read, write, lowlevel.create_initialization_options())


def _claim_stdout() -> TextIO:
    """Keep the real stdout for the protocol; everything else writing to fd 1 hits stderr."""
    sys.stdout.flush()
    protocol = io.TextIOWrapper(os.fdopen(os.dup(1), "wb"), encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return protocol


def _release_stdout(protocol: TextIO) -> None:
    with contextlib.suppress(OSError, ValueError):  # the client went away
        protocol.flush()
    os.dup2(protocol.fileno(), 1)
    sys.stdout = sys.__stdout__
    with contextlib.suppress(OSError, ValueError):
        protocol.close()
