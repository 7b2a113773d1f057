"""Breaking-point search, pure: the binary search as a state machine, monotonicity.

Thresholds and the verdict of one probe live in ``core/breaking/thresholds.py``.

The search works on a grid ``minimum + k * resolution`` (the maximum is the last point even
when it is off the grid; without ``--resolution`` the step is 1 % of the range) and assumes
the target passes at low values and fails at high ones. It spends at most
``ceil(log2(K)) + 3 + RECONFIRM_LIMIT`` probes, ``K`` being the number of grid steps:

1. the maximum: when it passes it is re-measured, and a second pass means "passes at every
   value" (no breaking point in the range, none invented);
2. bisection between the last passing value (the minimum, assumed until measured) and the
   first failing one, until they are one step apart *or* their threshold metrics are the
   same within the measured noise (the baseline's run-to-run CV, or the spread of probes
   re-measured at one value, whichever is larger): a probe between them would be a coin toss;
3. confirmation: the last passing value is measured again (for the minimum: measured,
   and re-measured when it fails, to tell "fails at every value" from noise), then the first
   failing value is measured again;
4. the answer is an interval ``[last pass, first fail]``: the highest value that passed
   below every failure and the lowest that failed above every pass, each by the majority
   of its probes. A re-check that disagrees re-opens the bisection inside the widened
   interval (``core/breaking/noisy.py``): contested values are re-measured to a 2-of-3
   majority, until the bracket is one step wide with both ends decided or the probe
   bound, grown by what the repeats need (and saying so), is spent;
5. securing the ends (``core/breaking/ends.py``): an end whose threshold metric is not
   clear of the limit by the noise is replaced by the nearest value that is, found by
   bisecting outward within a few more probes (the bound grows, and says so).

Verdicts that disagree within noise (one value passing and failing, or neighbours whose
metrics are the same within noise) widen the interval and say so. A majority pass above a
majority failure further apart than the noise is non-monotonic: reported as such, never
smoothed over.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from perfinvest.core.breaking.ends import (
    SECURE_EXTRA,
    Side,
    secure_interval,
    secure_sides,
    secure_target,
)
from perfinvest.core.breaking.grid import (
    DEFAULT_RESOLUTION_RULE,
    NOISE_Z,
    RECONFIRM_LIMIT,
    baseline_noise,
    check_range,
    default_resolution,
    format_value,
    grid_steps,
    noise_band,
    probe_bound,
    widens,
)
from perfinvest.core.breaking.lines import confidence, disagreements, probe_line, tally
from perfinvest.core.breaking.noisy import (
    MAJORITY,
    crossing,
    majority_history,
    majority_interval,
    refine_extra,
    refine_target,
    value_counts,
)
from perfinvest.core.breaking.thresholds import Threshold
from perfinvest.core.stats.verdicts import coefficient_of_variation

__all__ = [
    "DEFAULT_RESOLUTION_RULE",
    "NOISE_Z",
    "RECONFIRM_LIMIT",
    "ProbeRecord",
    "Search",
    "SearchOutcome",
    "Stage",
    "StopReason",
    "Verdict",
    "baseline_noise",
    "check_range",
    "default_resolution",
    "format_value",
    "grid_steps",
    "noise_band",
    "non_monotonic_pairs",
    "probe_bound",
    "probe_line",
    "widens",
]

# --- the search ----------------------------------------------------------------------------


Stage = Literal[
    "upper",
    "confirm_max",
    "bisect",
    "confirm_low",
    "recheck_min",
    "confirm_high",
    "reconfirm",
    "refine",
    "secure",
    "done",
]
Verdict = Literal["found", "passes_everywhere", "fails_everywhere", "non_monotonic", "uncertain"]
StopReason = Literal["resolution", "noise"]


@dataclass(frozen=True)
class SearchOutcome:
    verdict: Verdict
    breaking_point: float | None  # the interval's upper end: lowest value that always failed
    last_passing: float | None  # its lower end: highest value that always passed
    monotonic: bool
    note: str
    confidence: str = ""  # how sure the interval's ends are, in words
    widened: bool = False  # a re-check disagreed: the interval was widened past it


@dataclass(frozen=True)
class ProbeRecord:
    value: float
    passed: bool
    metrics: Mapping[str, float]


def non_monotonic_pairs(history: Sequence[tuple[float, bool]]) -> list[tuple[float, float]]:
    """(passing value, failing value) pairs where a value passed at or above a failure."""
    passes = sorted({v for v, ok in history if ok})
    fails = sorted({v for v, ok in history if not ok})
    return [(p, f) for p in passes for f in fails if p >= f]


@dataclass
class Search:
    """The bisection as a state machine: ask ``next_value``, measure, ``record``.

    ``thresholds`` and ``noise`` (each metric's baseline CV) make it noise-aware: bisection
    stops once the probes either side of the bracket report threshold metrics that are
    the same within noise, since a probe between them would be a coin toss.
    """

    minimum: float
    maximum: float
    resolution: float
    thresholds: Sequence[Threshold] = ()
    noise: Mapping[str, float] = field(default_factory=dict)
    stage: Stage = "upper"
    records: list[ProbeRecord] = field(default_factory=list)
    stopped_by: StopReason | None = None
    stop_note: str = ""
    _lo: int = 0
    _hi: int = 0
    _lo_measured: bool = False
    _extra: int = 0
    _reconfirm: float = 0.0
    _grown: int = 0  # probes added to the bound by the re-opened (noisy) bisection
    _securing: bool = False  # the ends are being secured (the bound grew for it)
    bound_note: str = ""  # why the bound grew, in words
    _outcome: SearchOutcome | None = None

    def __post_init__(self) -> None:
        check_range(self.minimum, self.maximum, self.resolution)
        self.steps = grid_steps(self.minimum, self.maximum, self.resolution)
        self._hi = self.steps

    @property
    def bound(self) -> int:
        return probe_bound(self.minimum, self.maximum, self.resolution) + self._grown

    @property
    def counts(self) -> dict[float, tuple[int, int]]:
        """Every probed value's (passes, failures), in ascending order."""
        return value_counts(self.history)

    @property
    def crossing(self) -> float | None:
        """The lowest value where failures are more likely than passes (isotonic fit)."""
        return crossing(self.counts)

    def index_of(self, value: float) -> int:
        if value >= self.maximum:
            return self.steps
        return round((value - self.minimum) / self.resolution)

    @property
    def history(self) -> list[tuple[float, bool]]:
        return [(r.value, r.passed) for r in self.records]

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
        if stage in ("reconfirm", "refine", "secure"):
            return self._reconfirm
        return None

    def record(self, passed: bool, metrics: Mapping[str, float] | None = None) -> None:
        """The verdict (and the metrics) of the probe at ``next_value()``."""
        value = self.next_value()
        if value is None:
            raise ValueError("the search is done: nothing to record")
        self.records.append(ProbeRecord(value, passed, dict(metrics or {})))
        stage = self.stage
        if stage == "upper":
            if passed:
                self.stage = "confirm_max"
            else:
                self._after_bisect_step()
        elif stage == "confirm_max":
            if passed:
                self._finish()
            else:  # the maximum is not repeatable: search below it
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
        elif stage == "recheck_min":
            if passed:
                self.stage = "confirm_high"
            else:
                self._finish()
        elif stage == "secure":
            self._finish()
        else:  # confirm_high, refine
            self._next_refine()

    def _after_bisect_step(self) -> None:
        if self._hi - self._lo > 1:
            detail = self._bracket_within_noise()
            if detail is None:
                self.stage = "bisect"
                return
            self.stopped_by = "noise"
            self.stop_note = (
                f"bisection stopped at [{format_value(self.value_at(self._lo))}, "
                f"{format_value(self.value_at(self._hi))}]: the probes either side are the "
                f"same within noise ({detail})"
            )
        else:
            self.stopped_by = "resolution"
            self.stop_note = (
                f"bisection stopped at [{format_value(self.value_at(self._lo))}, "
                f"{format_value(self.value_at(self._hi))}]: one resolution step "
                f"({format_value(self.resolution)}) apart"
            )
        self.stage = "recheck_min" if self._hi == self._lo else "confirm_low"

    def _bracket_within_noise(self) -> str | None:
        if not self._lo_measured:  # the minimum is only assumed to pass
            return None
        low = self._latest(self.value_at(self._lo))
        high = self._latest(self.value_at(self._hi))
        if low is None or high is None:
            return None
        return self.within_noise(low.metrics, high.metrics)

    def _latest(self, value: float, passed: bool | None = None) -> ProbeRecord | None:
        found = [r for r in self.records if r.value == value and passed in (None, r.passed)]
        return found[-1] if found else None

    def cv(self, metric: str) -> float:
        """The noise of ``metric``: the baseline's CV or the spread of re-measured values."""
        spreads = [self.noise.get(metric, 0.0)]
        by_value: dict[float, list[float]] = {}
        for r in self.records:
            if metric in r.metrics:
                by_value.setdefault(r.value, []).append(r.metrics[metric])
        for values in by_value.values():
            if len(values) >= 2:
                spreads.append(coefficient_of_variation(values) or 0.0)
        return max(spreads)

    def within_noise(self, a: Mapping[str, float], b: Mapping[str, float]) -> str | None:
        """Why two probes' threshold metrics are the same within noise; None when not."""
        details: list[str] = []
        noisy = False
        for metric in dict.fromkeys(t.metric for t in self.thresholds):
            x, y = a.get(metric), b.get(metric)
            if x is None or y is None:
                return None
            cv = self.cv(metric)
            band = noise_band(cv, x, y)
            if abs(x - y) > band:
                return None
            noisy = noisy or cv > 0
            details.append(
                f"{metric} {x:.4g} vs {y:.4g}: {abs(x - y):.3g} apart, band "
                f"{band:.3g} = {NOISE_Z * math.sqrt(2):.2f} x CV {cv:.1%}"
            )
        return "; ".join(details) if noisy else None

    def interval(self) -> tuple[float | None, float | None]:
        """(highest value that passed below every failure, lowest that failed above every pass).

        Each value counts by the majority of its probes; a tie counts for neither end. An
        end clear of the noise (``core/breaking/ends.py``) further out replaces it.
        """
        low, high = majority_interval(self.counts)
        safe_low, safe_high = secure_interval(self.sides())
        if safe_low is not None and (low is None or safe_low < low):
            low = safe_low
        if safe_high is not None and (high is None or safe_high > high):
            high = safe_high
        return low, high

    def sides(self) -> dict[float, Side | None]:
        """Each probed value's side of the thresholds, when clear of the noise."""
        probes: dict[float, list[Mapping[str, float]]] = {}
        for r in self.records:
            probes.setdefault(r.value, []).append(r.metrics)
        return secure_sides(probes, self.counts, self.thresholds, self.cv)

    def _next_refine(self) -> None:
        """After the confirmations: re-open the bisection where verdicts disagree, if any."""
        if not non_monotonic_pairs(self.history):
            self._finish()  # every value held: the confirmed interval stands
            return
        if not self._grown:
            low, high = majority_interval(self.counts)
            lo_k = 0 if low is None else self.index_of(low)
            hi_k = self.steps if high is None else self.index_of(high)
            base = self.bound
            self._grown = refine_extra(max(hi_k - lo_k, 1))
            shown = format_value
            self.bound_note = (
                f"probe bound raised from {base} to {self.bound}: a re-check disagreed, so "
                f"the bisection re-opened in [{shown(self.value_at(lo_k))}, "
                f"{shown(self.value_at(hi_k))}] with contested values re-measured to a "
                f"{MAJORITY}-of-3 majority"
            )
        target = None
        if len(self.records) < self.bound:
            target = refine_target(
                self.counts,
                self.index_of,
                self.value_at,
                self.steps,
                lambda low, high: self._pair_within_noise(low, high) is None,
            )
        if target is None:
            self._finish()
            return
        self._reconfirm, self.stage = target, "refine"

    def _finish(self) -> None:
        """Conclude, unless an end of a found boundary can still be secured (stage 5)."""
        outcome = self._conclude()
        target = None
        if outcome.verdict in ("found", "uncertain"):
            sides = self.sides()
            target = secure_target(sides, self.counts, self.index_of, self.value_at, self.steps)
        if target is not None and not self._securing:
            before = self.bound
            self._securing, self._grown = True, self._grown + SECURE_EXTRA
            said = f"{self.bound_note}; " if self.bound_note else ""
            self.bound_note = (
                f"{said}probe bound raised from {before} to {self.bound} to secure the "
                "interval's ends: each end's threshold metric clear of the limit by the noise"
            )
        if target is not None and len(self.records) < self.bound:
            self._reconfirm, self.stage = target, "secure"
            return
        self.stage = "done"
        self._outcome = outcome

    @property
    def done(self) -> bool:
        return self.stage == "done"

    @property
    def outcome(self) -> SearchOutcome:
        if self._outcome is None:
            raise ValueError("the search is not done yet")
        return self._outcome

    def _conclude(self) -> SearchOutcome:
        history = self.history
        shown = format_value
        if all(ok for _, ok in history):
            return SearchOutcome(
                "passes_everywhere",
                None,
                self.maximum,
                True,
                f"passed at every probed value up to the maximum {shown(self.maximum)}: "
                "no breaking point in the range (a wider range needs --approve-expansion)",
                f"the maximum passed {tally(self.counts, self.maximum)} probes",
            )
        if not any(ok for _, ok in history):
            return SearchOutcome(
                "fails_everywhere",
                None,
                None,
                True,
                f"failed already at the minimum {shown(self.minimum)}: no passing value "
                "in the range, so no breaking point is claimed",
                f"the minimum failed {tally(self.counts, self.minimum, True)} probes",
            )
        low, high = self.interval()
        counts = self.counts
        pairs = non_monotonic_pairs(history)
        unexplained = [  # majorities that contradict each other further apart than the noise
            (p, f)
            for p, f in non_monotonic_pairs(majority_history(self.counts))
            if self._pair_within_noise(p, f) is None
        ]
        if unexplained:
            listed = ", ".join(
                f"{shown(p)} passed but {shown(f)} failed" for p, f in unexplained[:3]
            )
            return SearchOutcome(
                "non_monotonic",
                high,
                low,
                False,
                f"non-monotonic: {listed}, further apart than the noise; the target does not "
                "fail steadily above one value, so the boundary is uncertain (re-run, or look "
                "for caching or warm-up)",
                self._confidence(low, high),
                bool(pairs),
            )
        widened = f"; widened: {disagreements(self.counts, pairs)}" if pairs else ""
        if low is None or high is None:
            end, other = (self.minimum, high) if low is None else (self.maximum, low)
            where = (
                f"at or {'below' if low is None else 'above'} {shown(other)}"
                if other is not None
                else "anywhere in the range"
            )
            return SearchOutcome(
                "uncertain",
                high,
                low,
                True,
                f"no clean boundary: the {'minimum' if low is None else 'maximum'} "
                f"{shown(end)} passed {tally(self.counts, end)} probes, so the boundary is {where}"
                f"{widened}",
                self._confidence(low, high),
                bool(pairs),
            )
        return SearchOutcome(
            "found",
            high,
            low,
            True,
            f"breaking point in [{shown(low)}, {shown(high)}]: {shown(low)} passed "
            f"{tally(counts, low)} probes and {shown(high)} failed {tally(counts, high, True)}"
            f"{widened}",
            self._confidence(low, high),
            bool(pairs),
        )

    def _pair_within_noise(self, passing: float, failing: float) -> str | None:
        good = self._latest(passing, True)
        bad = self._latest(failing, False)
        if good is None or bad is None:
            return None
        return self.within_noise(good.metrics, bad.metrics)

    def _confidence(self, low: float | None, high: float | None) -> str:
        notes = [self.stop_note, self.bound_note]
        return confidence(self.counts, self.sides(), low, high, notes)
