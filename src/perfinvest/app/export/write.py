"""``perfinvest export``: OpenMetrics (file, stdout or a Pushgateway), Grafana, CSV.

Read-only over the state (app/export/read.py gathers); files go where the user said, whole or
not at all. Answers follow the output contract; the exposition or dashboard itself is the
text body, so ``perfinvest export openmetrics > perf.om`` is the file and nothing else.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from perfinvest.app.context import AppContext
from perfinvest.app.export.read import gather
from perfinvest.app.result import CommandResult
from perfinvest.core.errors import usage_error
from perfinvest.core.export.data import ExportData

FORMATS = ("openmetrics", "prometheus")
#: A metric name the dashboard's ``metric="$metric"`` selectors can hold as is.
METRIC_NAME = re.compile(r"^[A-Za-z_][\w.:/\[\]-]*$")


@dataclass(frozen=True)
class OpenMetricsRequest:
    investigation: str | None = None
    version: str | None = None
    fmt: str = "openmetrics"
    output: Path | None = None
    push: str | None = None
    force: bool = False  # -o over a file perfinvest did not write (backed up first)


def export_openmetrics(ctx: AppContext, request: OpenMetricsRequest) -> tuple[CommandResult, str]:
    """The exposition of the results; ``push``: also PUT to a Pushgateway per
    (investigation, version) group."""
    from perfinvest.adapters.export.openmetrics import push, render
    from perfinvest.adapters.output import write_output
    from perfinvest.core.export.openmetrics import build_families, sample_count

    if request.fmt not in FORMATS:
        raise usage_error(f"unknown --format {request.fmt!r}: use openmetrics or prometheus")
    if request.output is not None:
        from perfinvest.store.outputs import check_output

        check_output(ctx.paths, request.output, force=request.force, create_parents=True)
    data = gather(ctx, request.investigation, request.version)
    families = build_families(data)
    text = render(families, "prometheus" if request.fmt == "prometheus" else "openmetrics")
    result = _answer("export openmetrics", data)
    count = sample_count(families)
    superseded = sum(1 for r in data.runs if r.superseded)
    result.findings = [
        f"{data.label}: {len(families)} metric families, {count} samples from "
        f"{len(data.runs)} run(s) ({superseded} of superseded baselines, kept)"
        + _phases_line(data),
        *data.notes,
    ]
    result.data = {
        "format": request.fmt,
        "families": [f.name for f in families],
        "samples": count,
        "runs": len(data.runs),
        "superseded_runs": superseded,
        **_phase_counts(data),
        "investigations": data.investigations,
        "versions": data.versions,
    }
    if request.push is not None:
        groups = sorted({(r.investigation, r.version) for r in data.runs})
        pushed = push(request.push, families, groups)
        result.data["pushed"] = pushed
        result.findings.append(
            f"pushed {len(pushed)} group(s) to {request.push} (job=perfinvest, grouping key "
            "investigation/version; sample timestamps dropped, the Pushgateway refuses them)"
        )
    if request.output is not None:
        backup = write_output(
            request.output, text.encode("utf-8"), guard=ctx.paths, force=request.force
        )
        result.data["output"] = str(request.output)
        result.findings.insert(0, f"wrote {request.output}")
        _note_backup(result, backup)
        return result, ""
    if request.push is not None:
        return result, ""
    result.data["exposition"] = text
    return result, text


def _note_backup(result: CommandResult, backup: Path | None) -> None:
    if backup is not None:
        result.data["backup"] = str(backup)
        result.findings.append(f"the file it replaced is kept at {backup}")


def _default_metric(ctx: AppContext | None, metric: str | None) -> tuple[str, str]:
    """The metric variable's default and its unit: ``metric``, else the active
    investigation's primary metric (its unit when it is that metric); none without either."""
    from perfinvest.core.errors import PerfError

    inv = None
    if ctx is not None:
        try:
            inv = ctx.store.load_active() if ctx.store.has_active() else None
        except PerfError:  # an unreadable state: the dashboard does not depend on it
            inv = None
    if metric is not None and not METRIC_NAME.match(metric):
        raise usage_error(
            f"--metric {metric!r} is not a metric name (letters, digits and _ . : / - [ ], "
            "not starting with a digit): give the name the benchmark reports"
        )
    spec = inv.setup.metric if inv is not None else None
    name = metric if metric is not None else (spec.name if spec is not None else "")
    if not METRIC_NAME.match(name):  # a name a PromQL string would not hold as is
        return "", ""
    unit = spec.unit if spec is not None and spec.name == name else ""
    return name, unit


