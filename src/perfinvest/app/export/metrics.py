"""``perfinvest metrics export``: a result, a stored baseline or the last N results of the
baselines history as PerfMetrics v0.1 (docs/guardrails.md).

A history export is a JSON array of v0.1 documents, oldest first (the exported result, if
any, last): each item validates against the unchanged v0.1 schema, so no new version was
needed. The text output is the trend table of the window's metric.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfinvest.app.context import AppContext
from perfinvest.app.result import CommandResult
from perfinvest.core.errors import PerfError, usage_error
from perfinvest.core.models import Run


@dataclass(frozen=True)
class ExportRequest:
    result: Path | None = None
    version: str | None = None
    output: Path | None = None
    name: str | None = None
    history: int | None = None  # also export the last N results of the history
    metric: str | None = None  # the trend's metric (default: the primary one)
    model: str = "t"  # the trend's threshold model: t or iqr
    force: bool = False  # -o over a file perfinvest did not write (backed up first)


@dataclass(frozen=True)
class _Result:
    runs: list[Run]
    primary: str | None
    label: str
    meta: dict[str, Any]  # route, concurrency when the result says them


def _load_result(path: Path, perf_dir: Path) -> _Result:
    """A baseline, a run, a runs list, or a load run's ``result.json``."""
    from perfinvest.app.measuring.compare import load_runs
    from perfinvest.store.documents import parse_document

    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        raw = None  # load_runs names the problem
    if isinstance(raw, dict) and raw.get("kind") == "perfinvest.load-result":
        try:
            run = parse_document(json.dumps(raw.get("run")), Run, f"{path} (its run)")
        except PerfError as error:
            raise usage_error(error.message) from None
        return _Result([run], None, path.parent.name, load_meta(raw))
    runs, primary = load_runs(path)
    return _Result(runs, primary, path.stem, scenario_meta(runs, perf_dir))


def load_meta(document: dict[str, Any]) -> dict[str, Any]:
    """Route and concurrency of a load run's ``result.json``: its peak users, and its route
    when it requested one (several routes: each metric's ``scenario`` names its route)."""
    users = document.get("peak_users")
    paths = document.get("route_paths")  # {name: "GET /path"}; older files: only names
    names = paths.values() if isinstance(paths, dict) else document.get("routes") or {}
    routes = [str(r) for r in names if r != "all"]
    return {
        "route": routes[0] if len(routes) == 1 else None,
        "concurrency": users if isinstance(users, int) and users >= 1 else None,
    }


def _load_results(run: Run, perf_dir: Path | None) -> list[Path]:
    """A load run's ``result.json``: named in its artifacts (``perfinvest load run``), or
    written by ``perfinvest load bench`` into the run's artifact folder (a measured run of a
    load investigation: its stdout's folder holds ``load-<profile>/result.json``)."""
    found: list[Path] = []
    for artifact in run.artifacts:
        path = Path(artifact.path)
        if not path.is_absolute() and perf_dir is not None:
            path = perf_dir / path
        if path.name == "result.json":
            found.append(path)
        elif path.parent.is_dir():
            found.extend(sorted(path.parent.glob("load-*/result.json"))[:4])
    return list(dict.fromkeys(found))


def scenario_meta(runs: list[Run], perf_dir: Path | None = None) -> dict[str, Any]:
    """What the runs' own artifacts say of their scenario (their load ``result.json``);
    the values are kept only when every run that says one agrees."""
    seen: dict[str, set[Any]] = {"route": set(), "concurrency": set()}
    for run in runs:
        if not run.valid:
            continue
        for path in _load_results(run, perf_dir):
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue
            if isinstance(document, dict) and document.get("kind") == "perfinvest.load-result":
                for key, value in load_meta(document).items():
                    seen[key].add(value)
    return {k: next(iter(v)) if len(v) == 1 else None for k, v in seen.items()}


def _document(result: _Result, name: str | None) -> dict[str, Any]:
    from perfinvest.core.export.perfmetrics import to_perfmetrics

    if not any(r.valid for r in result.runs):
        raise usage_error(f"{result.label}: no valid run to export")
    return to_perfmetrics(
        result.runs,
        name=name or result.label,
        primary=result.primary,
        route=result.meta.get("route"),
        concurrency=result.meta.get("concurrency"),
    )


