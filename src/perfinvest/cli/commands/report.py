"""``perfinvest report``: one self-contained HTML report of an investigation (or a bundle)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from perfinvest.cli.group import cli
from perfinvest.cli.options import command_runner, context, force_option, json_option


@cli.command()
@click.argument("investigation_id", metavar="[ID]", required=False)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Where to write (default: <perf>/reports/<id>.html, or .zip with --bundle).",
)
@click.option(
    "--bundle",
    is_flag=True,
    help="Write a zip instead: the report, the log, the state, the baselines and the "
    "investigation's artifacts (the same state gives the same bytes).",
)
@force_option
@json_option
@command_runner("report")
def report(
    investigation_id: str | None, output: Path | None, bundle: bool, force: bool, as_json: bool
) -> Any:
    """The HTML report of investigation ID (default: the active one): a summary first, then
    every phase, plots of the runs, the breaking point, constraints, load, profiles,
    experiments and the decision, in one file that opens offline (docs/report.md). It is
    dated by the state's last update, or SOURCE_DATE_EPOCH when set: never the clock.

    \b
      perfinvest report                      # <perf>/reports/<id>.html
      perfinvest report perf-2026 -o r.html  # an id prefix, a file of your choice
      perfinvest report --bundle             # <perf>/reports/<id>.zip

    -o never writes inside the state folder, nor over a file perfinvest did not write
    unless --force (the old file is then kept under <perf>/artifacts/backups/).

    Exit 0 written, 2 bad id, output path or SOURCE_DATE_EPOCH, 4 unknown investigation or
    none active, 6 unreadable state, 7 state folder not writable.
    """
    from perfinvest.app.report import ReportRequest
    from perfinvest.app.report import report as make_report

    result = make_report(context(), ReportRequest(investigation_id, output, bundle, force=force))
    return result, result.findings[0]
