"""Pure-Python summaries of samples, so importing the harness pays no numpy or pydantic.

Percentiles use numpy's default (linear) interpolation, as ``core/summaries`` does, so a
harness result and perfinvest's own summary of the same samples agree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

TUKEY_K = 1.5


def percentile(sorted_values: Sequence[float], q: float) -> float:
    position = q / 100 * (len(sorted_values) - 1)
    below = math.floor(position)
    above = min(below + 1, len(sorted_values) - 1)
    t = position - below
    a, b = sorted_values[below], sorted_values[above]
    diff = b - a
    return b - diff * (1 - t) if t >= 0.5 else a + diff * t


def summarize(samples: Sequence[float]) -> dict[str, float]:
    """mean, stddev (ddof=1), cv, min, max, median, p50/p95/p99 and Tukey outlier counts."""
    n = len(samples)
    ordered = sorted(samples)
    mean = math.fsum(ordered) / n
    stddev = math.sqrt(math.fsum((x - mean) ** 2 for x in ordered) / (n - 1)) if n > 1 else 0.0
    q1, q3 = percentile(ordered, 25), percentile(ordered, 75)
    iqr = q3 - q1
    low, high = q1 - TUKEY_K * iqr, q3 + TUKEY_K * iqr
    return {
        "n": float(n),
        "mean": mean,
        "stddev": stddev,
        "cv": stddev / abs(mean) if mean else math.nan,
        "min": ordered[0],
        "max": ordered[-1],
        "median": percentile(ordered, 50),
        "p50": percentile(ordered, 50),
        "p95": percentile(ordered, 95),
        "p99": percentile(ordered, 99),
        "outliers_low": float(sum(1 for x in ordered if x < low)),
        "outliers_high": float(sum(1 for x in ordered if x > high)),
    }
