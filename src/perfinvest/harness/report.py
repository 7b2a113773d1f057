"""A markdown report of harness results against a stored baseline, with Welch's t-test.

The baseline is a PerfMetrics file a previous run wrote (``write_metrics`` or the pytest
plugin's ``--perfinvest-save``); it is read with perfinvest's own ``perf-metrics``
parser, so the file a harness writes and the file perfinvest reads are one format.
Welch's t-test (unequal variances) compares the per-iteration samples of ``mean_ms``; a
change is called only when p < ``alpha`` and it is at least ``min_change`` of the
baseline mean, as SPEC-940 describes. scipy is imported here only, when reporting.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from perfinvest.harness import Result

SAMPLES_METRIC = "mean_ms"


class BaselineError(ValueError):
    """The baseline file is missing or is not a PerfMetrics file of harness results."""


def load_baseline(path: str | Path) -> dict[str, list[float]]:
    """Per benchmark name, the baseline's samples (ms) of ``mean_ms``."""
    from perfinvest.adapters.formats.base import FormatError
    from perfinvest.adapters.formats.perfmetrics import parse

    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise BaselineError(
            f"cannot read the baseline {source}: {exc.strerror or exc}; write one with "
            "--perfinvest-save (pytest) or perfinvest.harness.write_metrics"
        ) from None
    try:
        parsed = parse(text)
    except FormatError as exc:
        raise BaselineError(f"the baseline {source} is not a PerfMetrics file: {exc}") from None
    found = {
        m.scenario: list(m.samples or (m.value,))
        for m in parsed.metrics
        if m.name == SAMPLES_METRIC and m.scenario is not None
    }
    if not found:
        raise BaselineError(
            f"the baseline {source} holds no harness results (no {SAMPLES_METRIC} per scenario)"
        )
    return found


def welch(base: Sequence[float], cand: Sequence[float]) -> tuple[float, float] | None:
    """Welch's t statistic and two-sided p; ``None`` with fewer than 2 samples or no spread."""
    if len(base) < 2 or len(cand) < 2:
        return None
    from scipy import stats

    outcome = stats.ttest_ind(list(cand), list(base), equal_var=False)
    t, p = float(outcome.statistic), float(outcome.pvalue)
    if not (math.isfinite(t) and math.isfinite(p)):
        return None
    return t, p


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def markdown(
    results: Sequence[Result],
    baseline: dict[str, list[float]],
    *,
    alpha: float = 0.05,
    min_change: float = 0.02,
) -> str:
    """One row per result: baseline and current mean, change, t, p, and the verdict."""
    lines = [
        "| benchmark | baseline mean (ms) | current mean (ms) | change | Welch t | p | verdict |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    notes: list[str] = []
    for result in results:
        current = result.stats["mean"]
        base = baseline.get(result.name)
        if base is None:
            lines.append(f"| {result.name} | – | {_fmt(current)} | – | – | – | new (no baseline) |")
            continue
        base_mean = math.fsum(base) / len(base)
        change = (current - base_mean) / base_mean if base_mean else math.nan
        test = welch(base, result.samples_ms)
        if test is None:
            t_text, p_text, verdict = "–", "–", "not testable (fewer than 2 samples)"
        else:
            t, p = test
            t_text, p_text = f"{t:.3g}", f"{p:.3g}"
            if p < alpha and abs(change) >= min_change:
                verdict = "slower" if change > 0 else "faster"
            else:
                verdict = "no significant change"
        lines.append(
            f"| {result.name} | {_fmt(base_mean)} | {_fmt(current)} | {change:+.1%} | "
            f"{t_text} | {p_text} | {verdict} |"
        )
        outliers = int(result.stats["outliers_low"] + result.stats["outliers_high"])
        if outliers or result.gc_collections:
            notes.append(
                f"- {result.name}: {outliers} outliers kept, {result.gc_collections} GC "
                f"collections during {result.gc_iterations} of {result.iterations} iterations"
            )
    body = "\n".join(lines)
    rule = (
        f"\n\nA change counts when Welch's t-test gives p < {alpha:g} and it is at least "
        f"{min_change:.0%} of the baseline mean."
    )
    return body + rule + ("\n\n" + "\n".join(notes) if notes else "") + "\n"
