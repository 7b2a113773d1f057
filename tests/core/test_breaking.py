"""Breaking-point search (pure): thresholds, the state machine, its probe bound."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from perfinvest.core.breaking import Search, format_value, non_monotonic_pairs, probe_bound, widens
from perfinvest.core.errors import PerfError
from perfinvest.core.thresholds import judge, parse_threshold, parse_thresholds


def run(search: Search, passes: Callable[[float], bool]) -> list[float]:
    probed = []
    while (value := search.next_value()) is not None:
        probed.append(value)
        search.record(passes(value))
    return probed


def test_threshold_is_the_failure_condition() -> None:
    t = parse_threshold("p95_ms>150")
    assert (t.metric, t.op, t.limit) == ("p95_ms", ">", 150.0)
    assert t.crossed(150.5) and not t.crossed(150)
    assert parse_threshold(" error_rate >= 0.01 ").crossed(0.01)
    assert parse_threshold("rps<1e3").crossed(999)
    judged = judge([t, parse_threshold("error_rate>0.01")], {"p95_ms": 180.0})
    assert judged.failed and judged.crossed == ("p95_ms=180 > 150",)
    assert judged.missing == ("error_rate",)
    assert not judge([t], {"p95_ms": 100.0}).failed


def test_bare_name_resolves_to_its_only_scenario() -> None:
    known = ["http://127.0.0.1:8080/:p90_ms", "a:p99_ms", "b:p99_ms"]
    [t] = parse_thresholds(["p90_ms>45"], known)
    assert t.metric == "http://127.0.0.1:8080/:p90_ms"
    with pytest.raises(PerfError, match="unknown metric"):
        parse_thresholds(["p99_ms>5"], known)  # two scenarios: ambiguous, name it fully
    assert parse_thresholds(["a:p99_ms>5"], known)[0].metric == "a:p99_ms"


@pytest.mark.parametrize("text", ["p95_ms", "p95_ms=>150", ">150", "p95_ms>abc", "p95 ms>1", ""])
def test_bad_threshold_expressions(text: str) -> None:
    with pytest.raises(PerfError) as caught:
        parse_threshold(text)
    assert caught.value.code == 2 and "METRIC OP NUMBER" in caught.value.message


def test_unknown_threshold_metric_names_what_is_known() -> None:
    with pytest.raises(PerfError) as caught:
        parse_thresholds(["p99_ms>10", "p95_ms>5"], ["p95_ms", "requests"])
    assert caught.value.code == 2
    assert "p99_ms" in caught.value.message and "p95_ms, requests" in caught.value.message


@pytest.mark.parametrize(("lo", "hi", "res"), [(1, 500, 1), (0, 1, 0.1), (10, 10, 1), (1, 2, 1)])
def test_every_capacity_is_found_exactly_within_the_bound(lo: float, hi: float, res: float) -> None:
    bound = probe_bound(lo, hi, res)
    grid = sorted({Search(lo, hi, res).value_at(k) for k in range(0, 10_000)})
    for capacity in grid[1:]:  # the first failing value; below it everything passes
        search = Search(lo, hi, res)
        probed = run(search, lambda v, c=capacity: v < c)
        outcome = search.outcome
        assert outcome.verdict == "found", (capacity, outcome)
        assert outcome.breaking_point == capacity
        assert outcome.last_passing == grid[grid.index(capacity) - 1]
        assert len(probed) <= bound, (capacity, probed)
        assert probed.count(capacity) >= 2  # first failing value re-measured
        assert outcome.monotonic


def test_bound_formula() -> None:
    assert probe_bound(1, 500, 1) == math.ceil(math.log2(499)) + 3 == 12
    assert probe_bound(1, 500, 10) == math.ceil(math.log2(49.9)) + 3
    assert probe_bound(5, 5, 1) == 3


def test_passes_everywhere_invents_no_point() -> None:
    search = Search(1, 500, 1)
    probed = run(search, lambda v: True)
    assert probed == [500, 500]
    assert search.outcome.verdict == "passes_everywhere"
    assert search.outcome.breaking_point is None and search.outcome.last_passing == 500


def test_fails_everywhere_invents_no_point() -> None:
    search = Search(1, 500, 1)
    probed = run(search, lambda v: False)
    assert probed[-2:] == [1, 1] and len(probed) <= search.bound
    assert search.outcome.verdict == "fails_everywhere"
    assert search.outcome.breaking_point is None and search.outcome.last_passing is None


def test_non_monotonic_is_reported_not_hidden() -> None:
    # the first failing value fails during the bisection but passes when re-measured
    search = Search(1, 500, 1)
    calls: dict[float, int] = {}

    def flaky(v: float) -> bool:
        calls[v] = calls.get(v, 0) + 1
        return v < 238 or (v == 238 and calls[v] > 1)

    probed = run(search, flaky)
    outcome = search.outcome
    assert outcome.verdict == "non_monotonic" and not outcome.monotonic
    assert "238 passed but 238 failed" in outcome.note
    assert len(probed) <= search.bound


def test_contradicting_remeasurement_is_non_monotonic() -> None:
    search = Search(1, 8, 1)
    seen: list[float] = []

    def first_pass_then_fail(v: float) -> bool:
        seen.append(v)
        if v == 4:  # passes once, fails when re-measured
            return seen.count(4) == 1
        return v < 4

    run(search, first_pass_then_fail)
    assert search.outcome.verdict == "non_monotonic"
    assert non_monotonic_pairs(search.history) == [(4, 4)]


def test_range_errors() -> None:
    for args in ((5, 1, 1), (1, 5, 0), (1, 5, -1), (1, math.inf, 1)):
        with pytest.raises(PerfError) as caught:
            Search(*args)
        assert caught.value.code == 2
    with pytest.raises(PerfError, match="above --max"):
        Search(500, 1, 1)


def test_helpers() -> None:
    assert format_value(237.0) == "237" and format_value(0.25) == "0.25"
    assert widens((1, 500), (1, 600)) and widens((1, 500), (0, 500))
    assert not widens((1, 500), (100, 300))
