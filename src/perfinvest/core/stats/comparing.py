"""Comparing two sets of runs metric by metric, and rendering the table (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from perfinvest.core.errors import usage_error
from perfinvest.core.models import Direction, MetricEffect, Run
from perfinvest.core.quantities import pct
from perfinvest.core.stats.baselines import metric_key, run_samples, run_values
from perfinvest.core.stats.verdicts import Comparison


@dataclass(frozen=True)
class MetricComparison:
    """One row: the statistics, plus what the table needs to say about the metric."""

    key: str
    unit: str
    direction_known: bool
    comparison: Comparison


@dataclass(frozen=True)
class ComparisonTable:
    baseline_label: str
    candidate_label: str
    rows: tuple[MetricComparison, ...]
    only_in_baseline: tuple[str, ...]
    only_in_candidate: tuple[str, ...]

    def regressed(self, keys: Sequence[str] | None = None) -> list[str]:
        return [
            row.key
            for row in self.rows
            if row.comparison.verdict == "regressed" and (keys is None or row.key in keys)
        ]


def _metric_info(runs: Sequence[Run]) -> dict[str, tuple[str, Direction | None]]:
    return {metric_key(m): (m.unit, m.direction) for r in runs if r.valid for m in r.metrics}


def compare_runs(
    baseline: Sequence[Run],
    candidate: Sequence[Run],
    *,
    baseline_label: str,
    candidate_label: str,
    metrics: Sequence[str] | None = None,
    primary: str | None = None,
    seed: int = 0,
) -> ComparisonTable:
    """Compare every metric both sides report (or ``metrics``), primary first then by name."""
    from perfinvest.core.stats.verdicts import compare

    base_info, cand_info = _metric_info(baseline), _metric_info(candidate)
    wanted = list(metrics) if metrics else sorted(set(base_info) | set(cand_info))
    unknown = [m for m in wanted if m not in base_info and m not in cand_info]
    if unknown:
        raise usage_error(
            f"no run reports metric(s) {', '.join(unknown)}; known: {', '.join(sorted(base_info))}"
        )
    for key in wanted:
        if key in base_info and key in cand_info and base_info[key][0] != cand_info[key][0]:
            raise usage_error(
                f"metric {key} is in {base_info[key][0] or 'no unit'} in {baseline_label} but "
                f"{cand_info[key][0] or 'no unit'} in {candidate_label}: not comparable"
            )
    ordered = sorted(wanted, key=lambda k: (k != primary, k))
    base_values, cand_values = run_values(baseline), run_values(candidate)
    base_samples, cand_samples = run_samples(baseline), run_samples(candidate)
    rows = []
    for key in ordered:
        if key not in base_values or key not in cand_values:
            continue
        unit, direction = base_info[key]
        known = (direction or cand_info[key][1]) is not None
        result = compare(
            key,
            direction or cand_info[key][1] or "lower",
            base_values[key],
            cand_values[key],
            base_samples.get(key),
            cand_samples.get(key),
            seed=seed,
        )
        if not known and result.verdict in ("improved", "regressed"):
            result = result.model_copy(
                update={
                    "verdict": "inconclusive",
                    "reason": "changed significantly, but which direction is better is unknown",
                }
            )
        rows.append(MetricComparison(key, unit, known, result))
    return ComparisonTable(
        baseline_label,
        candidate_label,
        tuple(rows),
        tuple(sorted(k for k in wanted if k in base_values and k not in cand_values)),
        tuple(sorted(k for k in wanted if k in cand_values and k not in base_values)),
    )


def metric_effects(table: ComparisonTable) -> list[MetricEffect]:
    """Every compared metric as the state records it on an experiment (``effects``)."""
    return [
        MetricEffect(
            metric=row.key,
            unit=row.unit,
            baseline_mean=row.comparison.baseline_mean,
            candidate_mean=row.comparison.candidate_mean,
            relative_change=row.comparison.relative_change,
            ci_low=row.comparison.ci_low,
            ci_high=row.comparison.ci_high,
            p_welch=row.comparison.p_welch,
            p_mannwhitney=row.comparison.p_mannwhitney,
            verdict=row.comparison.verdict,
        )
        for row in table.rows
    ]


def _num(value: float | None, fmt: str = ".4g") -> str:
    return "n/a" if value is None else format(value, fmt)


def render_markdown(table: ComparisonTable) -> str:
    """The comparison as a markdown table, deterministic for the same input."""
    lines = [
        f"### {table.baseline_label} → {table.candidate_label}",
        "",
        "| metric | unit | baseline | candidate | change | 95 % CI "
        "| p (Welch) | p (MWU) | verdict |",
        "|---|---|---:|---:|---:|---|---:|---:|---|",
    ]
    for row in table.rows:
        c = row.comparison
        lines.append(
            f"| {row.key} | {row.unit} | {_num(c.baseline_mean)} | {_num(c.candidate_mean)} | "
            f"{pct(c.relative_change, 2)} | [{pct(c.ci_low, 2)}, {pct(c.ci_high, 2)}] | "
            f"{_num(c.p_welch, '.3g')} | {_num(c.p_mannwhitney, '.3g')} | **{c.verdict}** |"
        )
    if table.only_in_baseline:
        lines.append(f"\nOnly in {table.baseline_label}: {', '.join(table.only_in_baseline)}")
    if table.only_in_candidate:
        lines.append(f"\nOnly in {table.candidate_label}: {', '.join(table.only_in_candidate)}")
    return "\n".join(lines) + "\n"


def table_json(table: ComparisonTable) -> dict[str, object]:
    return {
        "baseline": table.baseline_label,
        "candidate": table.candidate_label,
        "metrics": [
            {"key": r.key, "unit": r.unit, **r.comparison.model_dump()} for r in table.rows
        ],
        "only_in_baseline": list(table.only_in_baseline),
        "only_in_candidate": list(table.only_in_candidate),
    }
