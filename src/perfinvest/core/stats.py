"""Summaries, comparisons and verdicts (DESIGN.md, "Statistics and verdicts").

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

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

__all__ = [
    "MAD_SCALE",
    "MAD_Z_LIMIT",
    "Basis",
    "Comparison",
    "Direction",
    "Summary",
    "Verdict",
    "compare",
    "cv_exceeds",
    "error_rate",
    "summarize",
    "throughput",
]

Verdict = Literal["improved", "regressed", "unchanged", "inconclusive"]
Direction = Literal["lower", "higher"]
# Which values the test and the bootstrap were computed on ("none": too few of either).
Basis = Literal["runs", "samples", "none"]

# 1.4826 * MAD estimates the standard deviation of a normal distribution, and 3.5 is
# the modified z-score cut-off of Iglewicz & Hoaglin.
MAD_SCALE = 1.4826
MAD_Z_LIMIT = 3.5
TUKEY_K = 1.5
# A bootstrap of n values holds n * chunk indices in memory at once; this bounds it
# (about 32 MB of int64) without a Python loop over individual resamples.
_BOOT_CHUNK_ELEMENTS = 4_000_000
# Above this many values the bootstrap distribution of the mean is drawn from its normal
# limit (same mean and variance as the resampling): see _boot_means.
_EXACT_BOOT_MAX_N = 10_000
_MIN_N_BOOT = 100


class Summary(BaseModel):
    """Descriptive statistics of one set of samples (or of run-level values)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    n: int
    mean: float
    stddev: float  # sample standard deviation (ddof=1); 0 when n < 2
    cv: float | None  # stddev / |mean|; None when the mean is 0
    min: float
    max: float
    median: float
    mad: float  # raw median absolute deviation (not scaled by 1.4826)
    p50: float
    p90: float
    p95: float
    p99: float
    p999: float
    outliers_tukey: list[int]  # indices outside [Q1 - 1.5 IQR, Q3 + 1.5 IQR]
    outliers_mad: list[int]  # indices with |x - median| / (1.4826 MAD) > 3.5


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


# --------------------------------------------------------------------------- helpers


def _checked(values: Sequence[float], what: str) -> list[float]:
    """Return ``values`` as floats, refusing NaN/inf: one bad sample poisons every statistic."""
    out: list[float] = []
    for i, v in enumerate(values):
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise usage_error(f"{what}: value #{i} ({v!r}) is not a number") from None
        if not math.isfinite(f):
            raise benchmark_failed(
                f"{what}: value #{i} is {f!r}; NaN and infinity are not measurements, "
                "fix the benchmark's output"
            )
        out.append(f)
    return out


def _pct(x: float) -> str:
    return f"{x * 100:+.1f}%"


# Above this magnitude a square (or a sum of a few values) can overflow a float.
_BIG = 2.0**500


def _exponent(values: Sequence[float]) -> int:
    """A binary exponent that brings huge values near 1 (scaling by it is exact).

    0 for ordinary values, so their statistics stay bit-for-bit what they were.
    """
    largest = max((abs(v) for v in values), default=0.0)
    return 0 if largest < _BIG else math.frexp(largest)[1]


def _scaled(values: Sequence[float], exponent: int) -> list[float]:
    return [math.ldexp(v, -exponent) for v in values] if exponent else list(values)


def _unscaled(value: float, exponent: int) -> float:
    """``value * 2**exponent``, ``inf`` (refused by the callers) when beyond the float range."""
    try:
        return math.ldexp(value, exponent)
    except OverflowError:
        return math.copysign(math.inf, value)


def _mean(values: Sequence[float]) -> float:
    """fsum mean that never overflows: ``fsum([1e308, 1e308])`` raises, the mean is finite."""
    exponent = _exponent(values)
    return _unscaled(math.fsum(_scaled(values, exponent)) / len(values), exponent)


def _stddev(values: Sequence[float], mean: float) -> float:
    """Sample standard deviation (ddof=1) around ``mean``; ``inf`` only if it truly exceeds
    the float range (the caller refuses that)."""
    n = len(values)
    if n < 2:
        return 0.0
    exponent = _exponent([*values, mean])
    m = math.ldexp(mean, -exponent)
    var = math.fsum((v - m) ** 2 for v in _scaled(values, exponent)) / (n - 1)
    return _unscaled(math.sqrt(var), exponent)


