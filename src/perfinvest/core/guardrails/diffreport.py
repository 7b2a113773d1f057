"""The regression diff report (pure): ``diff.json`` and ``diff.md``, byte-identical for the
same input (sorted keys, fixed ordering, seeded bootstrap), regressions first; of a pair
of results, or of one result against the threshold of its history's window."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from perfinvest.core import strict_json
from perfinvest.core.guardrails.history_gate import Judgement, TrendRow, shown, trend_markdown
from perfinvest.core.stats.comparing import ComparisonTable, MetricComparison, render_markdown

_RANK = {"regressed": 0, "inconclusive": 1, "improved": 2}


def _order(row: MetricComparison) -> tuple[int, str]:
    return (_RANK.get(row.comparison.verdict, 3), row.key)


def ordered(table: ComparisonTable) -> ComparisonTable:
    """The same table with regressions first, then inconclusive, improved, unchanged."""
    return ComparisonTable(
        table.baseline_label,
        table.candidate_label,
        tuple(sorted(table.rows, key=_order)),
        table.only_in_baseline,
        table.only_in_candidate,
    )


def report_json(table: ComparisonTable) -> str:
    rows: list[dict[str, Any]] = []
    for r in ordered(table).rows:
        c = r.comparison
        rows.append(
            {
                "metric": r.key,
                "unit": r.unit,
                "baseline": c.baseline_mean,
                "current": c.candidate_mean,
                "change": c.relative_change,
                "ci": [c.ci_low, c.ci_high],
                "p_welch": c.p_welch,
                "p_mannwhitney": c.p_mannwhitney,
                "threshold": c.threshold,
                "verdict": c.verdict,
                "reason": c.reason,
            }
        )
    doc = {
        "kind": "perfinvest.diff",
        "baseline": table.baseline_label,
        "current": table.candidate_label,
        "regressions": [r["metric"] for r in rows if r["verdict"] == "regressed"],
        "metrics": rows,
        "only_in_baseline": list(table.only_in_baseline),
        "only_in_current": list(table.only_in_candidate),
    }
    return strict_json.dumps(doc, indent=2, sort_keys=True) + "\n"


def report_markdown(table: ComparisonTable) -> str:
    regressed = table.regressed()
    head = (
        f"# Performance diff: {len(regressed)} regression(s)"
        + (f" ({', '.join(sorted(regressed))})" if regressed else "")
        + "\n\n"
    )
    return head + render_markdown(ordered(table))


# --- a result against the history's window (``diff --history N B``) ------------------------


@dataclass(frozen=True)
class HistoryDiffRow:
    """One metric of B judged against the threshold of its last N results."""

    metric: str
    unit: str
    judgement: Judgement
    trend: tuple[TrendRow, ...]  # the window, then B

    @property
    def verdict(self) -> str:
        """The diff's words: a breach regressed; past the good limit improved."""
        j, limits = self.judgement, self.judgement.threshold
        if limits is None:
            return "inconclusive"
        if j.breach:
            return "regressed"
        better = (j.direction == "lower" and j.current < limits.lower) or (
            j.direction == "higher" and j.current > limits.upper
        )
        return "improved" if better else "unchanged"


def _history_order(row: HistoryDiffRow) -> tuple[int, str]:
    return (_RANK.get(row.verdict, 3), row.metric)


def history_report_json(
    window_label: str, current_label: str, rows: list[HistoryDiffRow], only_in_current: list[str]
) -> str:
    out: list[dict[str, Any]] = []
    for r in sorted(rows, key=_history_order):
        j, limits = r.judgement, r.judgement.threshold
        center = limits.center if limits else None
        out.append(
            {
                "metric": r.metric,
                "unit": r.unit,
                "current": j.current,
                "window": [row.point.mean for row in r.trend[:-1]],
                "change": (j.current - center) / abs(center) if center else None,
                "threshold": limits.to_json() if limits else None,
                "model": j.model,
                "points": j.points,
                "verdict": r.verdict,
                "reason": j.message,
            }
        )
    doc = {
        "kind": "perfinvest.diff",
        "baseline": window_label,
        "current": current_label,
        "regressions": [r["metric"] for r in out if r["verdict"] == "regressed"],
        "metrics": out,
        "only_in_baseline": [],
        "only_in_current": sorted(only_in_current),
    }
    return strict_json.dumps(doc, indent=2, sort_keys=True) + "\n"


def history_report_markdown(
    window_label: str, current_label: str, rows: list[HistoryDiffRow], only_in_current: list[str]
) -> str:
    ordered_rows = sorted(rows, key=_history_order)
    regressed = [r.metric for r in ordered_rows if r.verdict == "regressed"]
    lines = [
        f"# Performance diff vs the history: {len(regressed)} regression(s)"
        + (f" ({', '.join(regressed)})" if regressed else ""),
        "",
        f"{current_label} against {window_label}.",
        "",
        "| metric | current | window | threshold | change vs center | verdict |",
        "|---|---:|---:|---|---:|---|",
    ]
    for r in ordered_rows:
        j, limits = r.judgement, r.judgement.threshold
        unit = f" {r.unit}" if r.unit else ""
        span = f"[{shown(limits.lower)}, {shown(limits.upper)}]{unit}" if limits else "n/a"
        change = (
            f"{(j.current - limits.center) / abs(limits.center):+.1%}"
            if limits and limits.center
            else "n/a"
        )
        lines.append(
            f"| {r.metric} | {shown(j.current)}{unit} | {j.points} | {span} | {change} | "
            f"{r.verdict} |"
        )
    if only_in_current:
        lines += ["", f"Not in the history: {', '.join(sorted(only_in_current))}."]
    for r in ordered_rows:
        lines += ["", f"## {r.metric}", "", trend_markdown(r.metric, list(r.trend)).rstrip("\n")]
    return "\n".join(lines) + "\n"
