"""``perfinvest metrics``: PerfMetrics v0.1 export and validation (docs/guardrails.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from perfinvest.cli.group import cli
from perfinvest.cli.options import command_runner, context, json_option

_FILE = click.Path(dir_okay=False, path_type=Path)


@cli.group()
def metrics() -> None:
    """PerfMetrics v0.1 files (schemas/perf/PerfMetrics.v0.1.json): export, validate."""


@metrics.command(name="export")
@click.argument("result", type=_FILE, required=False)
@click.option("--version", metavar="V", help="Export the stored baseline of version V.")
@click.option("-o", "--output", type=_FILE, help="Write here (default: print it).")
@click.option("--name", metavar="SCENARIO", help="Scenario name (default: version or file).")
@json_option
@command_runner("metrics export")
def export(
    result: Path | None,
    version: str | None,
    output: Path | None,
    name: str | None,
    as_json: bool,
) -> Any:
    """Write RESULT (a baseline or `run --export` file) or --version V as PerfMetrics."""
    import json

    from perfinvest.app.compare import load_runs
    from perfinvest.app.result import CommandResult
    from perfinvest.core.errors import usage_error
    from perfinvest.core.perfmetrics import to_perfmetrics

    if (result is None) == (version is None):
        raise usage_error("give a RESULT file or --version V (one of them)")
    if version is not None:
        baseline = context().store.load_baseline(version)
        runs, primary, label = list(baseline.runs), baseline.primary_metric.name, version
    else:
        assert result is not None
        runs, primary = load_runs(result)
        label = result.stem
    if not any(r.valid for r in runs):
        raise usage_error(f"{label}: no valid run to export")
    doc = to_perfmetrics(runs, name=name or label, primary=primary)
    text = json.dumps(doc, indent=2, sort_keys=True) + "\n"
    answer = CommandResult(command="metrics export")
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        answer.findings = [f"wrote {output} (PerfMetrics v0.1, {len(doc['metrics'])} metrics)"]
        answer.data = {"output": str(output)}
        return answer, answer.findings[0]
    answer.data = {"perfmetrics": doc}
    return answer, text.rstrip("\n")


@metrics.command(name="validate")
@click.argument("file", type=_FILE)
@json_option
@command_runner("metrics validate")
def validate(file: Path, as_json: bool) -> Any:
    """Check FILE against PerfMetrics v0.1: one line per problem; exit 2 if any."""
    import json

    from perfinvest.app.result import CommandResult
    from perfinvest.core.errors import usage_error
    from perfinvest.core.perfmetrics import problems

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