def _cv(values: Sequence[float]) -> float | None:
    """Sample CV (ddof=1); 0 for fewer than two values; None when the mean is 0.

    Computed on values scaled by a power of two (the CV does not depend on the scale),
    so ``1e308`` readings do not overflow the squares.
    """
    n = len(values)
    if n == 0:
        return None
    scaled = _scaled(values, _exponent(values))
    mean = math.fsum(scaled) / n
    if n < 2:
        return 0.0 if mean != 0 else None
    var = math.fsum((v - mean) ** 2 for v in scaled) / (n - 1)
    if mean == 0:
        return 0.0 if var == 0 else None
    return math.sqrt(var) / abs(mean)


# --------------------------------------------------------------------------- summaries


def _lerp(a: float, b: float, t: float) -> float:
    """numpy's interpolation, term for term, so summaries agree with it to the last bit."""
    diff = b - a
    return b - diff * (1 - t) if t >= 0.5 else a + diff * t


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile of already sorted values, numpy's default ('linear')."""
    position = q / 100 * (len(sorted_values) - 1)  # numpy's order of operations
    below = math.floor(position)
    above = min(below + 1, len(sorted_values) - 1)
    return _lerp(sorted_values[below], sorted_values[above], position - below)


def coefficient_of_variation(values: Sequence[float]) -> float | None:
    """Sample CV (ddof=1) of ``values``; 0 for one value; None when the mean is 0."""
    return _cv(_checked(values, "cv"))


def summarize(samples: Sequence[float], what: str = "summary") -> Summary:
    """Describe ``samples``; refuse empty or non-finite input with a :class:`PerfError`.

    Pure Python (sorting and sums): a measuring phase summarises a few runs and their
    samples, and importing numpy for that cost more than the arithmetic (~0.15 s of the
    1 s orchestration budget per phase).
    """
    values = _checked(samples, what)
    if not values:
        raise benchmark_failed(f"{what}: no samples; the benchmark produced no values")
    n = len(values)
    ordered = sorted(values)
    # fsum keeps the mean exact enough that identical values summarise to themselves.
    mean = _mean(values)
    lo, hi = ordered[0], ordered[-1]
    mean = min(max(mean, lo), hi)  # rounding must never put the mean outside the data
    # deviations from the fsum mean, so identical values give exactly 0 spread
    stddev = _stddev(values, mean)
    cv = stddev / abs(mean) if mean != 0 else None
    p50, p90, p95, p99, p999 = (percentile(ordered, q) for q in (50, 90, 95, 99, 99.9))
    median = p50  # one computation: a separate median could differ from p50 by an ulp
    deviations = [abs(v - median) for v in values]
    mad = percentile(sorted(deviations), 50)
    q1, q3 = percentile(ordered, 25), percentile(ordered, 75)
    iqr = q3 - q1
    tukey = [i for i, v in enumerate(values) if v < q1 - TUKEY_K * iqr or v > q3 + TUKEY_K * iqr]
    # MAD == 0: more than half the values are identical and the modified z-score is
    # undefined; flagging every other value would be noise, not insight.
    mad_idx = (
        [i for i, d in enumerate(deviations) if d / (MAD_SCALE * mad) > MAD_Z_LIMIT]
        if mad > 0
        else []
    )
    spreads = (stddev, mad, iqr, p50, p90, p95, p99, p999)
    if not all(math.isfinite(x) for x in spreads):
        raise benchmark_failed(
            f"{what}: values from {lo!r} to {hi!r} are too far apart to summarise within "
            "the float range; fix the benchmark's output (report it in a smaller unit)"
        )
    return Summary(
        n=n,
        mean=mean,
        stddev=stddev,
        cv=cv,
        min=lo,
        max=hi,
        median=median,
        mad=mad,
        p50=p50,
        p90=p90,
        p95=p95,
        p99=p99,
        p999=p999,
        outliers_tukey=tukey,
        outliers_mad=mad_idx,
    )


def throughput(count: float, seconds: float) -> float:
    """Operations per second. Zero operations is a valid 0.0; a zero-length window is not."""
    if not (math.isfinite(count) and math.isfinite(seconds)):
        raise benchmark_failed(f"throughput: non-finite input (count={count}, seconds={seconds})")
    if count < 0:
        raise usage_error(f"throughput: count must be >= 0, got {count}")
    if seconds <= 0:
        raise benchmark_failed(
            f"throughput: the measurement window is {seconds} s; a rate needs a positive duration"
        )
    return count / seconds


