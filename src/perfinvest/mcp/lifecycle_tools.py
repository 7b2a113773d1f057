"""The MCP tools that set up, find and read investigations: start, status, list, resume,
log, and recover after a crash."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from perfinvest.mcp.params import ToolSet, command_tool
from perfinvest.mcp.runner import Args


class LifecycleTools(ToolSet):
    """Setting up, finding and reading investigations; recovering after a crash."""

    @command_tool("no_checkpoint", "extra_args")
    def start(
        self,
        scenario: Annotated[
            str | None, Field(description="The scenario under investigation, in one sentence.")
        ] = None,
        command: Annotated[
            str | None,
            Field(
                description="The benchmark command (split like a shell would, run as argv "
                "unless shell is true)."
            ),
        ] = None,
        metric: Annotated[
            str | None, Field(description="The primary metric's name, as the benchmark reports it.")
        ] = None,
        direction: Annotated[
            Literal["lower", "higher"] | None,
            Field(description="Which way the primary metric improves."),
        ] = None,
        success: Annotated[
            list[str] | None,
            Field(description="Success criteria, e.g. ['p95_ms < 120 at 200 rps']."),
        ] = None,
        version: Annotated[
            str | None, Field(description="The version being measured (names its baseline).")
        ] = None,
        unit: Annotated[
            str | None, Field(description="The metric's unit (ms, rps...): plain text, no < > &.")
        ] = None,
        mode: Annotated[
            Literal["duration", "repeat", "tool"] | None,
            Field(
                description="duration (default): the command runs for PERF_RUN_DURATION (a "
                "recognised hyperfine, pytest-benchmark, pyperf or go test -bench command is "
                "tool-driven); repeat: a short command is re-run until the duration is "
                "filled; tool: perfinvest drives the benchmark tool (see tool)."
            ),
        ] = None,
        tool: Annotated[
            str | None,
            Field(
                description="Force tool-driven mode for this tool: hyperfine, "
                "pytest-benchmark, pyperf, go-test (perfinvest fills the duration with the "
                "tool's own options and reads its export)."
            ),
        ] = None,
        param_env: Annotated[
            str | None,
            Field(
                description="Variable carrying the breaking-point parameter "
                "(default PERF_PARAM_VALUE)."
            ),
        ] = None,
        shell: Annotated[bool, Field(description="Run the command through /bin/sh.")] = False,
        metrics_format: Annotated[
            str | None,
            Field(
                description="Metric format of the output (default: detected): perf-metrics, "
                "hyperfine-json, k6-summary, wrk, pytest-benchmark-json, go-bench, "
                "cargo-criterion-json, locust-csv, pyperf-json."
            ),
        ] = None,
        metrics_file: Annotated[
            str | None,
            Field(
                description="Read metrics from this file (relative to the repository) after "
                "each run instead of stdout."
            ),
        ] = None,
        quote: Annotated[
            list[str] | None, Field(description="The user's words, verbatim, logged.")
        ] = None,
        allow_short_runs: Annotated[
            str | None,
            Field(
                description="A reason to allow runs shorter than 60 s (tests, demos); every "
                "such run is marked non-compliant."
            ),
        ] = None,
    ) -> Args:
        """Phase 1, setup: start a new investigation (an active one is archived, never lost).

        Everything must be stated; nothing is guessed. When anything is missing the answer
        has ok=false, error.kind "needs_input" and error.needs listing exactly what to ask
        the user for. On success `next` names the next phase (baseline).
        """
        args = Args("start").opt("--scenario", scenario).opt("--command", command)
        args.opt("--metric", metric).opt("--direction", direction)
        args.many("--success", success).opt("--version", version).opt("--unit", unit)
        args.opt("--mode", mode).opt("--tool", tool).opt("--param-env", param_env)
        args.flag("--shell", shell).opt("--format", metrics_format)
        args.opt("--metrics-file", metrics_file).many("--quote", quote)
        return args.opt("--allow-short-runs", allow_short_runs)

    @command_tool()
    def status(self) -> Args:
        """Where the active investigation stands: phases done, next step, policy in force."""
        return Args("status")

    @command_tool()
    def list_investigations(self) -> Args:
        """Every investigation in the state folder (data.investigations), the active first."""
        return Args("list")

    @command_tool()
    def resume(
        self,
        id: Annotated[
            str,
            Field(description="The investigation id (e.g. perf-20261123-...) or a unique prefix."),
        ],
    ) -> Args:
        """Make an investigation active again (the active one is archived first)."""
        return Args("resume").arg(id)

    @command_tool()
    def log(
        self,
        id: Annotated[
            str | None, Field(description="An investigation id; default: the active one.")
        ] = None,
    ) -> Args:
        """The reviewer's log of an investigation; the markdown is in data.markdown."""
        return Args("log").arg(id)

    @command_tool("extra_args")
    def recover(
        self,
        release: Annotated[
            bool,
            Field(
                description="Drop the journal even when the restore cannot be verified (the "
                "recorded tree stays under refs/perfinvest/snapshots/)."
            ),
        ] = False,
    ) -> Args:
        """Restore the tree after a crashed experiment; clean up what a killed run left.

        Worktrees, cgroups and locks a killed run left are removed; the answer reports
        exactly what was done. Other commands refuse to run until this has been done.
        """
        return Args("recover").flag("--release", release)
