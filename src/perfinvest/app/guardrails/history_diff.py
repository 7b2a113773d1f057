"""``perfinvest diff --history N B``: B against the last N results of the baselines history.

Instead of one A, every metric of B is judged (core/history.judge) against the threshold
its window gives, so the gate follows the machine's noise; the report has the same shape
and byte-stability as a pair's (core/guardrails/diffreport.py), with the trend of each metric.
"""

from __future__ import annotations

from pathlib import Path

from perfinvest.app.context import AppContext
from perfinvest.app.guardrails.history import (
    current_point,
    gate_options,
    same_unit,
    window_trend,
    windows_of,
)
from perfinvest.app.measuring.compare import CompareOptions, load_runs
from perfinvest.app.result import CommandResult, regression_failure
from perfinvest.core.errors import usage_error
from perfinvest.core.guardrails.diffreport import (
    HistoryDiffRow,
    history_report_json,
    history_report_markdown,
)
from perfinvest.core.guardrails.history_gate import judge


def diff_history(
    ctx: AppContext, path: Path, window: int, options: CompareOptions, model: str = "t"
) -> CommandResult:
    """Each metric of ``path`` (or ``options.metrics``) against the last ``window`` results
    (``model``: t or iqr); exit 8 with ``fail_on_regression`` when the primary (or a named)
    metric regressed."""
    history = gate_options(window, model)
    runs, primary = load_runs(path)
    valid = [r for r in runs if r.valid]
    if not valid:
        raise usage_error(f"{path}: no valid run to compare")
    units = {m.key: m.unit for r in valid for m in r.metrics}
    keys = list(options.metrics) or sorted(units)
    unknown = [k for k in keys if k not in units]
    if unknown:
        raise usage_error(
            f"{path} does not report {', '.join(unknown)} (it reports {', '.join(sorted(units))})"
        )
    host = valid[0].environment.host or None
    windows, missing = windows_of(ctx, keys, history, exclude=path, current_host=host)
    rows: list[HistoryDiffRow] = []
    notes: list[str] = []
    for key, found in sorted(windows.items()):
        same_unit(found, units[key], str(path))
        point = current_point(path.name, runs, key)
        verdict = judge(
            [p.mean for p in found.points],
            point.mean,
            metric=key,
            direction=found.direction,
            model=history.model,
            k=history.k,
            noise_floor=history.noise_floor,
        )
        trend_rows, _ = window_trend(found, point, history)
        rows.append(HistoryDiffRow(key, units[key], verdict, tuple(trend_rows)))
        notes += [n for n in found.notes if n not in notes]
    label = f"the history (last {window} results)"
    markdown = history_report_markdown(label, path.name, rows, missing)
    result = CommandResult(command="diff")
    result.findings = [
        f"{r.metric}: {r.verdict} ({r.judgement.message})"
        for r in sorted(rows, key=lambda r: r.metric)
    ]
    result.findings += [f"{m}: not in the history" for m in missing] + notes
    result.data = {
        "history": window,
        "rows": [{"metric": r.metric, "verdict": r.verdict, **r.judgement.to_json()} for r in rows],
        "only_in_current": missing,
        "markdown": markdown,
    }
    if options.report_dir is not None:
        _write_report(
            ctx,
            options,
            history_report_json(label, path.name, rows, missing),
            markdown,
        )
        result.data["report_dir"] = str(options.report_dir)
    watched = list(options.metrics) or ([primary] if primary else [r.metric for r in rows])
    regressed = [r.metric for r in rows if r.verdict == "regressed" and r.metric in watched]
    if regressed and options.fail_on_regression:
        regression_failure(result, f"regression against the history in {', '.join(regressed)}")
    return result


def _write_report(
    ctx: AppContext, options: CompareOptions, report_json: str, markdown: str
) -> None:
    from perfinvest.store.outputs import write_outputs

    assert options.report_dir is not None
    write_outputs(
        ctx.paths,
        options.report_dir,
        [("diff.json", report_json), ("diff.md", markdown)],
        force=options.overwrite,
        flag="--overwrite",
    )
