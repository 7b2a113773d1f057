"""Breaking-point search, pure: the binary search as a state machine, monotonicity.

Thresholds and the verdict of one probe live in ``core/thresholds.py``.

The search works on a grid ``minimum + k * resolution`` (the maximum is the last point even
when it is off the grid) and assumes the target passes at low values and fails at high
ones. It spends at most ``ceil(log2(K)) + 3`` probes, ``K`` being the number of grid steps:

1. the maximum: when it passes it is re-measured, and a second pass means "passes at every
   value" (no breaking point in the range, none invented);
2. bisection between the last passing value (the minimum, assumed until measured) and the
   first failing one, until they are one step apart;
3. confirmation: the last passing value is measured again (for the minimum: measured,
   and re-measured when it fails, to tell "fails at every value" from noise), then the first
   failing value is measured again.

Any passing value at or above a failing one, across all probes, makes the answer
non-monotonic; it is reported as such with the values found, never smoothed over.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from perfinvest.core.errors import usage_error

# --- the search ----------------------------------------------------------------------------


def grid_steps(minimum: float, maximum: float, resolution: float) -> int:
    """``K``: grid steps from the minimum to the maximum (the last one may be partial)."""
    return max(0, math.ceil((maximum - minimum) / resolution - 1e-9))


def probe_bound(minimum: float, maximum: float, resolution: float) -> int:
    """The most probes a search over the range may use: ``ceil(log2(K)) + 3``."""
    steps = grid_steps(minimum, maximum, resolution)
    return (math.ceil(math.log2(steps)) if steps > 1 else 0) + 3


def check_range(minimum: float, maximum: float, resolution: float) -> None:
    for name, value in (("--min", minimum), ("--max", maximum), ("--resolution", resolution)):
        if not math.isfinite(value):
            raise usage_error(f"{name} must be a finite number, not {value}")
    if minimum > maximum:
        raise usage_error(
            f"--min {minimum:g} is above --max {maximum:g}: give the range low value first"
        )
    if resolution <= 0:
        raise usage_error(f"--resolution must be positive, not {resolution:g}")


def format_value(value: float) -> str:
    """How a parameter value is passed in the environment: ``237``, ``0.25``."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def widens(previous: tuple[float, float], requested: tuple[float, float]) -> bool:
    """Rule 4: does ``requested`` reach outside the range of an earlier result?"""
    return requested[0] < previous[0] or requested[1] > previous[1]


Stage = Literal[
    "upper", "confirm_max", "bisect", "confirm_low", "recheck_min", "confirm_high", "done"
]
Verdict = Literal["found", "passes_everywhere", "fails_everywhere", "non_monotonic"]


@dataclass(frozen=True)
class SearchOutcome:
    verdict: Verdict
    breaking_point: float | None
    last_passing: float | None
    monotonic: bool
    note: str


def non_monotonic_pairs(history: Sequence[tuple[float, bool]]) -> list[tuple[float, float]]:
    """(passing value, failing value) pairs where a value passed at or above a failure."""
    passes = sorted({v for v, ok in history if ok})
    fails = sorted({v for v, ok in history if not ok})
    return [(p, f) for p in passes for f in fails if p >= f]


@dataclass
class Search:
    """The binary search as a state machine: ask ``next_value``, measure, ``record``."""

    minimum: float
    maximum: float
    resolution: float
    stage: Stage = "upper"
    history: list[tuple[float, bool]] = field(default_factory=list)
    _lo: int = 0
    _hi: int = 0
    _lo_measured: bool = False
    _outcome: SearchOutcome | None = None

    def __post_init__(self) -> None:
        check_range(self.minimum, self.maximum, self.resolution)
        self.steps = grid_steps(self.minimum, self.maximum, self.resolution)
        self._hi = self.steps

    @property
    def bound(self) -> int:
        return probe_bound(self.minimum, self.maximum, self.resolution)

    def value_at(self, k: int) -> float:
        if k >= self.steps:
            return self.maximum
        return round(self.minimum + k * self.resolution, 10)

    def next_value(self) -> float | None:
        """The value to probe next; None once the search is done."""
        stage = self.stage
        if stage in ("upper", "confirm_max"):
            return self.maximum
        if stage == "bisect":
            return self.value_at((self._lo + self._hi) // 2)
        if stage in ("confirm_low", "recheck_min"):
            return self.value_at(self._lo)
        if stage == "confirm_high":
            return self.value_at(self._hi)
        return None

    def record(self, passed: bool) -> None:
        """The verdict of the probe at ``next_value()``."""
        value = self.next_value()
        if value is None:
            raise ValueError("the search is done: nothing to record")
        self.history.append((value, passed))
        stage = self.stage
        if stage == "upper":
            if passed:
                self.stage = "confirm_max"
            else:
                self._after_bisect_step()
        elif stage == "bisect":
            mid = (self._lo + self._hi) // 2
            if passed:
                self._lo, self._lo_measured = mid, True
            else:
                self._hi = mid
            self._after_bisect_step()
        elif stage == "confirm_low":
            if not passed and not self._lo_measured:
                self.stage = "recheck_min"  # the minimum failed on its first measurement
            else:
                self._lo_measured = True
                self.stage = "confirm_high"
        else:  # confirm_max, recheck_min, confirm_high: the last probe
            self._finish()

    def _after_bisect_step(self) -> None:
        if self._hi - self._lo > 1:
            self.stage = "bisect"
        elif self._hi == self._lo:  # min == max, and it failed
            self.stage = "recheck_min"
        else:
            self.stage = "confirm_low"

    def _finish(self) -> None:
        self.stage = "done"
        self._outcome = self._conclude()

    @property
    def done(self) -> bool:
        return self.stage == "done"

    @property
    def outcome(self) -> SearchOutcome:
        if self._outcome is None:
            raise ValueError("the search is not done yet")
        return self._outcome

    def _conclude(self) -> SearchOutcome:
        pairs = non_monotonic_pairs(self.history)
        results_at = {v: [ok for value, ok in self.history if value == v] for v, _ in self.history}
        maximum_results = results_at.get(self.maximum, [])
        if not pairs and maximum_results and all(maximum_results):
            return SearchOutcome(
                "passes_everywhere",
                None,
                self.maximum,
                True,
                f"passed at every probed value up to the maximum {format_value(self.maximum)}: "
                "no breaking point in the range (a wider range needs --approve-expansion)",
            )
        low, high = self.value_at(self._lo), self.value_at(self._hi)
        low_results = results_at.get(low, [])
        if not pairs and low == self.minimum and low_results and not any(low_results):
            return SearchOutcome(
                "fails_everywhere",
                None,
                None,
                True,
                f"failed already at the minimum {format_value(self.minimum)}: no passing value "
                "in the range, so no breaking point is claimed",
            )
        if pairs:
            shown = ", ".join(
                f"{format_value(p)} passed but {format_value(f)} failed" for p, f in pairs[:3]
            )
            return SearchOutcome(
                "non_monotonic",
                high if not all(results_at.get(high, [True])) else None,
                low if any(low_results) else None,
                False,
                f"non-monotonic: {shown}; the target does not fail steadily above one value, "
                "so the boundary is uncertain (re-run, or look for noise or caching)",
            )
        return SearchOutcome(
            "found",
            high,
            low,
            True,
            f"breaking point {format_value(high)}: {format_value(low)} passed "
            f"({len(low_results)} of {len(low_results)} probes) and {format_value(high)} failed "
            f"({len(results_at.get(high, []))} of {len(results_at.get(high, []))})",
        )
