"""Thresholds from a history of results, Bencher-style (pure).

A gate that compares one pair of results needs a fixed tolerance, and a fixed tolerance is
wrong on every machine but one: too tight on a noisy CI runner, too loose on a quiet one.
A threshold computed from the spread of the last N results adapts to the machine's noise.

Two models, both over a window of past values (each a baseline's mean across its runs):

* ``t``: the 95 % prediction interval of one new value, ``mean ± t(0.975, N-1) · s ·
  sqrt(1 + 1/N)``; it assumes the values are roughly normal (it is Bencher's t-test
  threshold, written as the interval a new observation falls in, not the mean's CI).
* ``iqr``: Tukey's fences ``Q1 - k·IQR`` and ``Q3 + k·IQR`` (k = 1.5 by default); robust to
  one wild point in the window, it needs a few more points to mean anything.

Both are widened to a relative **noise floor** (default 0.1 % of the center): a window of
identical values (an instruction count is exact) has zero spread, and a zero-width window
would call a one-instruction difference a breach. ``noise_floor=0`` turns it off.

Only the bad side gates: ``lower`` is better → breach above the upper limit, ``higher``
→ below the lower limit; a metric without a direction is judged on both sides.
:func:`judge` is what budget checks and diffs call (see docs/history.md).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from perfinvest.core.quantities import pct

HistoryModel = Literal["t", "iqr"]
HistoryStatus = Literal["within", "breach", "insufficient_history"]
Direction = Literal["lower", "higher"] | None

#: Points a model needs before its threshold means anything: the t model needs a spread
#: (2 points give t(0.975, 1) = 12.7, a threshold too wide to catch anything), the IQR
#: model needs quartiles.
MIN_POINTS: dict[str, int] = {"t": 3, "iqr": 4}
DEFAULT_WINDOW = 10
DEFAULT_IQR_K = 1.5
CONFIDENCE = 0.95
MODELS: tuple[HistoryModel, ...] = ("t", "iqr")
#: The limits are at least this fraction of the center away from it (``--noise-floor``).
DEFAULT_NOISE_FLOOR = 0.001


@dataclass(frozen=True)
class Threshold:
    """Limits a new value must stay within, and how they were computed."""

    model: HistoryModel
    points: int  # values in the window
    center: float  # t: the mean; iqr: the median
    spread: float  # t: the sample standard deviation; iqr: Q3 - Q1
    factor: float  # t: the t quantile; iqr: k
    lower: float
    upper: float
    formula: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Judgement:
    """A current value against a window of past values."""

    status: HistoryStatus
    metric: str
    direction: Direction
    model: HistoryModel
    current: float
    points: int
    needed: int
    threshold: Threshold | None = None
    message: str = ""

    @property
    def breach(self) -> bool:
        return self.status == "breach"

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["threshold"] = self.threshold.to_json() if self.threshold else None
        return out


def shown(value: float) -> str:
    """A value for people: counts in full (an exact gate moves by one), others in 6 digits."""
    return f"{value:,.0f}" if value.is_integer() and abs(value) >= 1e4 else f"{value:.6g}"


def t_quantile(confidence: float, dof: int) -> float:
    """Two-sided Student t quantile, ``t((1 + confidence) / 2, dof)``."""
    from scipy import stats as sps  # scipy only when a threshold is computed

    return float(sps.t.ppf((1 + confidence) / 2, dof))


def _check(values: Sequence[float], model: str) -> list[float]:
    if model not in MODELS:
        raise ValueError(f"unknown history model {model!r}: use t or iqr")
    clean = [float(v) for v in values]
    if not all(math.isfinite(v) for v in clean):
        raise ValueError("history values must be finite numbers")
    return clean


def threshold(
    values: Sequence[float],
    model: HistoryModel = "t",
    *,
    k: float = DEFAULT_IQR_K,
    confidence: float = CONFIDENCE,
    noise_floor: float = DEFAULT_NOISE_FLOOR,
) -> Threshold | None:
    """The window's limits, or ``None`` when it has fewer than ``MIN_POINTS[model]`` values;
    never closer to the center than ``noise_floor`` times its magnitude."""
    if not (math.isfinite(noise_floor) and 0 <= noise_floor < 1):
        raise ValueError(f"the noise floor must be in [0, 1), got {noise_floor}")
    limits = _model_threshold(values, model, k=k, confidence=confidence)
    if limits is None or noise_floor == 0:
        return limits
    margin = noise_floor * abs(limits.center)
    lower, upper = (
        min(limits.lower, limits.center - margin),
        max(limits.upper, limits.center + margin),
    )
    if (lower, upper) == (limits.lower, limits.upper):
        return limits
    return replace(
        limits,
        lower=lower,
        upper=upper,
        formula=f"{limits.formula}, widened to the noise floor ±{noise_floor:.2%} of the center",
    )


def _model_threshold(
    values: Sequence[float], model: HistoryModel, *, k: float, confidence: float
) -> Threshold | None:
    clean = _check(values, model)
    n = len(clean)
    if n < MIN_POINTS[model]:
        return None
    if model == "t":
        mean = statistics.fmean(clean)
        s = statistics.stdev(clean)
        t = t_quantile(confidence, n - 1)
        half = t * s * math.sqrt(1 + 1 / n)
        return Threshold(
            "t",
            n,
            mean,
            s,
            t,
            mean - half,
            mean + half,
            f"mean ± t({(1 + confidence) / 2:g}, {n - 1}) · s · sqrt(1 + 1/{n})",
        )
    q1, median, q3 = statistics.quantiles(clean, n=4, method="inclusive")
    iqr = q3 - q1
    return Threshold(
        "iqr",
        n,
        median,
        iqr,
        k,
        q1 - k * iqr,
        q3 + k * iqr,
        f"[Q1 - {k:g} · IQR, Q3 + {k:g} · IQR]",
    )


def judge(
    window: Sequence[float],
    current: float,
    *,
    metric: str,
    direction: Direction,
    model: HistoryModel = "t",
    k: float = DEFAULT_IQR_K,
    confidence: float = CONFIDENCE,
    noise_floor: float = DEFAULT_NOISE_FLOOR,
) -> Judgement:
    """Is ``current`` within the threshold the ``window`` of past values gives?

    ``within`` / ``breach`` / ``insufficient_history`` (with how many points are needed).
    A value past the *good* limit (much faster) is ``within``: an improvement is no breach.
    """
    needed = MIN_POINTS[model] if model in MODELS else 0
    limits = threshold(window, model, k=k, confidence=confidence, noise_floor=noise_floor)
    if limits is None:
        return Judgement(
            "insufficient_history",
            metric,
            direction,
            model,
            current,
            len(window),
            needed,
            message=(
                f"{metric}: {len(window)} point(s) in the history, the {model} model needs "
                f"at least {needed}"
            ),
        )
    too_high = current > limits.upper and direction in ("lower", None)
    too_low = current < limits.lower and direction in ("higher", None)
    status: HistoryStatus = "breach" if too_high or too_low else "within"
    side = "above the upper" if too_high else "below the lower" if too_low else "within the"
    bound = limits.upper if too_high else limits.lower if too_low else None
    limit = (
        f" {shown(bound)}"
        if bound is not None
        else f" [{shown(limits.lower)}, {shown(limits.upper)}]"
    )
    return Judgement(
        status,
        metric,
        direction,
        model,
        current,
        limits.points,
        needed,
        limits,
        f"{metric} {shown(current)} is {side} limit{limit} ({model} over {limits.points} points)",
    )


# --- the trend table ----------------------------------------------------------------------


@dataclass(frozen=True)
class TrendPoint:
    """One result in the history: a baseline (current or archived) of some version."""

    label: str  # the version
    at: str  # ISO time it was measured
    mean: float
    cv: float | None = None
    runs: int = 0
    source: str = ""  # its file, relative to perf/
    archived: bool = False


@dataclass(frozen=True)
class TrendRow:
    point: TrendPoint
    change: float | None  # relative to the previous point
    status: HistoryStatus  # against the window of points before it
    limits: Threshold | None = field(default=None)

    def to_json(self) -> dict[str, Any]:
        return {
            **asdict(self.point),
            "change": self.change,
            "status": self.status,
            "threshold": self.limits.to_json() if self.limits else None,
        }


def trend(
    points: Sequence[TrendPoint],
    *,
    metric: str,
    direction: Direction,
    window: int = DEFAULT_WINDOW,
    model: HistoryModel = "t",
    k: float = DEFAULT_IQR_K,
    noise_floor: float = DEFAULT_NOISE_FLOOR,
) -> list[TrendRow]:
    """Each point with its change vs the previous one and its status against the ``window``
    points before it (oldest first, as given)."""
    rows: list[TrendRow] = []
    for i, point in enumerate(points):
        previous = points[i - 1].mean if i else None
        change = (point.mean - previous) / abs(previous) if previous else None
        past = [p.mean for p in points[max(0, i - window) : i]]
        verdict = judge(
            past,
            point.mean,
            metric=metric,
            direction=direction,
            model=model,
            k=k,
            noise_floor=noise_floor,
        )
        rows.append(TrendRow(point, change, verdict.status, verdict.threshold))
    return rows


def trend_markdown(metric: str, rows: list[TrendRow]) -> str:
    """The trend as a small markdown table, oldest first."""
    lines = [
        f"| version | measured | {metric} mean | CV | runs | change | status |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        point = row.point
        cv = "n/a" if point.cv is None else f"{point.cv:.1%}"
        label = point.label + (" (archived)" if point.archived else "")
        lines.append(
            f"| {label} | {point.at[:19]} | {shown(point.mean)} | {cv} | {point.runs} | "
            f"{pct(row.change)} | {row.status.replace('_', ' ')} |"
        )
    return "\n".join(lines) + "\n"


def summary_key(keys: Sequence[str], metric: str, scenario: str | None = None) -> str | None:
    """The summary key of ``metric`` (``scenario:metric`` with a scenario) among ``keys``.

    Without a scenario, a bare name also finds the one scenario that reports it; two
    scenarios reporting it is ambiguous (``None``: the caller names both).
    """
    if scenario:
        wanted = f"{scenario}:{metric}"
        return wanted if wanted in keys else None
    if metric in keys:
        return metric
    scoped = [key for key in keys if key.rsplit(":", 1)[-1] == metric]
    return scoped[0] if len(scoped) == 1 else None
