"""The MCP tools of the CI guardrails, warn-only: ``history check`` and ``budget check``, and
``metrics export`` (PerfMetrics v0.1, the format the gates read).

They answer what ``perfinvest history check --json`` and ``perfinvest budget check --json``
print; ``--enforce`` (exit 8 on a breach) is a CI job's choice, not an agent's, so the tools
never pass it: a breach is a finding in the answer (``data``), the exit code stays 0.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from perfinvest.mcp.params import HistoryModel, ToolSet, command_tool
from perfinvest.mcp.runner import Args

Current = Annotated[
    str,
    Field(
        description="The result file to check: a baselines/<version>.json or a "
        "`perfinvest run --export` file (relative to cwd)."
    ),
]


class GuardrailTools(ToolSet):
    """Checking a result against the baselines history and against the budgets."""

    @command_tool("extra_args")
    def history_check(
        self,
        current: Current,
        metric: Annotated[
            str | None,
            Field(
                description="Metric to follow (default: the primary metric of the newest "
                "baseline, or of the checked file)."
            ),
        ] = None,
        scenario: Annotated[str | None, Field(description="The metric of this scenario.")] = None,
        window: Annotated[
            int | None,
            Field(description="The last N results of the history make the threshold (10)."),
        ] = None,
        model: Annotated[
            Literal["t", "iqr"] | None,
            Field(
                description="t (default): 95 % prediction interval from mean and stddev "
                "(needs 3 points); iqr: Tukey's fences from the quartiles (needs 4)."
            ),
        ] = None,
        k: Annotated[
            float | None, Field(description="IQR model: the fence is Q3 + k·IQR (default 1.5).")
        ] = None,
        per_run: Annotated[
            bool,
            Field(description="One point per run of each baseline instead of one per baseline."),
        ] = False,
        noise_floor: Annotated[
            float | None,
            Field(
                description="The limits stay at least this fraction of the window's center "
                "away from it (default 0.001, 0.1 %; 0: exact)."
            ),
        ] = None,
    ) -> Args:
        """Check a result file against the threshold the baselines history gives (warn-only).

        The answer says whether it breaches (and by how much), or how many results the
        history still lacks; a breach does not fail the call.
        """
        args = Args("history", "check").opt("--metric", metric).opt("--scenario", scenario)
        args.opt("--window", window).opt("--model", model).opt("--k", k)
        args.opt("--noise-floor", noise_floor)
        return args.flag("--per-run", per_run).arg(current)

    @command_tool("extra_args")
    def budget_check(
        self,
        current: Current,
        baseline: Annotated[
            str | None, Field(description="Result file to compare against (relative to cwd).")
        ] = None,
        version: Annotated[
            str | None, Field(description="Compare against the stored baseline of this version.")
        ] = None,
        budgets: Annotated[
            str | None, Field(description="Budgets file (default: perf/budgets.yaml).")
        ] = None,
        history: Annotated[
            int | None,
            Field(
                description="Also judge each budget's metric against the last N results of "
                "the history."
            ),
        ] = None,
        history_model: HistoryModel = None,
        noise_floor: Annotated[
            float | None,
            Field(
                description="The limits stay at least this fraction of the window's center "
                "away from it (default 0.001, 0.1 %; 0: exact)."
            ),
        ] = None,
    ) -> Args:
        """Check a result file against the budgets (perf/budgets.yaml), warn-only.

        A regression budget breaches only on a significant regression larger than the
        budget; every budget's verdict is in the answer, a breach does not fail the call.
        """
        args = Args("budget", "check").opt("--baseline", baseline).opt("--version", version)
        args.opt("--budgets", budgets).opt("--history", history)
        args.opt("--noise-floor", noise_floor)
        return args.opt("--history-model", history_model).arg(current)

    @command_tool("extra_args")
    def metrics_export(
        self,
        result: Annotated[
            str | None,
            Field(
                description="The result file (relative to cwd): a baseline, a `perfinvest run "
                "--export` file or a load run's result.json. With history it is the newest."
            ),
        ] = None,
        version: Annotated[
            str | None, Field(description="Export the stored baseline of this version instead.")
        ] = None,
        output: Annotated[
            str | None,
            Field(description="Write the file here (default: the document is in the answer)."),
        ] = None,
        name: Annotated[
            str | None, Field(description="The scenario name (default: the version or file).")
        ] = None,
        history: Annotated[
            int | None,
            Field(
                description="Export the last N results of the baselines history as a list "
                "(result, if given, last) with their trend (N >= 2)."
            ),
        ] = None,
        metric: Annotated[
            str | None, Field(description="With history: the trend's metric.")
        ] = None,
        history_model: HistoryModel = None,
    ) -> Args:
        """Write a result as PerfMetrics v0.1, the vendor-neutral file budget_check,
        history_check and diff read (and other tools can), or with history the last N
        results of the baselines history as a list with their trend and threshold.

        data.perfmetrics holds the document (a list with history; data.markdown the
        trend) unless output is given, then data.output names the file. Exit 2 on a bad
        file or N < 2, 4 on an empty history.
        """
        args = Args("metrics", "export").opt("--version", version).opt("--output", output)
        args.opt("--name", name).opt("--history", history).opt("--metric", metric)
        return args.opt("--history-model", history_model).arg(result)
