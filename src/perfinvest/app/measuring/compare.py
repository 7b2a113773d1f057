"""``compare`` (two versions' baselines) and ``diff`` (two result files)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfinvest.app.context import AppContext
from perfinvest.app.result import CommandResult
from perfinvest.core.errors import ExitCode, PerfError, refused, usage_error
from perfinvest.core.models import Baseline, Event, Run
from perfinvest.core.report.log import render_event, render_header
from perfinvest.core.stats.comparability import mismatches
from perfinvest.core.stats.comparing import (
    ComparisonTable,
    compare_runs,
    render_markdown,
    table_json,
)
from perfinvest.store.documents import parse_document


@dataclass(frozen=True)
class CompareOptions:
    metrics: tuple[str, ...] = ()
    force: bool = False
    fail_on_regression: bool = False
    report_dir: Path | None = None  # diff: write diff.json + diff.md here
    overwrite: bool = False  # --report-dir over files perfinvest did not write (backed up)


def _check_fingerprints(
    ctx: AppContext, a: Sequence[Run], b: Sequence[Run], label: str, force: bool
) -> list[str]:
    """Refuse mismatched environments unless forced; a forced one is logged as an event."""
    first_a = next((r for r in a if r.valid), None)
    first_b = next((r for r in b if r.valid), None)
    if first_a is None or first_b is None:
        raise refused(f"{label}: one side has no valid run to compare")
    found = mismatches(first_a.environment, first_b.environment)
    if found and not force:
        raise refused(
            f"{label}: environments differ ({'; '.join(found)}); comparing them would measure "
            "the machine, not the change. Re-measure on one machine, or pass --force (logged)"
        )
    if found:
        _log_event(ctx, "forced comparison", f"{label} despite: {'; '.join(found)}")
    return found


def _log_event(ctx: AppContext, kind: str, message: str) -> None:
    """Record a note in the active investigation's state and its reviewer's log."""
    store = ctx.store
    if not store.has_active():
        return
    event = Event(at=ctx.now(), kind=kind, message=message)
    with store.transaction() as inv:
        inv.events.append(event)
        store.append_log(inv.id, render_header(inv), render_event(event))


def _compliance(label: str, runs: Sequence[Run]) -> list[str]:
    """Rule 2 in every report: which side's runs were shorter than the policy."""
    notes = sorted(
        {r.compliance_note or "shorter than the policy" for r in runs if not r.compliant}
    )
    return [f"non-compliant runs in {label}: {note}" for note in notes]


def _answer(
    command: str,
    table: ComparisonTable,
    forced: list[str],
    options: CompareOptions,
    primary: str | None,
    compliance: list[str],
) -> CommandResult:
    watched = list(options.metrics) or ([primary] if primary else None)
    regressed = table.regressed(watched)
    result = CommandResult(command=command)
    result.findings = [
        f"{row.key}: {row.comparison.verdict} ({row.comparison.reason})" for row in table.rows
    ]
    if forced:
        result.findings.append(f"forced despite environment differences: {'; '.join(forced)}")
    result.findings.extend(compliance)
    result.data = {"comparison": table_json(table), "markdown": render_markdown(table)}
    if regressed and options.fail_on_regression:
        result.ok = False
        result.error = {
            "code": int(ExitCode.REGRESSION),
            "kind": "regression",
            "message": f"regression in {', '.join(regressed)}",
            "needs": [],
        }
        result.exit_code = int(ExitCode.REGRESSION)
    return result


def compare_versions(
    ctx: AppContext, version_a: str, version_b: str, options: CompareOptions
) -> CommandResult:
    store = ctx.store
    a, b = store.load_baseline(version_a), store.load_baseline(version_b)
    label = f"{version_a} vs {version_b}"
    forced = _check_fingerprints(ctx, a.runs, b.runs, label, options.force)
    table = compare_runs(
        a.runs,
        b.runs,
        baseline_label=version_a,
        candidate_label=version_b,
        metrics=options.metrics,
        primary=a.primary_metric.name,
    )
    compliance = _compliance(version_a, a.runs) + _compliance(version_b, b.runs)
    result = _answer("compare", table, forced, options, a.primary_metric.name, compliance)
    result.baseline = version_a
    return result


def load_runs(path: Path) -> tuple[list[Run], str | None]:
    """Runs from a baseline, run, PerfMetrics or JSON-array-of-runs file, or a known tool's
    export (:func:`read_result`); a primary metric."""
    runs, primary, _ = read_result(path)
    return runs, primary


