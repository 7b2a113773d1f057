"""Breaking-point search (pure): thresholds, the state machine, its probe bound."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from perfinvest.core.breaking.ends import END_Z
from perfinvest.core.breaking.noisy import majority_history, majority_interval, value_counts
from perfinvest.core.breaking.search import (
    RECONFIRM_LIMIT,
    ProbeRecord,
    Search,
    baseline_noise,
    default_resolution,
    format_value,
    noise_band,
    non_monotonic_pairs,
    probe_bound,
    probe_line,
    widens,
)
from perfinvest.core.breaking.thresholds import judge, parse_threshold, parse_thresholds
from perfinvest.core.errors import PerfError


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
    assert probe_bound(1, 500, 1) == math.ceil(math.log2(499)) + 3 + RECONFIRM_LIMIT == 14
    assert probe_bound(1, 500, 10) == math.ceil(math.log2(49.9)) + 3 + RECONFIRM_LIMIT
    assert probe_bound(5, 5, 1) == 3 + RECONFIRM_LIMIT


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


def test_disagreeing_recheck_widens_the_interval_instead_of_a_point() -> None:
    # the first failing value fails during the bisection but passes when re-measured
    search = Search(1, 500, 1)
    calls: dict[float, int] = {}

    def flaky(v: float) -> bool:
        calls[v] = calls.get(v, 0) + 1
        return v < 238 or (v == 238 and calls[v] > 1)

    probed = run(search, flaky)
    outcome = search.outcome
    assert outcome.verdict == "found" and outcome.widened and outcome.monotonic
    # 238 is contested: re-measured to a 2-of-3 majority (it passes), and the bisection
    # re-opened above it found the next value, decided by its own repeats
    assert probed.count(238) == 3 and search.counts[238] == (2, 1)
    assert (outcome.last_passing, outcome.breaking_point) == (238, 239)
    assert search.counts[239] == (0, 2)
    assert "re-check at 238 disagreed (passed 2 of 3)" in outcome.note
    assert "interval, not a point" in outcome.note
    assert "probe bound raised from 14 to" in outcome.confidence
    assert "238: 2 pass 1 fail" in outcome.confidence
    assert search.crossing == 239
    assert len(probed) <= search.bound


def test_failing_recheck_of_the_last_pass_widens_below_it() -> None:
    search = Search(1, 8, 1)
    seen: list[float] = []

    def first_pass_then_fail(v: float) -> bool:
        seen.append(v)
        if v == 4:  # passes once, fails when re-measured
            return seen.count(4) == 1
        return v < 4

    run(search, first_pass_then_fail)
    outcome = search.outcome
    assert non_monotonic_pairs(search.history) == [(4, 4)]
    assert outcome.verdict == "found" and outcome.widened
    # 4 passed once and failed twice: by its majority it fails; 3 passes, decided
    assert (outcome.last_passing, outcome.breaking_point) == (3, 4)
    assert search.counts[4] == (1, 2) and search.counts[3][0] >= 2
    assert len(seen) <= search.bound


def test_widening_steps_one_noise_band_past_the_disagreement() -> None:
    [threshold] = parse_thresholds([P95], ["p95_ms"])

    def lucky_then_not(v: float, n: int) -> dict[str, float]:
        """5750 passes on its first measurement (luck), then fails: 172.5 ms."""
        return {"p95_ms": 149.0} if v == 5750 and n == 1 else linear(v)

    search = Search(1000, 20000, 190, [threshold], {"p95_ms": 0.10})
    probed = run_metrics(search, lucky_then_not)
    outcome = search.outcome
    # the only pass (5750) failed its re-check: 5750 fails by majority (1 of 3 passed) and
    # the bisection re-opened below it brackets the real crossing (150 ms at 5000), as
    # narrow as the 10 % noise lets it tell the ends apart
    assert probed[:3] == [20000, 10500, 5750] and outcome.widened
    assert search.counts[5750] == (1, 2)
    low, high = outcome.last_passing, outcome.breaking_point
    assert low is not None and high is not None and low < 5000 < high
    assert (low, high) == (4420, 5750)
    assert "re-check at 5750 disagreed" in outcome.note
    assert len(probed) <= search.bound


P95 = "p95_ms>150"


def linear(value: float, wobble: float = 0.0) -> dict[str, float]:
    """A target whose p95 grows with the value: 150 ms at 5000 (plus a fixed wobble)."""
    return {"p95_ms": 0.03 * value * (1 + wobble)}


def run_metrics(search: Search, metrics: Callable[[float, int], dict[str, float]]) -> list[float]:
    """Probe with metrics; the verdict is the threshold's, as the app judges it."""
    probed: list[float] = []
    while (value := search.next_value()) is not None:
        probed.append(value)
        m = metrics(value, probed.count(value))
        search.record(m["p95_ms"] <= 150, m)
    return probed


