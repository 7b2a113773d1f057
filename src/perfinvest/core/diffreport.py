"""The regression diff report (pure): ``diff.json`` and ``diff.md``, byte-identical for the
same input (sorted keys, fixed ordering, seeded bootstrap), regressions first."""

from __future__ import annotations

import json
from typing import Any

from perfinvest.core.comparing import ComparisonTable, MetricComparison, render_markdown

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
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def report_markdown(table: ComparisonTable) -> str:
    regressed = table.regressed()
    head = (
        f"# Performance diff: {len(regressed)} regression(s)"
        + (f" ({', '.join(sorted(regressed))})" if regressed else "")
        + "\n\n"
    )
    return head + render_markdown(ordered(table))
