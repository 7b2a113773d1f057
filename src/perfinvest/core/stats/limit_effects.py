"""What a resource limit did to each metric: an effect of a condition, not a verdict (pure).

A constrained run is a different condition, not a candidate change: calling ``p95_ms``
+575 % under ``--cpu 0.5`` "inconclusive", or ``resource_cpu_mean_pct`` -49 % "improved",
answers a question nobody asked. Phase 4 instead reports the effect size (relative change
of the mean, with its bootstrap CI and p-value, the statistics of
:func:`perfinvest.core.stats.verdicts.compare`) under a label that names the limit as the cause:

* ``slower under limit`` / ``faster under limit``: a time (latency, duration: lower is
  better) went up / down, or a rate (throughput: higher is better) went down / up;
* ``higher under limit`` / ``lower under limit``: any other metric, including resource
  metrics and metrics whose direction is unknown;
* ``capped by limit``: a resource metric of the limited resource (CPU use under
  ``--cpu``, memory under ``--memory``) that the baseline had above the limit and the
  limit held down: a ceiling, never a saving;
* ``no effect of limit``: the CI lies within the practical threshold;
* ``unclear effect of limit``: the CI straddles the threshold, or too few values.

The effect is clear when the whole CI lies beyond ±2 % and either the p-value is below
alpha or the CI also clears the noise band of ``compare`` (the run-to-run CV): the
question is how large the limit's effect is, not whether a change should be shipped, so a
+575 % slowdown on two runs per side is an effect even when Welch's test on 2 + 2 values
cannot reach significance.
"""

from __future__ import annotations

import re
from typing import Literal

from perfinvest.core.models import LimitEffect
from perfinvest.core.stats.verdicts import Comparison

EffectLabel = Literal[
    "slower under limit",
    "faster under limit",
    "higher under limit",
    "lower under limit",
    "capped by limit",
    "no effect of limit",
    "unclear effect of limit",
]

#: The smallest relative change called an effect (``compare``'s default min_threshold).
MIN_EFFECT = 0.02
_TIME_UNITS = frozenset({"ns", "us", "µs", "ms", "s"})
_RATE = re.compile(r"(^|/)s$|rps|qps|ops|per_s|throughput")
_CPU_METRIC = re.compile(r"cpu")
_MEMORY_METRIC = re.compile(r"rss|memory|mem_|_mem\b|bytes")


def _is_resource(name: str) -> bool:
    return name.startswith("resource_") or "rss" in name


def _speed_kind(name: str, unit: str, direction: str | None) -> str | None:
    """``time`` for costs in time units, ``rate`` for rates, else None (not a speed)."""
    if direction == "lower" and unit in _TIME_UNITS:
        return "time"
    if direction == "higher" and (_RATE.search(unit) or _RATE.search(name)):
        return "rate"
    return None


def capped(
    name: str, baseline: float, constrained: float, cpu: float | None, memory: int | None
) -> bool:
    """A resource metric of a limited resource that the baseline exceeded and the limit cut.

    CPU: a percentage of one CPU (``resource_cpu_mean_pct``) against ``cpu * 100``.
    Memory: a size in bytes (peak RSS) against the memory limit.
    """
    if not _is_resource(name) or constrained >= baseline:
        return False
    if cpu is not None and _CPU_METRIC.search(name) and name.endswith("_pct"):
        return baseline > cpu * 100
    if memory is not None and _MEMORY_METRIC.search(name):
        return baseline > memory
    return False


def _clear(c: Comparison) -> bool:
    """The whole CI beyond the minimum band, and either significant or beyond the noise."""
    if c.ci_low is None or c.ci_high is None:
        return False
    beyond = c.ci_low > MIN_EFFECT or c.ci_high < -MIN_EFFECT
    p = p_value(c)
    significant = p is not None and p < c.alpha
    beyond_noise = c.ci_low > c.threshold or c.ci_high < -c.threshold
    return beyond and (significant or beyond_noise)


def p_value(c: Comparison) -> float | None:
    """The p-value on the comparison's basis: Welch across runs, Mann-Whitney on samples."""
    return c.p_welch if c.basis == "runs" else c.p_mannwhitney if c.basis == "samples" else None


def limit_effect(
    name: str,
    unit: str,
    direction: str | None,
    comparison: Comparison,
    *,
    cpu: float | None = None,
    memory: int | None = None,
) -> LimitEffect:
    """The effect of a limit on one metric, from the baseline-vs-constrained comparison."""
    c = comparison
    p = p_value(c)
    label: EffectLabel
    if capped(name, c.baseline_mean, c.candidate_mean, cpu, memory):
        label = "capped by limit"
    elif c.relative_change is None or c.ci_low is None or c.ci_high is None:
        label = "unclear effect of limit"
    elif _clear(c):
        up = c.ci_low > 0
        kind = None if _is_resource(name) else _speed_kind(name, unit, direction)
        if kind == "time":
            label = "slower under limit" if up else "faster under limit"
        elif kind == "rate":
            label = "faster under limit" if up else "slower under limit"
        else:
            label = "higher under limit" if up else "lower under limit"
    elif -c.threshold < c.ci_low and c.ci_high < c.threshold:
        label = "no effect of limit"  # within the noise seen between runs
    else:
        label = "unclear effect of limit"
    return LimitEffect(
        baseline=c.baseline_mean,
        constrained=c.candidate_mean,
        relative_change=c.relative_change,
        ci_low=c.ci_low,
        ci_high=c.ci_high,
        p_value=p,
        basis=c.basis,
        threshold=c.threshold,
        effect=label,
    )


def describe(key: str, effect: LimitEffect) -> str:
    """``chunk_ms: slower under limit, +98.0% (95% CI +90.1% to +105.2%, p=0.003)``."""

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value * 100:+.1f}%"

    ci = (
        f"95% CI {pct(effect.ci_low)} to {pct(effect.ci_high)}"
        if effect.ci_low is not None
        else "no CI"
    )
    p = "p n/a" if effect.p_value is None else f"p={effect.p_value:.3g}"
    return f"{key}: {effect.effect}, {pct(effect.relative_change)} ({ci}, {p})"
