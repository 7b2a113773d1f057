"""An experiment's every metric, baseline side against candidate, like pyperf ``compare_to``.

One row per metric the sides reported: mean ± stddev across each side's valid runs,
the relative change with its 95 % CI, Welch's and Mann-Whitney's p, the verdict, and how
many times better or worse (pyperf's "1.23x faster"). The primary metric comes first,
regressions and improvements carry a badge; a metric only one side reported is listed
as not compared. The comparison numbers are the experiment's recorded effects (phase 8
computed them); only the spread is read from the runs.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from perfinvest.core.models import Experiment, MetricEffect, Run
from perfinvest.core.quantities import pct
from perfinvest.core.report.blocks import Row, Table
from perfinvest.core.report.inputs import num
from perfinvest.core.stats.baselines import run_values

IMPROVED = "improved"
REGRESSED = "regressed"
COLUMNS = [
    "metric",
    "baseline (mean ± sd)",
    "candidate (mean ± sd)",
    "change",
    "95 % CI",
    "p (Welch)",
    "p (Mann-Whitney)",
    "verdict",
    "factor",
]


def _side(values: Sequence[float] | None, mean: float | None, unit: str) -> str:
    if mean is None:
        return "n/a"
    spread = ""
    if values is not None and len(values) >= 2:
        spread = f" ± {num(statistics.stdev(values), 3)}"
    return f"{num(mean)}{spread}" + (f" {unit}" if unit else "")


def _directions(runs: Sequence[Run]) -> dict[str, str]:
    found: dict[str, str] = {}
    for run in runs:
        for metric in run.metrics:
            if metric.direction is not None:
                found.setdefault(metric.key, metric.direction)
    return found


def factor(effect: MetricEffect, direction: str | None) -> str:
    """How many times better or worse the candidate is (``same`` inside 0.5 %)."""
    base, cand = effect.baseline_mean, effect.candidate_mean
    if direction not in ("lower", "higher") or base <= 0 or cand <= 0:
        return "n/a"
    ratio = base / cand if direction == "lower" else cand / base
    if abs(ratio - 1) < 0.005:
        return "same"
    return f"{ratio:.2f}x better" if ratio > 1 else f"{1 / ratio:.2f}x worse"


def _badges(verdict: str) -> list[str]:
    return [verdict] if verdict in (IMPROVED, REGRESSED) else []


def metrics_table(exp: Experiment, baseline: Sequence[Run], candidate: Sequence[Run]) -> Table:
    """Every metric of experiment ``exp``: the primary first, then in the order compared."""
    values = (run_values(baseline), run_values(candidate))
    directions = _directions([*baseline, *candidate])
    effects = sorted(exp.effects, key=lambda e: e.metric != exp.metric)
    rows = [
        Row(
            [
                e.metric + (" (primary)" if e.metric == exp.metric else ""),
                _side(values[0].get(e.metric), e.baseline_mean, e.unit),
                _side(values[1].get(e.metric), e.candidate_mean, e.unit),
                pct(e.relative_change),
                f"{pct(e.ci_low)} .. {pct(e.ci_high)}",
                num(e.p_welch, 3),
                num(e.p_mannwhitney, 3),
                e.verdict,
                factor(e, directions.get(e.metric)),
            ],
            _badges(e.verdict),
        )
        for e in effects
    ]
    compared = {e.metric for e in exp.effects}
    for side, own, other in (("baseline", 0, 1), ("candidate", 1, 0)):
        for key in sorted(set(values[own]) - set(values[other]) - compared):
            cells = [key, "", "", "", "", "", "", f"not compared: only the {side} side has it", ""]
            cells[1 + own] = _side(values[own][key], statistics.fmean(values[own][key]), "")
            rows.append(Row(cells))
    improved = sum(e.verdict == IMPROVED for e in exp.effects)
    regressed = sum(e.verdict == REGRESSED for e in exp.effects)
    caption = (
        f"experiment {exp.number}: every metric the benchmark reported, {len(exp.effects)} "
        f"compared ({improved} improved, {regressed} regressed); a change counts when p < 0.05 "
        "and its CI lies beyond the noise threshold"
    )
    return Table(f"experiment-metrics-{exp.number}", COLUMNS, rows, caption)
