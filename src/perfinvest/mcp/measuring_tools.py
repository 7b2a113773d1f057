"""The MCP tools that measure outside the phases: compare, run, diff (as the CLI's
``cli/commands/measuring.py``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from perfinvest.mcp.params import MEASURING, HistoryModel, ToolSet, command_tool
from perfinvest.mcp.runner import Args

Metrics = Annotated[list[str] | None, Field(description="Only these metrics; default: all shared.")]
Force = Annotated[bool, Field(description="Compare despite different environments (logged).")]
FailOnRegression = Annotated[
    bool,
    Field(description="Answer exit code 8 when the primary metric (or a metric) regressed."),
]
History = Annotated[
    int | None,
    Field(
        description="Judge current_file against the last N results of the baselines "
        "history (a threshold from their spread) instead of a second file (N >= 2)."
    ),
]


class MeasuringTools(ToolSet):
    """Comparing baselines and result files; measuring a command outside any investigation."""

    @command_tool()
    def compare(
        self,
        version_a: Annotated[str, Field(description="The reference version (its baseline).")],
        version_b: Annotated[str, Field(description="The version compared against it.")],
        metrics: Metrics = None,
        force: Force = False,
        fail_on_regression: FailOnRegression = False,
    ) -> Args:
        """Compare two versions' baselines: change, CI, p-values and a verdict per metric."""
        args = Args("compare").many("--metric", metrics).flag("--force", force)
        return args.flag("--fail-on-regression", fail_on_regression).arg(version_a).arg(version_b)

    @command_tool(*MEASURING, "extra_args")
    def run_command(
        self,
        command: Annotated[
            list[str],
            Field(
                description="The command as argv words, e.g. ['python', 'bench.py'] (with "
                "shell: the words are joined into one /bin/sh command line)."
            ),
        ],
        mode: Annotated[
            Literal["repeat", "duration"] | None,
            Field(
                description="repeat (default): re-run a short command to fill the duration, "
                "like hyperfine; duration: one long run that prints its metrics."
            ),
        ] = None,
        runs: Annotated[int | None, Field(description="Sequential runs (default 1).")] = None,
        allow_short: Annotated[
            str | None,
            Field(
                description="A reason to allow a duration under 60 s; the run is marked "
                "non-compliant with it."
            ),
        ] = None,
        metrics_format: Annotated[
            str | None, Field(description="Metric format of the output (duration mode).")
        ] = None,
        export: Annotated[
            str | None,
            Field(
                description="Write the runs as JSON to this file (relative to cwd), for a "
                "later diff."
            ),
        ] = None,
        shell: Annotated[bool, Field(description="Run the command through /bin/sh.")] = False,
    ) -> Args:
        """Measure a command outside any investigation (like hyperfine, with the same rules):
        valid runs only, statistics per metric; nothing is written to an investigation."""
        args = Args("run").opt("--mode", mode).opt("--runs", runs)
        args.opt("--allow-short", allow_short).opt("--format", metrics_format)
        args.opt("--export", export).flag("--shell", shell)
        for word in command:
            args.arg(word)
        return args

    @command_tool()
    def diff(
        self,
        baseline_file: Annotated[
            str | None,
            Field(
                description="The reference result file: a baselines/<version>.json, a "
                "run export, a PerfMetrics file or a tool's export (hyperfine, "
                "pytest-benchmark, pyperf JSON), relative to cwd. Leave it out with history."
            ),
        ] = None,
        current_file: Annotated[
            str | None, Field(description="The result file compared against it (or the history).")
        ] = None,
        metrics: Metrics = None,
        force: Force = False,
        fail_on_regression: FailOnRegression = False,
        history: History = None,
        history_model: HistoryModel = None,
        report_dir: Annotated[
            str | None,
            Field(
                description="Also write diff.json and diff.md here (regressions first, "
                "byte-identical per input)."
            ),
        ] = None,
    ) -> Args:
        """Compare two result files (baselines, or runs exported by the run tool), or with
        history one file against the last N results of the baselines history: change, CI,
        p-values and a verdict per metric (against the history: the threshold it gives).

        Exit 8 only with fail_on_regression; 2 on a bad file or N < 2, 4 on an empty
        history or different environments."""
        args = Args("diff").many("--metric", metrics).flag("--force", force)
        args.flag("--fail-on-regression", fail_on_regression).opt("--report-dir", report_dir)
        args.opt("--history", history).opt("--history-model", history_model)
        return args.arg(baseline_file).arg(current_file)