def test_default_resolution_is_one_percent_of_the_range() -> None:
    assert default_resolution(1000, 20000) == 190
    assert default_resolution(1, 100) == 1  # 0.99 rounded up to a whole step
    assert default_resolution(0, 1) == 1  # whole-number ends: a whole-number step
    assert default_resolution(0, 0.5) == 0.005
    assert default_resolution(1, 2.5) == 0.015
    assert default_resolution(10, 10) == 1
    # the range: 18 probes at resolution 1, now at most 12 with the stated default
    assert probe_bound(1000, 20000, default_resolution(1000, 20000)) == 7 + 3 + RECONFIRM_LIMIT


def test_bisection_stops_when_neighbouring_probes_are_within_noise() -> None:
    [threshold] = parse_thresholds([P95], ["p95_ms"])
    quiet = Search(1000, 20000, 190, [threshold], {"p95_ms": 0.0})
    quiet_probes = run_metrics(quiet, lambda v, n: linear(v))
    assert quiet.stopped_by == "resolution"
    noisy = Search(1000, 20000, 190, [threshold], {"p95_ms": 0.05})
    noisy_probes = run_metrics(noisy, lambda v, n: linear(v))
    assert noisy.stopped_by == "noise" and "same within noise" in noisy.stop_note
    # the probes the noise stop saved go to securing the ends (core/breaking/ends.py)
    assert len(noisy_probes) <= len(quiet_probes) <= quiet.bound
    low, high = noisy.outcome.last_passing, noisy.outcome.breaking_point
    assert low is not None and high is not None and low < 5000 < high
    # each end is clear of the limit by END_Z standard errors at 5 % noise (one probe)
    assert 0.03 * low * (1 + END_Z * 0.05) <= 150 <= 0.03 * high * (1 - END_Z * 0.05)
    assert "secure the interval's ends" in noisy.outcome.confidence
    assert (quiet.outcome.last_passing, quiet.outcome.breaking_point) == (4990, 5180)


def test_probe_level_spread_counts_as_noise_when_the_baseline_had_none() -> None:
    [threshold] = parse_thresholds([P95], ["p95_ms"])
    search = Search(1000, 20000, 190, [threshold], {})
    search.record(False, {"p95_ms": 600.0})
    assert search.cv("p95_ms") == 0
    search.records.append(ProbeRecord(20000, False, {"p95_ms": 660.0}))  # re-measured
    assert search.cv("p95_ms") == pytest.approx(0.0673, abs=1e-3)


def test_contradicting_majorities_are_non_monotonic() -> None:
    """A value passing by majority above one failing by majority, without metrics."""
    counts = value_counts([(5, False), (5, False), (7, True), (7, True), (7, False)])
    assert majority_history(counts) == [(5, False), (7, True)]
    assert non_monotonic_pairs(majority_history(counts)) == [(7, 5)]
    assert majority_interval(counts) == (None, None)
    search = Search(1, 8, 1)
    for value, passed in [(8, False), (4, True), (6, True), (7, False), (6, False)]:
        search.records.append(ProbeRecord(value, passed, {}))
    search.records.append(ProbeRecord(7, True, {}))
    search.records.append(ProbeRecord(7, True, {}))
    search.records.append(ProbeRecord(6, False, {}))
    search._finish()
    assert search.outcome.verdict == "non_monotonic" and not search.outcome.monotonic
    assert "7 passed but 6 failed" in search.outcome.note


