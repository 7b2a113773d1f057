"""Noisy bisection for the breaking-point search: majorities, the re-opened bracket, the crossing.

Pure. When a re-check disagrees (a value that failed passes when re-measured, or the other
way round), one probe per value is no longer evidence enough: the target fails *more often*
above some value, not always. The search (``core/breaking/search.py``) then re-opens the bisection
inside the widened interval, with these rules (a noisy binary search in the spirit of Karp &
Kleinberg's repeated comparisons and of probabilistic bisection):

* each value's verdict is its **majority** (passes vs failures); a tie has none;
* a value is **decided** once one verdict leads with at least ``MAJORITY`` probes (2 of 3:
  2:0, 2:1, 3:1, 3:2, ...); a contested value is re-measured until it is, at most
  ``MAX_PER_VALUE`` times;
* the bracket is ``[lo, hi]``: the highest majority-pass below every majority-fail and the
  lowest majority-fail above every majority-pass. Bisection goes on inside it until it is one
  resolution step wide and both ends are decided, or the (grown) probe bound is spent;
* the value where failures become more likely than passes is the lowest value whose
  fail fraction, fitted non-decreasing in the value (isotonic regression, pool adjacent
  violators, weighted by the probes), is above one half.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping

#: A contested value is decided when one verdict has at least this many probes and leads.
MAJORITY = 2
#: Probes one value may take in the re-opened bisection (an odd number: a tie cannot last).
MAX_PER_VALUE = 5

Counts = Mapping[float, tuple[int, int]]  # value -> (passes, failures)


def value_counts(history: Iterable[tuple[float, bool]]) -> dict[float, tuple[int, int]]:
    """Per-value (passes, failures) of a probe history, in ascending value order."""
    counts: dict[float, tuple[int, int]] = {}
    for value, passed in history:
        p, f = counts.get(value, (0, 0))
        counts[value] = (p + 1, f) if passed else (p, f + 1)
    return dict(sorted(counts.items()))


def majority(passes: int, fails: int) -> bool | None:
    """The value's verdict by majority: True (pass), False (fail), None (a tie)."""
    if passes == fails:
        return None
    return passes > fails


def decided(passes: int, fails: int) -> bool:
    """One verdict leads with at least ``MAJORITY`` probes (2 of 3 and better)."""
    return max(passes, fails) >= MAJORITY and passes != fails


def majority_history(counts: Counts) -> list[tuple[float, bool]]:
    """One (value, majority verdict) per value that has a majority; ties left out."""
    out: list[tuple[float, bool]] = []
    for value, (p, f) in counts.items():
        verdict = majority(p, f)
        if verdict is not None:
            out.append((value, verdict))
    return out


def majority_interval(counts: Counts) -> tuple[float | None, float | None]:
    """(highest majority-pass below every majority-fail, lowest majority-fail above every pass)."""
    history = majority_history(counts)
    passes = [v for v, ok in history if ok]
    fails = [v for v, ok in history if not ok]
    low = max((p for p in passes if all(f > p for f in fails)), default=None)
    high = min((f for f in fails if all(p < f for p in passes)), default=None)
    return low, high


def crossing(counts: Counts) -> float | None:
    """The lowest value whose isotonic (non-decreasing) fail fraction is above one half.

    None when no value is more likely to fail than to pass.
    """
    blocks: list[list[float]] = []  # [fail fraction, weight, first index, last index]
    values = list(counts)
    for index, value in enumerate(values):
        p, f = counts[value]
        blocks.append([f / (p + f), float(p + f), index, index])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:  # pool adjacent violators
            right = blocks.pop()
            left = blocks[-1]
            weight = left[1] + right[1]
            left[0] = (left[0] * left[1] + right[0] * right[1]) / weight
            left[1], left[3] = weight, right[3]
    for fraction, _weight, first, _last in blocks:
        if fraction > 0.5:
            return values[int(first)]
    return None


def refine_extra(width_steps: int) -> int:
    """Probes the re-opened bisection may add to the bound over ``width_steps`` grid steps.

    One probe per halving of the bracket, plus ``MAX_PER_VALUE - 1`` re-measurements for
    the contested value and ``MAJORITY`` for each end.
    """
    halvings = math.ceil(math.log2(width_steps)) if width_steps > 1 else 0
    return halvings + (MAX_PER_VALUE - 1) + 2 * MAJORITY


def counts_line(counts: Counts, shown: Callable[[float], str]) -> str:
    """``31: 2 pass; 32: 1 pass 2 fail; 64: 2 fail``: every probed value's verdicts."""
    parts = []
    for value, (p, f) in counts.items():
        said = [f"{p} pass"] if p else []
        said += [f"{f} fail"] if f else []
        parts.append(f"{shown(value)}: {' '.join(said)}")
    return "; ".join(parts)


def refine_target(
    counts: Counts,
    index_of: Callable[[float], int],
    value_at: Callable[[int], float],
    steps: int,
    apart: Callable[[float, float], bool] | None = None,
) -> float | None:
    """The next value the re-opened bisection measures; None once it is done.

    In order: a value inside the bracket without a decided majority (contested: re-measured);
    the bracket's midpoint while it is wider than one step; an end not yet decided. A
    missing end (no majority pass below the failures, or no fail above the passes) is
    looked for at the range's end; a value already measured ``MAX_PER_VALUE`` times is
    left as it is. ``apart(low, high)`` says whether the bracket's ends can be told apart
    beyond the measured noise; when they cannot, no midpoint is probed (it would be a coin
    toss) and the bracket stays as wide as the noise allows.
    """
    low, high = majority_interval(counts)
    lo_k = -1 if low is None else index_of(low)
    hi_k = steps + 1 if high is None else index_of(high)

    def open_(value: float) -> bool:
        p, f = counts.get(value, (0, 0))
        return not decided(p, f) and p + f < MAX_PER_VALUE

    inside = [v for v in counts if lo_k < index_of(v) < hi_k and open_(v)]
    if inside:
        return inside[0]
    if low is None and open_(value_at(0)):
        return value_at(0)
    if high is None and open_(value_at(steps)):
        return value_at(steps)
    first, last = max(lo_k, 0), min(hi_k, steps)
    splittable = apart is None or low is None or high is None or apart(low, high)
    if last - first > 1 and splittable:
        mid = (first + last) // 2
        candidates = sorted(range(first + 1, last), key=lambda k: abs(k - mid))
        for k in candidates:
            if value_at(k) not in counts:
                return value_at(k)
    for end in (high, low):
        if end is not None and open_(end):
            return end
    return None
