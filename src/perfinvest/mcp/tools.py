"""The perfinvest MCP tools: each one runs ``python -m perfinvest <command> ... --json``.

The tools do not call the app layer: they build the command line a person would type and
run it as a subprocess (``runner.py``) in the server's working directory (or the ``cwd``
argument), so the server follows the CLI whatever its phases become, and an agent sees
exactly the answers the CLI documents.

A perfinvest *user* error (a missing setup field, a phase out of order, a refused rule) is
not a tool error: the tool returns the answer with ``ok: false`` and ``error.needs``. A tool
error (an exception) means perfinvest could not be run or did not answer with JSON.
Every phase tool takes ``extra_args`` for options the CLI gains later; the parameters the
tools share are described and applied once (``params.command_tool``).
"""

from __future__ import annotations

from typing import ClassVar

from perfinvest.mcp.guardrail_tools import GuardrailTools
from perfinvest.mcp.lifecycle_tools import LifecycleTools
from perfinvest.mcp.load_tools import LoadTools
from perfinvest.mcp.measuring_tools import MeasuringTools
from perfinvest.mcp.model_tools import ModelTools
from perfinvest.mcp.phase_tools import PhaseTools
from perfinvest.mcp.report_tools import ReportTools
from perfinvest.mcp.runner import (
    DEFAULT_PROGRAM,
    PROGRESS_INTERVAL_S,
    Args,
    PerfinvestUnavailableError,
    ProgressHook,
    Runner,
    parse_answer,
)

__all__ = [
    "DEFAULT_PROGRAM",
    "PROGRESS_INTERVAL_S",
    "Args",
    "PerfTools",
    "PerfinvestUnavailableError",
    "ProgressHook",
    "Runner",
    "parse_answer",
]


class PerfTools(
    LifecycleTools,
    MeasuringTools,
    PhaseTools,
    GuardrailTools,
    LoadTools,
    ReportTools,
    ModelTools,
):
    """Every tool, one method each; the method's docstring is the tool's description."""

    #: tool name -> method name
    NAMES: ClassVar[dict[str, str]] = {
        "start": "start",
        "status": "status",
        "list": "list_investigations",
        "resume": "resume",
        "log": "log",
        "compare": "compare",
        "run": "run_command",
        "diff": "diff",
        "baseline": "baseline",
        "breaking_point": "breaking_point",
        "constraints": "constraints",
        "hypotheses_gather": "hypotheses_gather",
        "hypotheses_add": "hypotheses_add",
        "hypotheses_list": "hypotheses_list",
        "code_paths": "code_paths",
        "profile": "profile",
        "profile_diff": "profile_diff",
        "experiment": "experiment",
        "decide": "decide",
        "consolidate": "consolidate",
        "recover": "recover",
        "history_check": "history_check",
        "budget_check": "budget_check",
        "metrics_export": "metrics_export",
        "load": "load",
        "report": "report",
        "export": "export",
        "simulate": "simulate",
        "capacity": "capacity",
    }
