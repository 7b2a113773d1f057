"""``perfinvest metrics``: PerfMetrics v0.1 export and validation (docs/guardrails.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from perfinvest.cli.commands.history import history_model_option
from perfinvest.cli.group import cli
from perfinvest.cli.options import command_runner, context, force_option, json_option

_FILE = click.Path(dir_okay=False, path_type=Path)


@cli.group()
def metrics() -> None:
    """PerfMetrics v0.1 files (schemas/perf/PerfMetrics.v0.1.json): export, validate.

    A file may also hold a list of v0.1 documents (a `metrics export --history N`)."""


@metrics.command(name="export")
@click.argument("result", type=_FILE, required=False)
@click.option("--version", metavar="V", help="Export the stored baseline of version V.")
@click.option("-o", "--output", type=_FILE, help="Write here (default: print it).")
@click.option("--name", metavar="SCENARIO", help="Scenario name (default: version or file).")
@click.option(
    "--history",
    type=int,
    metavar="N",
    help="Export the last N results of the baselines history as a list (RESULT, if given, "
    "last) and show their trend.",
)
@click.option("--metric", metavar="M", help="With --history: the trend's metric.")
@history_model_option
@force_option
@json_option
@command_runner("metrics export")
def export(
    result: Path | None,
    version: str | None,
    output: Path | None,
    name: str | None,
    history: int | None,
    metric: str | None,
    history_model: str,
    force: bool,
    as_json: bool,
) -> Any:
    """Write RESULT (a baseline, a `run --export` file, a load run's result.json) or
    --version V as PerfMetrics v0.1; --history N: the last N results of the history as a
    list of v0.1 documents. Exit 2 (bad file, N < 2, mixed units), 4 (empty history)."""
    from perfinvest.app.export.metrics import ExportRequest, export_metrics

    return export_metrics(
        context(),
        ExportRequest(result, version, output, name, history, metric, history_model, force=force),
    )


@metrics.command(name="validate")
@click.argument("file", type=_FILE)
@json_option
@command_runner("metrics validate")
def validate(file: Path, as_json: bool) -> Any:
    """Check FILE (one document, or a list from `export --history N`) against PerfMetrics
    v0.1 (the list: schemas/perf/PerfMetricsList.v0.1.json), formats (date-time) and
    finite numbers included: one line per problem; exit 2 if any."""
    import json

    from perfinvest.app.result import CommandResult
    from perfinvest.core.errors import usage_error
    from perfinvest.core.export.perfmetrics import problems

    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise usage_error(f"cannot read {file}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise usage_error(f"{file} is not JSON (line {exc.lineno}: {exc.msg})") from None
    found = problems(doc)
    answer = CommandResult(command="metrics validate")
    answer.findings = [f"{file}: {line}" for line in found]
    answer.data = {"file": str(file), "valid": not found, "problems": found}
    if found:
        answer.ok = False
        answer.exit_code = 2
        answer.error = {
            "code": 2,
            "kind": "usage",
            "message": f"{file} is not valid PerfMetrics v0.1 ({len(found)} problem(s))",
            "needs": [],
        }
        return answer, "\n".join(answer.findings)
    return answer, f"{file}: valid PerfMetrics v0.1"