def read_result(path: Path) -> tuple[list[Run], str | None, str | None]:
    """:func:`load_runs` and the tool format the file was read as (``None``: perfinvest's
    own). A tool's export (hyperfine ``--export-json``, pytest-benchmark ``--benchmark-json``,
    pyperf ``-o``, k6, wrk, Go, Locust...: what ``run`` parses from output) is one run."""
    from perfinvest.core.export.perfmetrics_read import is_perfmetrics, run_from_perfmetrics

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise usage_error(f"cannot read {path}: {reason or exc}") from None
    try:
        raw: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        foreign = _tool_export(text, path)
        if foreign is not None:
            return [foreign[0]], None, foreign[1]
        raise usage_error(f"{path} is not JSON (line {exc.lineno}: {exc.msg})") from None
    try:
        if isinstance(raw, list):
            return (
                [
                    parse_document(json.dumps(item), Run, f"{path}[{i}]")
                    for i, item in enumerate(raw)
                ],
                None,
                None,
            )
        if is_perfmetrics(raw):
            return [run_from_perfmetrics(raw, str(path))], None, None
        if isinstance(raw, dict) and raw.get("kind") == "perfinvest.run":
            return [parse_document(text, Run, path)], None, None
        if isinstance(raw, dict) and raw.get("kind") != "perfinvest.baseline":
            foreign = _tool_export(text, path)
            if foreign is not None:
                return [foreign[0]], None, foreign[1]
            raise usage_error(_unknown(path, raw))
        baseline = parse_document(text, Baseline, path)
    except PerfError as error:
        raise usage_error(error.message) from None
    return list(baseline.runs), baseline.primary_metric.name, None


def _unknown(path: Path, raw: dict[str, Any]) -> str:
    from perfinvest.adapters.formats.registry import FORMATS

    what = f"a {raw['kind']!r} document" if "kind" in raw else "a JSON object with no `kind`"
    return (
        f"{path} is {what}: not a perfinvest run, baseline or PerfMetrics file, nor a tool "
        f"export perfinvest knows ({', '.join(FORMATS)}); give a `perfinvest run --export` "
        "file, a baseline, or `perfinvest metrics export` output"
    )


def _tool_export(text: str, path: Path) -> tuple[Run, str] | None:
    """A known tool's export as one run (no environment fingerprint), and its format."""
    from datetime import UTC, datetime

    from perfinvest.adapters.formats.base import FormatError
    from perfinvest.adapters.formats.registry import detect, parse
    from perfinvest.app.measuring.run_metrics import parsed_metrics

    fmt = detect(text)
    if fmt is None:
        return None
    try:
        parsed = parse(text, fmt)
    except FormatError as error:
        raise usage_error(f"{path} looks like {fmt} output but {error.message}") from None
    metrics = parsed_metrics(parsed)
    if not metrics:
        raise usage_error(f"{path}: {fmt} output with no metrics in it")
    started = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    return Run(run_id=f"{fmt}-{path.name}", started_at=started, metrics=metrics), fmt


def diff_files(
    ctx: AppContext, path_a: Path, path_b: Path, options: CompareOptions
) -> CommandResult:
    runs_a, primary, format_a = read_result(path_a)
    runs_b, _, format_b = read_result(path_b)
    label = f"{path_a.name} vs {path_b.name}"
    try:
        forced = _check_fingerprints(ctx, runs_a, runs_b, label, options.force)
    except PerfError as error:
        tools = [
            f"{p.name} is a {f} export" for p, f in ((path_a, format_a), (path_b, format_b)) if f
        ]
        if not tools:
            raise
        raise refused(
            f"{error.message.split('; comparing')[0]}: {' and '.join(tools)}, with no "
            "environment fingerprint; pass --force when both sides ran on this machine (logged)"
        ) from None
    table = compare_runs(
        runs_a,
        runs_b,
        baseline_label=path_a.name,
        candidate_label=path_b.name,
        metrics=options.metrics,
        primary=primary,
    )
    compliance = _compliance(path_a.name, runs_a) + _compliance(path_b.name, runs_b)
    result = _answer("diff", table, forced, options, primary, compliance)
    result.findings += [
        f"{path.name}: read as a {fmt} export (one run, its samples; no environment "
        "fingerprint, so perfinvest cannot check both sides ran on one machine)"
        for path, fmt in ((path_a, format_a), (path_b, format_b))
        if fmt is not None
    ]
    result.data["formats"] = {path_a.name: format_a, path_b.name: format_b}
    if options.report_dir is not None:
        from perfinvest.core.guardrails.diffreport import report_json, report_markdown
        from perfinvest.store.outputs import write_outputs

        write_outputs(
            ctx.paths,
            options.report_dir,
            [("diff.json", report_json(table)), ("diff.md", report_markdown(table))],
            force=options.overwrite,
            flag="--overwrite",
        )
        result.data["report_dir"] = str(options.report_dir)
    return result