def error_rate(errors: int, total: int) -> float | None:
    """Fraction of failed operations in [0, 1].

    None when ``total`` is 0: with no operations the rate is undefined, and reporting
    0.0 would make a benchmark that did nothing look error-free.
    """
    if errors < 0 or total < 0:
        raise usage_error(f"error_rate: counts must be >= 0 (errors={errors}, total={total})")
    if errors > total:
        raise usage_error(f"error_rate: errors ({errors}) exceed total operations ({total})")
    if total == 0:
        return None
    return errors / total


def cv_exceeds(values: Sequence[float], threshold: float = 0.05) -> bool:
    """Reproducibility rule 5: is the CV across runs above ``threshold``?

    Fewer than two runs cannot show variation, so this answers False (rule 2 enforces
    the run count separately). A zero mean with non-zero spread has unbounded relative
    noise and answers True.
    """
    if threshold < 0 or not math.isfinite(threshold):
        raise usage_error(f"cv_exceeds: threshold must be a finite value >= 0, got {threshold}")
    checked = _checked(values, "cv_exceeds")
    if not checked:
        raise benchmark_failed("cv_exceeds: no run values to check")
    if len(checked) < 2:
        return False
    cv = _cv(checked)
    return True if cv is None else cv > threshold


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


def _relative(baseline_mean: float, candidate_mean: float) -> float | None:
    """(candidate - baseline) / |baseline|: candidate/baseline - 1 for positive baselines.

    Dividing by |baseline| keeps the sign meaning "candidate is larger" should a metric
    ever be negative.
    """
    if baseline_mean == 0:
        return 0.0 if candidate_mean == 0 else None
    return (candidate_mean - baseline_mean) / abs(baseline_mean)


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
    rel = (cm - bm) / np.abs(bm)
    lo, hi = np.quantile(rel, [alpha / 2, 1 - alpha / 2])
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

    Why both conditions. Requiring ``p < alpha`` keeps the A/A false-positive rate at or
    below ``alpha`` even though a percentile bootstrap of 2-3 runs is too narrow (it can
    only reshuffle the runs it has); requiring the CI beyond the threshold keeps
    significant-but-negligible changes from being called improvements. ``unchanged``
    is an equivalence claim and needs only the CI inside the band, since a significant
    shift smaller than the threshold is, by definition, not a practical change.

    The CI level is ``1 - alpha`` (95 % by default) so the two conditions agree.
    """
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

    b_runs = _checked(baseline_runs, f"{metric} baseline runs")
    c_runs = _checked(candidate_runs, f"{metric} candidate runs")
    b_samp = _checked(baseline_samples or [], f"{metric} baseline samples")
    c_samp = _checked(candidate_samples or [], f"{metric} candidate samples")
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
    exponent = _exponent([*b_runs, *c_runs, *b_samp, *c_samp])
    b_vals, c_vals = _scaled(b_vals, exponent), _scaled(c_vals, exponent)
    b_mean = math.fsum(b_vals) / len(b_vals)
    c_mean = math.fsum(c_vals) / len(c_vals)
    rel = _relative(b_mean, c_mean)
    p_welch = _welch(_scaled(b_runs, exponent), _scaled(c_runs, exponent))
    p_mw = _mannwhitney(b_samp, c_samp)
    p = p_welch if basis == "runs" else p_mw if basis == "samples" else None
    p_name = "Welch p" if basis == "runs" else "Mann-Whitney p"

    cvs = [cv for cv in (_cv(b_vals), _cv(c_vals)) if cv is not None]
    noise = max(cvs) if cvs else 0.0
    threshold = max(noise, min_threshold)

    ci: tuple[float, float] | None = None
    if basis != "none":
        import numpy as np

        ci = _bootstrap_ci(
            np.asarray(b_vals, dtype=np.float64),
            np.asarray(c_vals, dtype=np.float64),
            n_boot,
            alpha,
            _rng(seed),
        )

    verdict: Verdict
    level = f"{(1 - alpha) * 100:g}% CI"
    if basis == "none":
        verdict = "inconclusive"
        reason = (
            "Too few values to test: each side needs at least 2 runs or 2 samples, "
            f"got {len(b_runs)}/{len(c_runs)} runs and {len(b_samp)}/{len(c_samp)} samples."
        )
    elif rel is None or ci is None:
        verdict = "inconclusive"
        reason = "The baseline mean is zero or straddles zero, so a relative change is undefined."
    else:
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

    return Comparison(
        metric=metric,
        direction=direction,
        baseline_mean=_unscaled(b_mean, exponent),
        candidate_mean=_unscaled(c_mean, exponent),
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
