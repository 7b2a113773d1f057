"""Summaries of one set of values: descriptive statistics, CV, rates (pure).

Pure Python (sorting and sums), no numpy: a measuring phase summarises a few runs and
their samples, and importing numpy for that costs more than the arithmetic. Every
function refuses NaN/inf with a :class:`PerfError` and stays finite for huge but finite
readings (``1e308``): sums and squares are taken on values scaled by a power of two.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from perfinvest.core.errors import benchmark_failed, usage_error

__all__ = [
    "MAD_SCALE",
    "MAD_Z_LIMIT",
    "TUKEY_K",
    "Summary",
    "coefficient_of_variation",
    "cv_exceeds",
    "error_rate",
    "finite_values",
    "from_scale",
    "percentile",
    "sample_cv",
    "scale_exponent",
    "summarize",
    "throughput",
    "to_scale",
]

# 1.4826 * MAD estimates the standard deviation of a normal distribution, and 3.5 is
# the modified z-score cut-off of Iglewicz & Hoaglin.
MAD_SCALE = 1.4826
MAD_Z_LIMIT = 3.5
TUKEY_K = 1.5


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


# --------------------------------------------------------------------------- helpers


def finite_values(values: Sequence[float], what: str) -> list[float]:
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


# Above this magnitude a square (or a sum of a few values) can overflow a float.
_BIG = 2.0**500


def scale_exponent(values: Sequence[float]) -> int:
    """A binary exponent that brings huge values near 1 (scaling by it is exact).

    0 for ordinary values, so their statistics stay bit-for-bit what they were.
    """
    largest = max((abs(v) for v in values), default=0.0)
    return 0 if largest < _BIG else math.frexp(largest)[1]


def to_scale(values: Sequence[float], exponent: int) -> list[float]:
    """``values`` divided by ``2**exponent`` (a copy as they are for exponent 0)."""
    return [math.ldexp(v, -exponent) for v in values] if exponent else list(values)


def from_scale(value: float, exponent: int) -> float:
    """``value * 2**exponent``, ``inf`` (refused by the callers) when beyond the float range."""
    try:
        return math.ldexp(value, exponent)
    except OverflowError:
        return math.copysign(math.inf, value)


def _mean(values: Sequence[float]) -> float:
    """fsum mean that never overflows: ``fsum([1e308, 1e308])`` raises, the mean is finite."""
    exponent = scale_exponent(values)
    return from_scale(math.fsum(to_scale(values, exponent)) / len(values), exponent)


def _stddev(values: Sequence[float], mean: float) -> float:
    """Sample standard deviation (ddof=1) around ``mean``; ``inf`` only if it truly exceeds
    the float range (the caller refuses that)."""
    n = len(values)
    if n < 2:
        return 0.0
    exponent = scale_exponent([*values, mean])
    m = math.ldexp(mean, -exponent)
    var = math.fsum((v - m) ** 2 for v in to_scale(values, exponent)) / (n - 1)
    return from_scale(math.sqrt(var), exponent)


def sample_cv(values: Sequence[float]) -> float | None:
    """Sample CV (ddof=1); 0 for fewer than two values; None when the mean is 0.

    Computed on values scaled by a power of two (the CV does not depend on the scale),
    so ``1e308`` readings do not overflow the squares.
    """
    n = len(values)
    if n == 0:
        return None
    scaled = to_scale(values, scale_exponent(values))
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
    return sample_cv(finite_values(values, "cv"))


def summarize(samples: Sequence[float], what: str = "summary") -> Summary:
    """Describe ``samples``; refuse empty or non-finite input with a :class:`PerfError`.

    Pure Python (sorting and sums): a measuring phase summarises a few runs and their
    samples, and importing numpy for that cost more than the arithmetic (~0.15 s of the
    1 s orchestration budget per phase).
    """
    values = finite_values(samples, what)
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
    checked = finite_values(values, "cv_exceeds")
    if not checked:
        raise benchmark_failed("cv_exceeds: no run values to check")
    if len(checked) < 2:
        return False
    cv = sample_cv(checked)
    return True if cv is None else cv > threshold
