"""The interval's ends clear of the noise (``core/breaking/ends.py``), and the coverage they buy."""

from __future__ import annotations

import numpy as np
import pytest

from perfinvest.core.breaking.ends import (
    secure_interval,
    secure_side,
    secure_target,
)
from perfinvest.core.breaking.search import Search
from perfinvest.core.breaking.thresholds import parse_thresholds

[P95] = parse_thresholds(["p95_ms>150"], ["p95_ms"])
[RPS] = parse_thresholds(["rps<100"], ["rps"])


def cv(value: float):
    return lambda metric: value


def test_a_pass_is_secure_only_clear_of_the_limit_by_the_noise() -> None:
    # 140 ms at 5 % noise, one probe: 10 ms under the limit against 1.28 x 7 ms
    assert secure_side([{"p95_ms": 140.0}], 1, 0, [P95], cv(0.05)) == "pass"
    assert secure_side([{"p95_ms": 145.0}], 1, 0, [P95], cv(0.05)) is None
    # four probes halve the standard error: 145 ms is clear then
    assert secure_side([{"p95_ms": 145.0}] * 4, 4, 0, [P95], cv(0.05)) == "pass"
    assert secure_side([{"p95_ms": 149.9}], 1, 0, [P95], cv(0.0)) == "pass"  # no noise
    assert secure_side([{"p95_ms": 170.0}], 0, 1, [P95], cv(0.05)) == "fail"
    assert secure_side([{"p95_ms": 155.0}], 0, 1, [P95], cv(0.05)) is None


def test_the_operator_sets_the_side_and_crashes_are_not_noise() -> None:
    assert secure_side([{"rps": 120.0}], 1, 0, [RPS], cv(0.05)) == "pass"
    assert secure_side([{"rps": 80.0}], 0, 1, [RPS], cv(0.05)) == "fail"
    assert secure_side([{}, {}], 0, 2, [P95], cv(0.05)) == "fail"  # no metrics: it crashed
    assert secure_side([{}], 1, 0, [P95], cv(0.05)) is None  # a pass must show its metric
    assert secure_side([{"p95_ms": 1.0}], 1, 1, [P95], cv(0.05)) is None  # a tie
    assert secure_side([], 2, 1, [], cv(0.05)) == "pass"  # exit codes only: the majority


def test_the_target_bisects_outward_from_an_insecure_end() -> None:
    counts = {1000.0: (1, 0), 4990.0: (1, 0), 5180.0: (0, 1), 20000.0: (0, 1)}
    sides = {1000.0: "pass", 4990.0: None, 5180.0: None, 20000.0: "fail"}
    assert secure_interval(sides) == (1000.0, 20000.0)

    def index_of(value: float) -> int:
        return round((value - 1000) / 190)

    def value_at(k: int) -> float:
        return 1000.0 + 190 * k

    # halfway between the secure 1000 (k 0) and the insecure pass 4990 (k 21)
    assert secure_target(sides, counts, index_of, value_at, 100) in (value_at(10), value_at(11))
    done = dict.fromkeys(sides, "pass") | {5180.0: "fail", 20000.0: "fail"}
    assert secure_target(done, counts, index_of, value_at, 100) is None


def _coverage(crossing: float, noise: float, trials: int, seed: int) -> tuple[float, float]:
    """Simulated searches of [1000, 20000] at 190 (``p95 = 150 x value / crossing``)."""
    rng = np.random.default_rng(seed)
    held, probes = 0, 0
    for _ in range(trials):
        slope = 150.0 / crossing
        base = [slope * 3000 * (1 + noise * float(z)) for z in rng.standard_normal(5)]
        search = Search(
            1000, 20000, 190, [P95], {"p95_ms": float(np.std(base, ddof=1) / np.mean(base))}
        )
        while (value := search.next_value()) is not None:
            p95 = slope * value * (1 + noise * float(rng.standard_normal()))
            search.record(p95 <= 150, {"p95_ms": p95})
        low = search.outcome.last_passing or 1000
        high = search.outcome.breaking_point or 20000
        held += low <= crossing <= high
        probes += len(search.records)
    return held / trials, probes / trials


@pytest.mark.parametrize(("crossing", "noise"), [(4990.0, 0.10), (4900.0, 0.10), (4990.0, 0.20)])
def test_the_interval_holds_the_true_crossing_at_least_93_percent(
    crossing: float, noise: float
) -> None:
    """Measured 0.955-0.985 over 1000 trials each (docs/statistics.md); 300 here, so the
    bound leaves two standard errors (about 0.024) below the lowest. The majority interval
    alone held it 0.89, 0.81 and 0.83 of the time: this fails without the secured ends."""
    coverage, probes = _coverage(crossing, noise, 300, seed=int(crossing) + int(noise * 100))
    assert coverage >= 0.93, coverage
    assert probes <= 14, probes  # 9 for the bare search, 3 to secure the ends, on average
