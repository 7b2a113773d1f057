"""The confidence interval of a relative change of means across runs (Welch, log ratio).

Pure. ``compare`` (``core/stats/verdicts.py``) uses it when both sides have at least two runs. A
percentile bootstrap of 2-5 runs can only reshuffle the runs it has: its nominal 95 %
interval of the relative change covered the true change 71 % of the time with 2 runs per
side, 79 % with 3 and 89 % with 5 (3 % noise, ``benchmarks/calibration.py``). This interval
carries the small-sample uncertainty the way Welch's test does:

* the change is ``c/b - 1`` of the means; on the log scale ``log c - log b`` has, by the
  delta method, variance ``s_c^2 / (n_c c^2) + s_b^2 / (n_b b^2)``;
* its critical value is Student's t at the Welch-Satterthwaite degrees of freedom of those
  two terms, so with 2 runs a side the interval is honestly wide;
* the ends are mapped back: ``exp(log(c/b) +- t * se) - 1``.

Means that are not both positive (a metric that can be negative) use the same rule on the
linear scale, ``(c - b) / |b|`` with the delta-method standard error.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def _mean_var(values: Sequence[float]) -> tuple[float, float]:
    n = len(values)
    mean = math.fsum(values) / n
    var = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, var


def _t_quantile(p: float, df: float) -> float:
    from scipy import stats as sps

    return float(sps.t.ppf(p, df))


def welch_relative_ci(
    base: Sequence[float], cand: Sequence[float], alpha: float = 0.05
) -> tuple[float, float] | None:
    """Level ``1 - alpha`` interval of ``mean(cand) / mean(base) - 1``; needs 2 values a side.

    None when the baseline mean is zero (the relative change is undefined).
    """
    if len(base) < 2 or len(cand) < 2:
        raise ValueError("welch_relative_ci needs at least two values on each side")
    b, vb = _mean_var(base)
    c, vc = _mean_var(cand)
    if b == 0:
        return None
    # relative spreads (sd / mean) first: b * b underflows to zero next to zero (1e-300)
    rb, rc = math.sqrt(vb) / abs(b), math.sqrt(vc) / abs(b)
    if b > 0 and c > 0:
        center = math.log(c / b)
        rc = math.sqrt(vc) / c
        tb, tc = rb * rb / len(base), rc * rc / len(cand)
    else:
        center = (c - b) / abs(b)
        ratio = c / b
        tb, tc = (rb * ratio) * (rb * ratio) / len(base), rc * rc / len(cand)
    if not (math.isfinite(center) and math.isfinite(tb) and math.isfinite(tc)):
        return None  # no relative change can be expressed (said by the caller)
    se2 = tb + tc
    if se2 == 0:
        half = 0.0
    else:
        denom = tb * tb / (len(base) - 1) + tc * tc / (len(cand) - 1)
        df = se2 * se2 / denom if denom > 0 else float(len(base) + len(cand) - 2)
        half = _t_quantile(1 - alpha / 2, df) * math.sqrt(se2)
    lo, hi = center - half, center + half
    if b > 0 and c > 0:
        try:
            return math.expm1(lo), math.expm1(hi)
        except OverflowError:
            return None  # a ratio past e**709: no percentage (said by the caller)
    return lo, hi


#: With fewer than two runs a side the run-to-run noise cannot be measured; the samples'
#: interval then assumes this much of it: rule 5's default CV threshold, the most a set of
#: runs may show before the runner flags it and re-runs.
ASSUMED_RUN_CV = 0.05


def with_run_noise(
    ci: tuple[float, float], relative: float, alpha: float = 0.05
) -> tuple[float, float]:
    """The samples' bootstrap interval widened by an unmeasured run-to-run noise.

    Samples inside one run share its machine state: their bootstrap describes that run, not
    the next one. Each side's mean also carries a run-level error of ``ASSUMED_RUN_CV``;
    their difference ``sqrt(2) x ASSUMED_RUN_CV x (1 + relative)`` (at the normal quantile
    of the level) is added in quadrature to each half of the interval.
    """
    from statistics import NormalDist

    z = NormalDist().inv_cdf(1 - alpha / 2)
    extra = z * math.sqrt(2) * ASSUMED_RUN_CV * abs(1 + relative)
    lo, hi = ci
    below = math.hypot(relative - lo, extra)
    above = math.hypot(hi - relative, extra)
    return relative - below, relative + above
