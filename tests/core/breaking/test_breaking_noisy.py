"""The re-opened (noisy) bisection, pure: majorities, the crossing, and seeded coverage.

The oracles are simulated pass/fail verdicts with a known boundary ``T``: either a coin at
``T`` (passes below, fails above, either at ``T``: the issue's flaky boundary) or a
logistic ramp whose failure probability is one half at ``T``. Over many seeds the test
counts how often the reported interval ``[last_passing, breaking_point]`` holds ``T``.
"""

from __future__ import annotations

import math
import random

import pytest

from perfinvest.core.breaking.grid import format_value
from perfinvest.core.breaking.noisy import (
    MAX_PER_VALUE,
    counts_line,
    crossing,
    decided,
    majority,
    majority_interval,
    refine_extra,
    refine_target,
    value_counts,
)
from perfinvest.core.breaking.search import Search


def test_majority_and_decided_follow_two_of_three() -> None:
    assert majority(2, 1) is True and majority(1, 2) is False and majority(1, 1) is None
    assert decided(2, 0) and decided(2, 1) and decided(1, 2) and decided(3, 2)
    assert not decided(1, 0) and not decided(1, 1) and not decided(2, 2)


def test_crossing_is_the_isotonic_half_way_value() -> None:
    # 32 fails 2 of 3, 33 passes 1 of 2 (a violator pooled with 32: 3 of 5 fail)
    counts = value_counts([(31, True), (31, True), (32, False), (32, True), (32, False)])
    assert crossing(counts) == 32
    counts = value_counts(
        [(30, True), (31, False), (31, True), (32, True), (33, False), (33, False)]
    )
    # 31 (1 of 2) and 32 (0 of 1) pool to 1 of 3: below one half; 33 fails 2 of 2
    assert crossing(counts) == 33
    assert crossing(value_counts([(1, True), (2, True)])) is None
    assert (
        counts_line(counts, format_value) == "30: 1 pass; 31: 1 pass 1 fail; 32: 1 pass; 33: 2 fail"
    )


def test_refine_target_re_measures_contested_values_first_then_bisects() -> None:
    def at(k: int) -> float:
        return 1.0 + k

    def index(v: float) -> int:
        return round(v - 1)

    counts = value_counts([(31, True), (31, True), (32, False), (32, True), (64, False)])
    assert majority_interval(counts) == (31, 64)
    assert refine_target(counts, index, at, 63) == 32  # the tie inside the bracket
    counts = value_counts([(31, True), (31, True), (40, True), (64, False)])
    assert refine_target(counts, index, at, 63) == 52  # bisect [40, 64]
    counts = value_counts([(31, True), (31, True), (32, False)])
    assert refine_target(counts, index, at, 63) == 32  # one step: the undecided end
    history = [(31, True), *[(32, b == 1) for b in (1, 0, 1, 0, 1)], (33, False), (33, False)]
    counts = value_counts(history)
    assert sum(counts[32]) == MAX_PER_VALUE and majority_interval(counts) == (32, 33)
    assert refine_target(counts, index, at, 63) is None  # one step, both ends decided
    assert refine_target(value_counts(history[:-2]), index, at, 63) == 64  # no fail yet
    assert refine_extra(33) == 6 + 4 + 4 and refine_extra(1) == 8


def test_the_issue_alternating_boundary_gives_a_tight_interval() -> None:
    """Passes below 32, fails above, alternates at 32: [31, 64] before this search."""
    for first_fails in (True, False):
        search = Search(1, 64, 1)
        seen = 0
        while (value := search.next_value()) is not None:
            if value == 32:
                seen += 1
            passed = value < 32 or (value == 32 and (seen % 2 == 0) == first_fails)
            search.record(passed)
        low, high = search.outcome.last_passing, search.outcome.breaking_point
        assert low is not None and high is not None
        assert 30 <= low <= 32 <= high <= 34 and high - low == 1, search.outcome
        assert len(search.records) <= search.bound
        assert search.outcome.widened and search.crossing in (32, 33)


def noisy_search(seed: int, spread: float) -> tuple[Search, int]:
    """One search against a random boundary T; spread 0 is a coin at T, else a logistic ramp."""
    rng = random.Random(seed)
    boundary = rng.randrange(10, 60)
    search = Search(1, 64, 1)
    while (value := search.next_value()) is not None:
        if spread == 0:
            p_fail = 0.0 if value < boundary else 1.0 if value > boundary else 0.5
        else:
            p_fail = 1 / (1 + math.exp(-(value - boundary) / spread))
        search.record(rng.random() >= p_fail)
    return search, boundary


@pytest.mark.parametrize(
    ("spread", "inside", "within_a_step"),
    # measured over 1000 seeds: 1.00/1.00, 0.947/1.00, 0.732/0.963
    [(0.0, 0.99, 0.99), (0.5, 0.90, 0.98), (1.0, 0.65, 0.93)],
)
def test_interval_holds_the_true_boundary_over_many_seeds(
    spread: float, inside: float, within_a_step: float
) -> None:
    trials = 400
    held = near = 0
    for seed in range(trials):
        search, boundary = noisy_search(seed, spread)
        outcome = search.outcome
        assert len(search.records) <= search.bound
        low = outcome.last_passing if outcome.last_passing is not None else 1
        high = outcome.breaking_point if outcome.breaking_point is not None else 64
        held += low <= boundary <= high
        near += low - 1 <= boundary <= high + 1
    assert held / trials >= inside
    assert near / trials >= within_a_step
