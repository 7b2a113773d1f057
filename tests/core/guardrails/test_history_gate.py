"""Bencher-style thresholds from a window of past results (core/guardrails/history_gate.py)."""

from __future__ import annotations

import math
import statistics

import pytest
from scipy import stats as sps

from perfinvest.core.guardrails.history_gate import MIN_POINTS, TrendPoint, judge, threshold, trend

WINDOW = [100.0, 102.0, 98.0, 101.0, 99.0]


def test_t_threshold_is_the_prediction_interval() -> None:
    limits = threshold(WINDOW, "t")
    assert limits is not None
    n, mean, s = len(WINDOW), statistics.fmean(WINDOW), statistics.stdev(WINDOW)
    half = sps.t.ppf(0.975, n - 1) * s * math.sqrt(1 + 1 / n)
    assert limits.lower == pytest.approx(mean - half)
    assert limits.upper == pytest.approx(mean + half)
    assert limits.points == n


def test_iqr_threshold_is_tukeys_fence() -> None:
    limits = threshold(WINDOW, "iqr", k=1.5)
    assert limits is not None
    q1, q3 = 99.0, 101.0  # numpy-style linear quartiles of the sorted window
    assert (limits.lower, limits.upper) == pytest.approx((q1 - 3.0, q3 + 3.0))
    wider = threshold(WINDOW, "iqr", k=3.0)
    assert wider is not None and wider.upper > limits.upper


def test_iqr_ignores_one_wild_point_the_t_model_does_not() -> None:
    wild = [*WINDOW, 400.0]
    t_limits, iqr_limits = threshold(wild, "t"), threshold(wild, "iqr")
    assert t_limits is not None and iqr_limits is not None
    assert judge(wild, 130.0, metric="m", direction="lower", model="t").status == "within"
    assert judge(wild, 130.0, metric="m", direction="lower", model="iqr").status == "breach"


@pytest.mark.parametrize(
    ("direction", "current", "status"),
    [
        ("lower", 120.0, "breach"),  # slower: bad
        ("lower", 80.0, "within"),  # much faster: an improvement, not a breach
        ("higher", 80.0, "breach"),  # less throughput: bad
        ("higher", 120.0, "within"),
        (None, 80.0, "breach"),  # no direction: either side
        (None, 100.0, "within"),
    ],
)
def test_direction_decides_which_side_gates(
    direction: str | None, current: float, status: str
) -> None:
    verdict = judge(WINDOW, current, metric="m", direction=direction, model="t")  # type: ignore[arg-type]
    assert verdict.status == status
    assert verdict.threshold is not None


@pytest.mark.parametrize("model", ["t", "iqr"])
def test_too_short_a_history_says_how_many_points_are_needed(model: str) -> None:
    short = WINDOW[: MIN_POINTS[model] - 1]
    verdict = judge(short, 500.0, metric="wall_ms", direction="lower", model=model)  # type: ignore[arg-type]
    assert verdict.status == "insufficient_history"
    assert verdict.needed == MIN_POINTS[model]
    assert f"at least {MIN_POINTS[model]}" in verdict.message
    assert judge([], 1.0, metric="m", direction="lower").status == "insufficient_history"


def test_an_exact_history_gates_exactly_with_the_noise_floor_off() -> None:
    counts = [7_127_043.0] * 4  # instruction counts of a deterministic program
    assert judge(counts, 7_127_043.0, metric="i", direction="lower").status == "within"
    one_more = judge(counts, 7_127_044.0, metric="i", direction="lower", noise_floor=0)
    assert one_more.status == "breach"


def test_bad_values_and_models_are_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        threshold([1.0, math.nan, 2.0], "t")
    with pytest.raises(ValueError, match="unknown history model"):
        threshold(WINDOW, "median")  # type: ignore[arg-type]


def test_trend_rows_carry_change_and_status_against_the_points_before() -> None:
    means = [100.0, 101.0, 99.0, 100.5, 140.0]
    points = [TrendPoint(f"v{i}", f"2026-01-0{i + 1}", m) for i, m in enumerate(means)]
    rows = trend(points, metric="m", direction="lower", window=10)
    assert [r.status for r in rows] == [
        "insufficient_history",
        "insufficient_history",
        "insufficient_history",
        "within",
        "breach",
    ]
    assert rows[0].change is None
    assert rows[1].change == pytest.approx(0.01)
    assert rows[4].change == pytest.approx(140.0 / 100.5 - 1)
    # the window is the last N points only: with 3, the breach row sees v1..v3
    narrow = trend(points, metric="m", direction="lower", window=3)
    assert narrow[4].limits is not None and narrow[4].limits.points == 3


def test_summary_key_finds_bare_and_scenario_metrics() -> None:
    from perfinvest.core.guardrails.history_gate import summary_key

    keys = ["p95_ms", "checkout:rps", "search:rps", "login:errors"]
    assert summary_key(keys, "p95_ms") == "p95_ms"
    assert summary_key(keys, "errors") == "login:errors"  # one scenario reports it
    assert summary_key(keys, "rps") is None  # two do: ambiguous without --scenario
    assert summary_key(keys, "rps", "search") == "search:rps"
    assert summary_key(keys, "rps", "cart") is None


def test_an_exact_window_is_widened_to_the_noise_floor_not_zero_width() -> None:
    from perfinvest.core.guardrails.history_gate import DEFAULT_NOISE_FLOOR, judge, threshold

    window = [1_000_000.0] * 5  # an instruction count: exact, zero spread
    one_more = judge(window, 1_000_001.0, metric="instructions", direction="lower")
    assert one_more.status == "within" and DEFAULT_NOISE_FLOOR == 0.001
    assert "noise floor ±0.10%" in one_more.threshold.formula  # type: ignore[union-attr]
    assert judge(window, 1_001_001.0, metric="instructions", direction="lower").breach
    exact = judge(window, 1_000_001.0, metric="instructions", direction="lower", noise_floor=0)
    assert exact.breach
    wide = threshold([100.0, 110.0, 90.0, 105.0], "t")
    assert wide is not None and "noise floor" not in wide.formula  # a real spread is kept
    with pytest.raises(ValueError, match="noise floor"):
        threshold(window, "t", noise_floor=1.5)
