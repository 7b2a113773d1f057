"""Comparisons and verdicts (docs/architecture.md, "Statistics and verdicts"); summaries too.

The summaries of one set of values live in :mod:`perfinvest.core.stats.summaries` and are
re-exported here, so ``perfinvest.core.stats.verdicts`` stays the one statistics import.

Pure: no I/O, no clock, and randomness only through an injected seed or numpy
``Generator``. numpy and scipy are imported inside the functions that need them so
that importing this module (and therefore the CLI's cold start) stays cheap.

The verdict rule: a change counts only when ``p < alpha`` *and* the whole bootstrap
CI of the relative change lies beyond the practical threshold
``max(measured noise, min_threshold)``. A CI wholly inside ``(-threshold, +threshold)``
is an equivalence result (``unchanged``); everything else is ``inconclusive``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from perfinvest.core.errors import benchmark_failed, usage_error
from perfinvest.core.quantities import pct as _pct
from perfinvest.core.stats.intervals import welch_relative_ci, with_run_noise
from perfinvest.core.stats.summaries import (
    MAD_SCALE,
    MAD_Z_LIMIT,
    TUKEY_K,
    Summary,
    coefficient_of_variation,
    cv_exceeds,
    error_rate,
    finite_values,
    from_scale,
    percentile,
    sample_cv,
    scale_exponent,
    summarize,
    throughput,
    to_scale,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

__all__ = [
    "MAD_SCALE",
    "MAD_Z_LIMIT",
    "TUKEY_K",
    "Basis",
    "Comparison",
    "Direction",
    "Summary",
    "Verdict",
    "coefficient_of_variation",
    "compare",
    "cv_exceeds",
    "error_rate",
    "percentile",
    "summarize",
    "throughput",
]

Verdict = Literal["improved", "regressed", "unchanged", "inconclusive"]
Direction = Literal["lower", "higher"]
# Which values the test and the bootstrap were computed on ("none": too few of either).
Basis = Literal["runs", "samples", "none"]

# A bootstrap of n values holds n * chunk indices in memory at once; this bounds it
# (about 32 MB of int64) without a Python loop over individual resamples.
_BOOT_CHUNK_ELEMENTS = 4_000_000
# Above this many values the bootstrap distribution of the mean is drawn from its normal
# limit (same mean and variance as the resampling): see _boot_means.
_EXACT_BOOT_MAX_N = 10_000
_MIN_N_BOOT = 100


class Comparison(BaseModel):
    """A baseline/candidate comparison of one metric and the verdict it supports.

    ``relative_change``, ``ci_low`` and ``ci_high`` are fractions (0.05 is +5 %) of the
    baseline mean; they are None when the baseline mean is zero (or the bootstrap
    baseline straddles zero) because a relative change is then undefined.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: str
    direction: Direction
    baseline_mean: float
    candidate_mean: float
    relative_change: float | None
    ci_low: float | None
    ci_high: float | None
    p_welch: float | None
    p_mannwhitney: float | None
    threshold: float
    noise: float
    verdict: Verdict
    reason: str
    basis: Basis = "runs"
    alpha: float = 0.05


# --------------------------------------------------------------------------- comparisons