def _current(ctx: AppContext, request: ExportRequest) -> _Result | None:
    if request.result is not None and request.version is not None:
        raise usage_error("give a RESULT file or --version V, not both")
    if request.version is not None:
        baseline = ctx.store.load_baseline(request.version)
        runs = list(baseline.runs)
        meta = scenario_meta(runs, ctx.paths.perf_dir)
        return _Result(runs, baseline.primary_metric.name, request.version, meta)
    if request.result is not None:
        return _load_result(request.result, ctx.paths.perf_dir)
    if request.history is None:
        raise usage_error("give a RESULT file, --version V or --history N")
    return None


def export_metrics(ctx: AppContext, request: ExportRequest) -> tuple[CommandResult, str]:
    """One PerfMetrics document, or (``history``) the window's documents as a list."""
    if request.output is not None:
        from perfinvest.store.outputs import check_output

        check_output(ctx.paths, request.output, force=request.force, create_parents=True)
    current = _current(ctx, request)
    answer = CommandResult(command="metrics export")
    if request.history is None:
        assert current is not None
        doc: Any = _document(current, request.name)
        summary = f"PerfMetrics v0.1, {len(doc['metrics'])} metrics"
        body = json.dumps(doc, indent=2, sort_keys=True)
        answer.data = {"perfmetrics": doc}
    else:
        doc, markdown, findings = _history_documents(ctx, request, current)
        summary = f"PerfMetrics v0.1 list of {len(doc)} results, oldest first"
        body = markdown
        answer.findings = findings
        answer.data = {"perfmetrics": doc, "markdown": markdown}
    if request.output is not None:
        from perfinvest.store.outputs import write_output

        text = json.dumps(doc, indent=2, sort_keys=True) + "\n"
        written = write_output(
            ctx.paths, request.output, text, force=request.force, create_parents=True
        )
        line = f"wrote {request.output} ({summary})"
        if written.backup is not None:
            line += f"; the file it replaced is kept at {written.backup}"
        answer.findings.insert(0, line)
        answer.data = {k: v for k, v in answer.data.items() if k != "perfmetrics"}
        answer.data["output"] = str(request.output)
        return answer, line + ("\n\n" + body if request.history is not None else "")
    return answer, body


def _history_documents(
    ctx: AppContext, request: ExportRequest, current: _Result | None
) -> tuple[list[dict[str, Any]], str, list[str]]:
    from perfinvest.app.guardrails.history import (
        current_point,
        gate_options,
        same_unit,
        window_of,
        window_trend,
    )
    from perfinvest.core.guardrails.history_gate import summary_key

    metric = request.metric or (current.primary if current else None)
    options = gate_options(request.history or 0, request.model, metric)
    exported = request.result or (ctx.paths.baseline(request.version) if request.version else None)
    window = window_of(ctx, metric, options, exclude=exported)  # not in its own window
    docs, seen = [], set()
    for kept in window.kept:
        if kept.relative in seen:
            continue
        seen.add(kept.relative)
        runs = list(kept.baseline.runs)
        primary = kept.baseline.primary_metric.name
        meta = scenario_meta(runs, ctx.paths.perf_dir)
        result = _Result(runs, primary, kept.baseline.version, meta)
        docs.append(_document(result, request.name))
    point = None
    if current is not None:
        keys = sorted({m.key for r in current.runs if r.valid for m in r.metrics})
        key = summary_key(keys, window.metric)
        if key is None:
            raise usage_error(
                f"{current.label} does not report {window.metric!r} (it reports "
                f"{', '.join(keys[:8]) or 'no metric'}); choose one with --metric"
            )
        unit = next(m.unit for r in current.runs for m in r.metrics if m.key == key)
        same_unit(window, unit, current.label)
        docs.append(_document(current, request.name))
        point = current_point(current.label, current.runs, key)
    _, markdown = window_trend(window, point, options)
    return docs, markdown, window.notes