def export_grafana(
    output: Path | None,
    title: str = "perfinvest",
    *,
    ctx: AppContext | None = None,
    force: bool = False,
    metric: str | None = None,
) -> tuple[CommandResult, str]:
    """The dashboard JSON (Grafana's export-for-sharing form, importable as is)."""
    from perfinvest.adapters.output import write_output
    from perfinvest.core.export.grafana import dashboard, promql_expressions

    default, unit = _default_metric(ctx, metric)
    board = dashboard(title, default, unit)
    text = json.dumps(board, indent=2) + "\n"
    result = CommandResult(command="export grafana")
    panels = [p for p in board["panels"] if p["type"] != "row"]
    result.data = {
        "uid": board["uid"],
        "schema_version": board["schemaVersion"],
        "panels": len(panels),
        "variables": [v["name"] for v in board["templating"]["list"]],
        "queries": len(promql_expressions(board)),
        "metric": default or None,
        "unit": unit or None,
    }
    result.findings = [
        f"dashboard {board['uid']!r}: {len(panels)} panels, schemaVersion "
        f"{board['schemaVersion']}; import it in Grafana (Dashboards > New > Import) and "
        "pick the Prometheus holding `perfinvest export openmetrics`"
    ]
    if output is not None:
        guard = ctx.paths if ctx is not None else None
        backup = write_output(output, text.encode("utf-8"), guard=guard, force=force)
        result.data["output"] = str(output)
        result.findings.insert(0, f"wrote {output}")
        _note_backup(result, backup)
        return result, ""
    result.data["dashboard"] = board
    return result, text


def export_csv(
    ctx: AppContext,
    investigation: str | None,
    version: str | None,
    out_dir: Path | None,
    force: bool = False,
) -> CommandResult:
    """runs.csv, samples.csv (and load_latencies.csv, probes.csv, constraints.csv) into
    ``out_dir`` (default:
    ``perf/exports/<label>/``, never inside an investigation's checkpointed files)."""
    from perfinvest.adapters.export.csv import write_csvs

    if out_dir is not None:
        from perfinvest.store.outputs import check_output_dir

        check_output_dir(ctx.paths, out_dir)
    data = gather(ctx, investigation, version)
    label = data.label.replace(" ", "-")
    directory = out_dir if out_dir is not None else ctx.paths.perf_dir / "exports" / label
    guard = ctx.paths if out_dir is not None else None
    written = write_csvs(data, directory, guard=guard, force=force)
    result = _answer("export csv", data)
    result.findings = [
        f"wrote {len(written)} CSV file(s) to {directory}: "
        + ", ".join(p.name for p in written)
        + f" ({len(data.runs)} run(s)"
        + _phases_line(data)
        + ")",
        *data.notes,
    ]
    result.data = {
        "directory": str(directory),
        "files": [str(p) for p in written],
        "runs": len(data.runs),
        "latency_rows": len(data.latencies),
        **_phase_counts(data),
    }
    return result


def _phase_counts(data: ExportData) -> dict[str, int]:
    return {
        "breaking_points": len(data.breaking_points),
        "superseded_breaking_points": sum(1 for b in data.breaking_points if b.superseded),
        "probes": sum(len(b.result.probes) for b in data.breaking_points),
        "constraints": len(data.constraints),
        "superseded_constraints": sum(1 for c in data.constraints if c.superseded),
    }


def _phases_line(data: ExportData) -> str:
    """``; 2 breaking-point search(es) (1 superseded), ...``; empty without either."""
    counts = _phase_counts(data)
    parts = []
    if counts["breaking_points"]:
        parts.append(
            f"{counts['breaking_points']} breaking-point search(es) with {counts['probes']} "
            f"probe(s) ({counts['superseded_breaking_points']} superseded, kept)"
        )
    if counts["constraints"]:
        parts.append(
            f"{counts['constraints']} constrained configuration(s) "
            f"({counts['superseded_constraints']} superseded, kept)"
        )
    return "; " + ", ".join(parts) if parts else ""


def _answer(command: str, data: ExportData) -> CommandResult:
    """The answer's head: the investigation exported, its last phase, status and baseline
    (a version's export across investigations has no phase of its own)."""
    result = CommandResult(command, investigation=_single(data.investigations))
    if data.status is not None:  # one investigation: data.label is its id
        result.investigation = data.label
        result.phase, result.status, result.baseline = data.phase, data.status, data.baseline
    return result


def _single(ids: list[str]) -> str | None:
    return ids[0] if len(ids) == 1 else None