def _rng(seed: int | np.random.Generator) -> np.random.Generator:
    import numpy as np

    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _boot_means(x: FloatArray, n_boot: int, rng: np.random.Generator) -> FloatArray:
    """Means of ``n_boot`` resamples of ``x`` with replacement, vectorised in bounded chunks."""
    import numpy as np

    n = int(x.size)
    if n > _EXACT_BOOT_MAX_N:
        # The resampled mean of n values has mean x̄ and variance σ²/n (σ² with ddof=0)
        # exactly; for n this large it is normal to far below the 2 % practical band
        # (Berry-Esseen), so drawing it directly gives the same CI without
        # n_boot * n index draws (75,000 pytest-benchmark rounds: 8 s -> milliseconds).
        return rng.normal(float(x.mean()), float(x.std()) / math.sqrt(n), size=n_boot)
    chunk = max(1, _BOOT_CHUNK_ELEMENTS // n)
    out = np.empty(n_boot, dtype=np.float64)
    for start in range(0, n_boot, chunk):
        stop = min(n_boot, start + chunk)
        idx = rng.integers(0, n, size=(stop - start, n))
        out[start:stop] = x[idx].mean(axis=1)
    return out


#: A relative change beyond this (a trillion-fold: only a baseline next to zero gives
#: one) is not stated as a percentage.
MAX_RELATIVE_CHANGE = 1e12


def _no_percentage(baseline_mean: float, candidate_mean: float) -> str:
    """Why there is no relative change: said in numbers, never as ``nan%``."""
    if baseline_mean == 0:
        return "The baseline mean is zero or straddles zero, so a relative change is undefined."
    return (
        f"The baseline mean ({baseline_mean:.4g}) is zero, straddles zero or is too close "
        f"to zero for the change to {candidate_mean:.4g} to be expressed as a percentage; "
        "compare the absolute values."
    )


def _relative(baseline_mean: float, candidate_mean: float) -> float | None:
    """(candidate - baseline) / |baseline|: candidate/baseline - 1 for positive baselines.

    Dividing by |baseline| keeps the sign meaning "candidate is larger" should a metric
    ever be negative.
    """
    if baseline_mean == 0:
        return 0.0 if candidate_mean == 0 else None
    rel = (candidate_mean - baseline_mean) / abs(baseline_mean)
    # a baseline next to zero: the ratio is astronomically large (or overflows to inf),
    # a number no percentage can honestly state
    return rel if math.isfinite(rel) and abs(rel) <= MAX_RELATIVE_CHANGE else None


def _bootstrap_ci(
    base: FloatArray, cand: FloatArray, n_boot: int, alpha: float, rng: np.random.Generator
) -> tuple[float, float] | None:
    """Percentile bootstrap CI (level 1 - alpha) of the relative change of means.

    Each side is resampled independently: the two sides are independent measurements.
    None when the resampled baseline mean reaches zero or changes sign, where the ratio
    is unbounded and no finite interval is honest.
    """
    import numpy as np

    bm = _boot_means(base, n_boot, rng)
    cm = _boot_means(cand, n_boot, rng)
    b0 = float(base.mean())
    if b0 == 0:
        if not (np.all(base == 0) and np.all(cand == 0)):
            return None
        return (0.0, 0.0)
    if np.any(np.sign(bm) != np.sign(b0)):
        return None
    with np.errstate(all="ignore"):  # overflow next to zero: refused below, never warned
        rel = (cm - bm) / np.abs(bm)
        if not np.all(np.isfinite(rel)):
            return None
        lo, hi = np.quantile(rel, [alpha / 2, 1 - alpha / 2])
    if max(abs(float(lo)), abs(float(hi))) > MAX_RELATIVE_CHANGE:
        return None
    return float(lo), float(hi)


def _welch(base: Sequence[float], cand: Sequence[float]) -> float | None:
    """Two-sided Welch t-test p; None with fewer than two values on a side.

    Zero variance on both sides leaves t undefined; the values are then exact, so the
    difference is certain (p = 0) or absent (p = 1). Zero variance on one side only is
    fine for Welch: the other side carries the standard error.
    """
    if len(base) < 2 or len(cand) < 2:
        return None
    if min(base) == max(base) and min(cand) == max(cand):
        return 1.0 if base[0] == cand[0] else 0.0
    from scipy import stats as sps

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # near-identical data: precision note
        p = float(sps.ttest_ind(base, cand, equal_var=False).pvalue)
    return p if math.isfinite(p) else None


def _mannwhitney(base: Sequence[float], cand: Sequence[float]) -> float | None:
    """Two-sided Mann-Whitney U p; None with fewer than two samples on a side."""
    if len(base) < 2 or len(cand) < 2:
        return None
    if min(base) == max(base) == min(cand) == max(cand):
        return 1.0  # all values tied: no evidence of any shift
    from scipy import stats as sps

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        p = float(sps.mannwhitneyu(base, cand, alternative="two-sided").pvalue)
    return p if math.isfinite(p) else None


def compare(
    metric: str,
    direction: Direction,
    baseline_runs: Sequence[float],
    candidate_runs: Sequence[float],
    baseline_samples: Sequence[float] | None = None,
    candidate_samples: Sequence[float] | None = None,
    *,
    min_threshold: float = 0.02,
    seed: int | np.random.Generator = 0,
    n_boot: int = 5000,
    alpha: float = 0.05,
) -> Comparison:
    """Compare candidate to baseline and give a verdict (see the module docstring).

    Unit of analysis. Runs are the independent replicates: samples inside one run share
    its machine state (frequency, caches, neighbours) and are autocorrelated, so testing
    thousands of samples as if independent (pseudo-replication) makes any run-to-run
    drift look "significant". Hence, when both sides have >= 2 runs, the decision p is
    Welch's t-test on run-level values (unequal variances, honest for very few runs)
    and the bootstrap resamples runs. Only when a side has fewer than two runs do we
    fall back to the samples: Mann-Whitney U for p (no normality needed for raw
    latencies) and a bootstrap of samples. That fallback overstates confidence, which
    is why its noise is the within-run sample CV (usually far above the run-to-run CV):
    single-run comparisons are deliberately conservative. ``p_mannwhitney`` is reported
    whenever samples allow it, but only decides in the fallback.

    Noise and threshold. ``noise`` is the larger CV of the two sides on that basis;
    ``threshold = max(noise, min_threshold)``, so a change smaller than the spread
    already seen between runs never counts.

    The interval. On runs it is Welch's interval of the log ratio of the means
    (``core/stats/intervals.py``): a percentile bootstrap of 2-5 runs can only reshuffle
    the runs it has and covered 71-89 % where it claimed 95 %. On samples (the fallback)
    it is the percentile bootstrap of the samples widened by an assumed run-to-run noise
    (``ASSUMED_RUN_CV``, 5 %): one run a side cannot measure it, and without it the
    interval covered 69 % (3 % run noise, 40 samples of 10 % CV a run).

    Why both conditions. Requiring ``p < alpha`` keeps the A/A false-positive rate at or
    below ``alpha``; requiring the CI beyond the threshold keeps significant-but-negligible
    changes from being called improvements. ``unchanged``
    is an equivalence claim and needs only the CI inside the band, since a significant
    shift smaller than the threshold is, by definition, not a practical change.

    The CI level is ``1 - alpha`` (95 % by default) so the two conditions agree.
    """
    _check_options(metric, direction, alpha, min_threshold, n_boot)
    b_runs = finite_values(baseline_runs, f"{metric} baseline runs")
    c_runs = finite_values(candidate_runs, f"{metric} candidate runs")
    b_samp = finite_values(baseline_samples or [], f"{metric} baseline samples")
    c_samp = finite_values(candidate_samples or [], f"{metric} candidate samples")
    for side, runs, samp in (("baseline", b_runs, b_samp), ("candidate", c_runs, c_samp)):
        if not runs and not samp:
            raise benchmark_failed(f"compare {metric}: the {side} has no runs and no samples")

    basis: Basis
    if len(b_runs) >= 2 and len(c_runs) >= 2:
        basis, b_vals, c_vals = "runs", b_runs, c_runs
    elif len(b_samp) >= 2 and len(c_samp) >= 2:
        basis, b_vals, c_vals = "samples", b_samp, c_samp
    else:
        basis = "none"
        b_vals = b_runs or b_samp
        c_vals = c_runs or c_samp

    # Huge readings (1e308) are tested scaled by one power of two: relative changes,
    # CVs and p-values do not depend on the scale, and their sums then cannot overflow.
    exponent = scale_exponent([*b_runs, *c_runs, *b_samp, *c_samp])
    b_vals, c_vals = to_scale(b_vals, exponent), to_scale(c_vals, exponent)
    b_mean = math.fsum(b_vals) / len(b_vals)
    c_mean = math.fsum(c_vals) / len(c_vals)
    rel = _relative(b_mean, c_mean)
    p_welch = _welch(to_scale(b_runs, exponent), to_scale(c_runs, exponent))
    p_mw = _mannwhitney(b_samp, c_samp)
    p = p_welch if basis == "runs" else p_mw if basis == "samples" else None

    cvs = [cv for cv in (sample_cv(b_vals), sample_cv(c_vals)) if cv is not None]
    noise = max(cvs) if cvs else 0.0
    threshold = max(noise, min_threshold)
    ci = _interval(basis, b_vals, c_vals, n_boot, alpha, seed)
    if ci is not None and not all(
        math.isfinite(bound) and abs(bound) <= MAX_RELATIVE_CHANGE for bound in ci
    ):
        ci = None  # next to zero: no percentage, said below (strict JSON, never NaN)
    counts = (len(b_runs), len(c_runs), len(b_samp), len(c_samp))
    verdict, reason = _decide(basis, rel, ci, p, threshold, direction, alpha, counts)
    if basis != "none" and (rel is None or ci is None):
        reason = _no_percentage(from_scale(b_mean, exponent), from_scale(c_mean, exponent))
    return Comparison(
        metric=metric,
        direction=direction,
        baseline_mean=from_scale(b_mean, exponent),
        candidate_mean=from_scale(c_mean, exponent),
        relative_change=rel,
        ci_low=None if ci is None else ci[0],
        ci_high=None if ci is None else ci[1],
        p_welch=p_welch,
        p_mannwhitney=p_mw,
        threshold=threshold,
        noise=noise,
        verdict=verdict,
        reason=reason,
        basis=basis,
        alpha=alpha,
    )


def _check_options(
    metric: str, direction: str, alpha: float, min_threshold: float, n_boot: int
) -> None:
    if direction not in ("lower", "higher"):
        raise usage_error(
            f"compare {metric}: direction must be 'lower' or 'higher', not {direction!r}"
        )
    if not 0 < alpha < 1:
        raise usage_error(f"compare {metric}: alpha must be in (0, 1), got {alpha}")
    if not (math.isfinite(min_threshold) and min_threshold >= 0):
        raise usage_error(f"compare {metric}: min_threshold must be >= 0, got {min_threshold}")
    if n_boot < _MIN_N_BOOT:
        raise usage_error(f"compare {metric}: n_boot must be >= {_MIN_N_BOOT}, got {n_boot}")


def _interval(
    basis: Basis,
    b_vals: Sequence[float],
    c_vals: Sequence[float],
    n_boot: int,
    alpha: float,
    seed: int | np.random.Generator,
) -> tuple[float, float] | None:
    """The CI of the relative change: Welch's on runs, the samples' bootstrap otherwise."""
    if basis == "none":
        return None
    if basis == "runs":
        if not any(b_vals) and not any(c_vals):
            return (0.0, 0.0)
        return welch_relative_ci(b_vals, c_vals, alpha)
    import numpy as np

    ci = _bootstrap_ci(
        np.asarray(b_vals, dtype=np.float64),
        np.asarray(c_vals, dtype=np.float64),
        n_boot,
        alpha,
        _rng(seed),
    )
    rel = _relative(math.fsum(b_vals) / len(b_vals), math.fsum(c_vals) / len(c_vals))
    if ci is None or rel is None:
        return ci
    return with_run_noise(ci, rel, alpha)


def _decide(
    basis: Basis,
    rel: float | None,
    ci: tuple[float, float] | None,
    p: float | None,
    threshold: float,
    direction: Direction,
    alpha: float,
    counts: tuple[int, int, int, int],
) -> tuple[Verdict, str]:
    """The verdict rule of the module docstring, and its reason in words."""
    p_name = "Welch p" if basis == "runs" else "Mann-Whitney p"
    level = f"{(1 - alpha) * 100:g}% CI"
    verdict: Verdict
    if basis == "none":
        b_runs, c_runs, b_samp, c_samp = counts
        return "inconclusive", (
            "Too few values to test: each side needs at least 2 runs or 2 samples, "
            f"got {b_runs}/{c_runs} runs and {b_samp}/{c_samp} samples."
        )
    if rel is None or ci is None:
        return "inconclusive", (
            "The baseline mean is zero or straddles zero, so a relative change is undefined."
        )
    lo, hi = ci
    band = f"±{threshold * 100:.1f}%"
    ci_txt = f"{level} {_pct(lo)} to {_pct(hi)}"
    if lo > threshold or hi < -threshold:
        better = (hi < -threshold) == (direction == "lower")
        if p is not None and p < alpha:
            verdict = "improved" if better else "regressed"
            reason = (
                f"Mean changed {_pct(rel)} ({ci_txt}, entirely beyond {band}) with "
                f"{p_name}={p:.3g} < {alpha:g}; {direction} is better."
            )
        else:
            verdict = "inconclusive"
            p_txt = "unavailable" if p is None else f"{p:.3g} >= {alpha:g}"
            reason = (
                f"The {ci_txt} lies beyond {band} but {p_name} is {p_txt}; "
                "more runs are needed to call it."
            )
    elif -threshold < lo and hi < threshold:
        verdict = "unchanged"
        reason = (
            f"The {ci_txt} lies entirely within {band}, the practical threshold, "
            "so any change is too small to matter."
        )
    else:
        verdict = "inconclusive"
        reason = (
            f"The {ci_txt} overlaps the {band} threshold, so the data neither show "
            "a change nor rule one out."
        )
    if basis == "samples" and verdict != "inconclusive":
        reason = reason[:-1] + " (fewer than 2 runs per side: judged on samples)."
    return verdict, reason
