"""The breaking-point interval's ends, clear of the noise: each on its side at one-sided 90 %.

Pure. A majority of probes is not enough near the boundary: with 10 % noise per probe a
value one step above the crossing passes about a third of the time, so the majority
interval ``[last pass, first fail]`` held the true crossing in only 0.89 of simulated
searches (0.75 when the crossing sat between grid values far up the range). An end is
**secure** when its probes' mean threshold metric is on its side of the limit by at least
``END_Z`` standard errors of that mean (``cv * |mean| / sqrt(n)``, ``cv`` the metric's
measured noise) and its majority agrees; an end that is not is replaced by the nearest
secure value outward, looked for by bisecting between it and the secure value beyond it
(:func:`secure_target`), within ``SECURE_EXTRA`` more probes.

Why one-sided 90 % per end (``z`` 1.28) and not 95 %: the ends are chosen from the
probes, mostly away from the boundary, so their errors are rarer than each end's level
says. Measured over 600-1000 simulated searches of [1000, 20000] at 190 per setting
(crossing at 4990 on the grid, 4900 between grid values, 12400 far up; 10 and 20 % noise
per probe): the interval held the true crossing in 0.95-0.98 of them (the majority
interval alone: 0.75-0.89), for 3 more probes on average (9.1 to 12.1 at 10 % noise) and a
median interval one step wider (7 to 8). ``z`` 1.0 fell to 0.91; 1.645 cost 3 more probes
for 0.96-0.99. ``benchmarks/calibration.py`` gates the coverage. Without noise (``cv`` 0)
a secure end is its majority: nothing changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

from perfinvest.core.breaking.noisy import majority
from perfinvest.core.breaking.thresholds import Threshold

#: Standard errors a secure end keeps from the limit (one-sided 90 %).
END_Z = 1.28
#: Probes the search may add to its bound to secure the interval's ends.
SECURE_EXTRA = 6

Side = Literal["pass", "fail"]
#: value -> the metrics of each of its probes (empty for a probe that reported none)
Probes = Mapping[float, Sequence[Mapping[str, float]]]


def _margin(threshold: Threshold, mean: float) -> float:
    """How far ``mean`` is on the passing side of the limit (negative: the failing side)."""
    if threshold.op in (">", ">="):
        return threshold.limit - mean
    return mean - threshold.limit


def secure_side(
    probes: Sequence[Mapping[str, float]],
    passes: int,
    fails: int,
    thresholds: Sequence[Threshold],
    cv: Callable[[str], float],
    z: float = END_Z,
) -> Side | None:
    """ "pass" or "fail" when the value is on that side beyond the noise, else None.

    A value whose every probe failed without metrics (a crash, a timeout) is a secure
    failure: that is not noise. Otherwise every threshold metric must be in every probe.
    Without thresholds (the verdict is the exit code) there is no metric to be clear of the
    limit: the majority is all there is, and it stands.
    """
    verdict = majority(passes, fails)
    if verdict is None:
        return None
    if not thresholds:
        return "pass" if verdict else "fail"
    if not verdict and passes == 0 and not any(probes):
        return "fail"
    n = len(probes)
    means: list[tuple[Threshold, float, float]] = []
    for threshold in thresholds:
        values = [p[threshold.metric] for p in probes if threshold.metric in p]
        if len(values) != n or n == 0:
            return None
        mean = math.fsum(values) / n
        means.append((threshold, mean, cv(threshold.metric) * abs(mean) / math.sqrt(n)))
    if verdict:
        clear = all(_margin(t, mean) >= z * error for t, mean, error in means)
        return "pass" if clear else None
    crossed = any(-_margin(t, mean) >= z * error for t, mean, error in means)
    return "fail" if crossed else None


def secure_sides(
    probes: Probes,
    counts: Mapping[float, tuple[int, int]],
    thresholds: Sequence[Threshold],
    cv: Callable[[str], float],
) -> dict[float, Side | None]:
    """Every probed value's secure side (None: not clear of the noise), ascending."""
    return {
        value: secure_side(probes.get(value, ()), p, f, thresholds, cv)
        for value, (p, f) in counts.items()
    }


def secure_interval(sides: Mapping[float, Side | None]) -> tuple[float | None, float | None]:
    """(highest secure pass below every secure fail, lowest secure fail above every pass)."""
    passes = [v for v, side in sides.items() if side == "pass"]
    fails = [v for v, side in sides.items() if side == "fail"]
    low = max((p for p in passes if all(f > p for f in fails)), default=None)
    high = min((f for f in fails if all(p < f for p in passes)), default=None)
    return low, high


def secure_target(
    sides: Mapping[float, Side | None],
    counts: Mapping[float, tuple[int, int]],
    index_of: Callable[[float], int],
    value_at: Callable[[int], float],
    steps: int,
) -> float | None:
    """The next probe that brings an insecure end closer to secure; None when none would.

    For the low end: the lowest majority-pass above the secure low that is not secure
    itself; the search probes the grid value halfway between the two, until they are
    neighbours (re-measuring the insecure pass instead cost twice the probes for the same
    coverage). The high end likewise, from above. No secure low: the value below the
    range's minimum counts as the secure one (so the minimum may be probed); no secure
    high: the value above the maximum.
    """
    low, high = secure_interval(sides)
    lo_k = -1 if low is None else index_of(low)
    hi_k = steps + 1 if high is None else index_of(high)
    between = {v: counts[v] for v in sides if lo_k < index_of(v) < hi_k}
    passing = [v for v, (p, f) in between.items() if majority(p, f) and sides[v] is None]
    failing = [v for v, (p, f) in between.items() if majority(p, f) is False and not sides[v]]
    for end, outer in ((min(passing, default=None), lo_k), (max(failing, default=None), hi_k)):
        if end is None:
            continue
        k = index_of(end)
        gap = [j for j in range(min(k, outer) + 1, max(k, outer)) if 0 <= j <= steps]
        middle = (min(k, outer) + max(k, outer)) / 2
        for j in sorted(gap, key=lambda j: abs(j - middle)):
            if value_at(j) not in counts:
                return value_at(j)
    return None
