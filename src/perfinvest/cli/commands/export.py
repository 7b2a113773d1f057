"""``perfinvest export``: OpenMetrics, a Grafana dashboard, CSV (docs/exports.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from perfinvest.cli.group import cli
from perfinvest.cli.options import command_runner, context, force_option, json_option

_FILE = click.Path(dir_okay=False, path_type=Path)
_DIR = click.Path(file_okay=False, path_type=Path)


@cli.group()
def export() -> None:
    """Results for other tools: OpenMetrics (Prometheus, Pushgateway), Grafana, CSV."""


def _body(result: Any, text: str) -> Any:
    from perfinvest.cli.render import Document

    return (result, Document(text)) if text else result


@export.command(name="openmetrics")
@click.argument("investigation_id", metavar="[ID]", required=False)
@click.option("--version", metavar="V", help="Every baseline of version V (archived included).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["openmetrics", "prometheus"]),
    default="openmetrics",
    show_default=True,
    help="OpenMetrics 1.0 (with # EOF) or the Prometheus text format 0.0.4.",
)
@click.option("-o", "--output", type=_FILE, help="Write here (default: print it).")
@click.option(
    "--push",
    metavar="URL",
    help="Also push to the Pushgateway at URL, one group per investigation and version.",
)
@force_option
@json_option
@command_runner("export openmetrics")
def openmetrics(
    investigation_id: str | None,
    version: str | None,
    fmt: str,
    output: Path | None,
    push: str | None,
    force: bool,
    as_json: bool,
) -> Any:
    """Baselines, runs, load results, breaking-point probes and constrained runs of ID
    (default: the active investigation) as metric families with investigation, version,
    scenario, route, metric, quantile, environment and config_hash labels and the time
    each was measured."""
    from perfinvest.app.export.write import OpenMetricsRequest, export_openmetrics

    request = OpenMetricsRequest(investigation_id, version, fmt, output, push, force)
    return _body(*export_openmetrics(context(), request))


@export.command(name="grafana")
@click.option("-o", "--output", type=_FILE, help="Write here (default: print it).")
@click.option("--title", default="perfinvest", show_default=True, help="The dashboard's title.")
@click.option(
    "--metric",
    metavar="NAME",
    help="The metric variable's default (default: the active investigation's primary "
    "metric, whose unit the metric panels then show).",
)
@force_option
@json_option
@command_runner("export grafana")
def grafana(output: Path | None, title: str, metric: str | None, force: bool, as_json: bool) -> Any:
    """A Grafana dashboard (JSON, importable as is) for `export openmetrics`' metrics."""
    from perfinvest.app.export.write import export_grafana

    return _body(*export_grafana(output, title, ctx=context(), force=force, metric=metric))


@export.command(name="csv")
@click.argument("investigation_id", metavar="[ID]", required=False)
@click.option("--version", metavar="V", help="Every baseline of version V (archived included).")
@click.option(
    "-o", "--output", type=_DIR, help="Folder for the CSV files (default: perf/exports/ID/)."
)
@force_option
@json_option
@command_runner("export csv")
def csv(
    investigation_id: str | None,
    version: str | None,
    output: Path | None,
    force: bool,
    as_json: bool,
) -> Any:
    """runs.csv, samples.csv, load_latencies.csv, probes.csv and constraints.csv of ID
    (default: the active one)."""
    from perfinvest.app.export.write import export_csv

    return export_csv(context(), investigation_id, version, output, force)