def test_pass_above_a_failure_within_noise_widens_the_interval() -> None:
    [threshold] = parse_thresholds([P95], ["p95_ms"])

    def marginal(v: float, n: int) -> dict[str, float]:
        """Above 4990 the first measurement fails, the second lands just under the limit."""
        return {"p95_ms": 149.0} if v > 4990 and n > 1 else linear(v)

    search = Search(1000, 20000, 190, [threshold], {"p95_ms": 0.04})
    probed = run_metrics(search, marginal)
    outcome = search.outcome
    assert outcome.monotonic and outcome.widened, outcome
    # every value above 4990 passes when re-measured, but at 149 ms, within the noise of
    # the 150 ms limit: the majority passes are no secure end, so the interval reaches
    # down to a pass clear of the noise and holds every contested value
    assert "disagreed" in outcome.note and "probe bound raised" in outcome.confidence
    contested = [v for v, (p, f) in search.counts.items() if p and f]
    assert contested and outcome.last_passing is not None and outcome.breaking_point is not None
    assert outcome.last_passing < min(contested) and outcome.breaking_point > max(contested)
    assert 0.03 * outcome.last_passing * (1 + END_Z * 0.04) <= 150
    assert len(probed) <= search.bound


def test_baseline_noise_and_band() -> None:
    assert baseline_noise({"p95_ms": [100.0, 110.0], "one": [3.0]}) == {
        "p95_ms": pytest.approx(0.0673, abs=1e-3)
    }
    assert noise_band(0.05, 100, 120) == pytest.approx(2 * math.sqrt(2) * 0.05 * 120)


def test_probe_line_reads_pass_or_fail_with_the_value() -> None:
    [t] = parse_thresholds([P95], ["p95_ms", "requests"])
    line = probe_line(
        3, 8, "PERF_PARAM_VALUE", 5000, {"p95_ms": 142.06, "requests": 9}, (True, ""), [t]
    )
    assert line == "probe 3/8  PERF_PARAM_VALUE=5000  p95_ms=142.1  PASS"
    failed = probe_line(4, 8, "N", 6000, {"p95_ms": 180.0}, (False, "x"), [t], "bisect")
    assert failed == "probe 4/8  N=6000  p95_ms=180.0  FAIL (p95_ms>150)  [bisect]"
    crashed = probe_line(5, 8, "N", 7000, {}, (False, "exit code 3"), [t])
    assert crashed.endswith("FAIL (exit code 3)")
    assert probe_line(6, 8, "N", 1, {}, (None, "too short"), [t]).endswith("INVALID (too short)")


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


def test_a_maximum_that_fails_then_passes_is_uncertain_not_a_point() -> None:
    search = Search(1, 8, 1)
    seen: list[float] = []

    def flaky_maximum(v: float) -> bool:
        seen.append(v)
        return v < 8 or seen.count(8) > 1

    run(search, flaky_maximum)
    outcome = search.outcome
    assert outcome.verdict == "uncertain" and outcome.breaking_point is None
    # the maximum is contested: re-measured, it passes 2 of 3, so it is the last pass
    assert outcome.last_passing == 8 and search.counts[8] == (2, 1)
    assert "the maximum 8 passed 2 of 3 probes, so the boundary is at or above 8" in outcome.note


def test_a_result_stored_before_noise_awareness_still_loads() -> None:
    from perfinvest.core.models import BreakingPointResult

    old = {
        "parameter": "PERF_PARAM_VALUE",
        "minimum": 1,
        "maximum": 100,
        "resolution": 1.0,
        "breaking_point": 38,
        "last_passing": 37,
        "verdict": "found",
        "probes": [{"value": 100, "passed": False, "stage": "upper"}],
        "probe_bound": 10,
        "monotonic": True,
        "note": "breaking point 38: 37 passed (2 of 2 probes) and 38 failed (2 of 2)",
    }
    loaded = BreakingPointResult.model_validate(old)
    assert loaded.breaking_point == 38 and loaded.confidence == "" and not loaded.widened
    assert loaded.stopped_by is None and loaded.noise_cv == {}


def test_a_load_probe_with_failed_requests_is_judged_by_its_thresholds() -> None:
    """Locust exits 1 when requests failed; the probe's error_rate threshold decides."""
    from perfinvest.core.breaking.thresholds import classify_probe

    thresholds = parse_thresholds(["error_rate>0.05"], ["error_rate"])
    common = {"invalid_reason": None, "exit_code": 1, "thresholds": thresholds}
    few = classify_probe(
        **common, metrics={"error_rate": 0.01}, allow_no_metrics=False, load_errors="1% failed"
    )
    many = classify_probe(
        **common, metrics={"error_rate": 0.25}, allow_no_metrics=False, load_errors="25% failed"
    )
    crashed = classify_probe(**common, metrics={"error_rate": 0.0}, allow_no_metrics=False)
    assert few == (True, "within every threshold")
    assert many[0] is False and "error_rate" in many[1]
    assert crashed == (False, "exit code 1")
