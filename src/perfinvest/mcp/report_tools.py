"""The MCP tools that hand an investigation's results on: ``report`` (one HTML file, or a
zip bundle) and ``export`` (OpenMetrics, a Grafana dashboard, CSV), as the CLI's
``cli/commands/report.py`` and ``cli/commands/export.py``.

Both only read the state; what they write is the file the answer names. An option that
the chosen format does not take is passed on anyway, so the CLI refuses it (exit 2) in
its own words rather than the tool dropping it silently.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from perfinvest.mcp.params import ToolSet, command_tool
from perfinvest.mcp.runner import Args

InvestigationId = Annotated[
    str | None,
    Field(description="An investigation id (or a unique prefix); default: the active one."),
]


class ReportTools(ToolSet):
    """Rendering an investigation for people (report) and for other tools (export)."""

    @command_tool("extra_args")
    def report(
        self,
        id: InvestigationId = None,
        output: Annotated[
            str | None,
            Field(
                description="Where to write (relative to cwd); default: "
                "<perf>/reports/<id>.html, or <id>.zip with bundle."
            ),
        ] = None,
        bundle: Annotated[
            bool,
            Field(
                description="Write a zip instead: the report, the reviewer's log, the state, "
                "the baselines, the artifacts and the CSV exports (to hand the whole "
                "investigation to someone)."
            ),
        ] = False,
    ) -> Args:
        """Write the investigation's self-contained HTML report (opens offline): every phase,
        plots of the runs, breaking point, constraints, load, profiles, experiments and
        the decision. Use it to show a person the results; it changes no state.

        The answer gives the file in data.report (data.bundle and data.members with bundle),
        its size in data.bytes, and the section and plot keys in data.sections and
        data.plots. An unknown id is exit 4, a bad output path exit 2.
        """
        return Args("report").opt("--output", output).flag("--bundle", bundle).arg(id)

    @command_tool("extra_args")
    def export(
        self,
        format: Annotated[
            Literal["openmetrics", "grafana", "csv"],
            Field(
                description="openmetrics: the measured results (baselines, runs, load "
                "runs, ...) as metric families (Prometheus, a Pushgateway); grafana: a "
                "dashboard for those "
                "metrics (takes only output and title); csv: runs.csv, samples.csv and the "
                "other tables into a folder."
            ),
        ],
        id: InvestigationId = None,
        version: Annotated[
            str | None,
            Field(
                description="openmetrics, csv: every baseline of this version (archived "
                "included) instead of one investigation."
            ),
        ] = None,
        output: Annotated[
            str | None,
            Field(
                description="openmetrics, grafana: write the file here (default: the text is "
                "in the answer, data.exposition or data.dashboard); csv: the folder "
                "(default: perf/exports/<id>/). Relative to cwd."
            ),
        ] = None,
        push: Annotated[
            str | None,
            Field(
                description="openmetrics: also push to the Pushgateway at this URL, one "
                "group per investigation and version."
            ),
        ] = None,
        text_format: Annotated[
            Literal["openmetrics", "prometheus"] | None,
            Field(
                description="openmetrics: OpenMetrics 1.0 (default, ends with # EOF) or the "
                "Prometheus text format 0.0.4."
            ),
        ] = None,
        title: Annotated[
            str | None, Field(description="grafana: the dashboard's title (default perfinvest).")
        ] = None,
    ) -> Args:
        """Export results for other tools: OpenMetrics for Prometheus (or a Pushgateway), a
        Grafana dashboard importable as is, or CSV tables. Use it when the user wants the
        numbers in their monitoring or a spreadsheet; it only reads the state.

        The answer counts what was exported (data.families, data.samples, data.runs;
        data.files for csv) and names the file written in data.output (data.directory for
        csv); without output the exposition or dashboard itself is in data.exposition or
        data.dashboard. Nothing to export is exit 4.
        """
        args = Args("export", format).opt("--version", version).opt("--format", text_format)
        args.opt("--output", output).opt("--push", push).opt("--title", title)
        return args.arg(id)
