"""Tests for perfinvest.core.stats.verdicts: summaries, helpers, comparisons and verdicts."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from perfinvest.core.errors import ExitCode, PerfError
from perfinvest.core.stats.verdicts import (
    Comparison,
    Summary,
    coefficient_of_variation,
    compare,
    cv_exceeds,
    error_rate,
    summarize,
    throughput,
)

# ----------------------------------------------------------------------------- summarize


def test_summary_known_values_with_outlier() -> None:
    s = summarize([1, 2, 3, 4, 100])
    assert s.n == 5
    assert s.mean == 22.0
    # deviations -21 -20 -19 -18 78 -> squares sum 7610, / (n-1) = 1902.5
    assert s.stddev == pytest.approx(math.sqrt(1902.5))
    assert s.cv == pytest.approx(math.sqrt(1902.5) / 22)
    assert (s.min, s.max, s.median, s.p50) == (1.0, 100.0, 3.0, 3.0)
    assert s.mad == 1.0  # |x - 3| = 2 1 0 1 97 -> median 1
    # linear interpolation at rank (n-1)q: 3.6, 3.8, 3.96, 3.996 between 4 and 100
    assert s.p90 == pytest.approx(61.6)
    assert s.p95 == pytest.approx(80.8)
    assert s.p99 == pytest.approx(96.16)
    assert s.p999 == pytest.approx(99.616)
    assert s.outliers_tukey == [4]  # Q1=2, Q3=4, fences -1 and 7
    assert s.outliers_mad == [4]  # 97 / 1.4826 >> 3.5; 2 / 1.4826 = 1.35


def test_summary_known_values_textbook_set() -> None:
    s = summarize([2, 4, 4, 4, 5, 5, 7, 9])
    assert s.mean == 5.0
    assert s.stddev == pytest.approx(math.sqrt(32 / 7))
    assert s.cv == pytest.approx(math.sqrt(32 / 7) / 5)
    assert s.median == 4.5
    assert s.mad == 0.5
    assert s.outliers_tukey == [7]  # Q1=4, Q3=5.5, upper fence 7.75
    # |9-4.5|/(1.4826*0.5) = 6.07 > 3.5, but |2-4.5| and |7-4.5| give 3.37 < 3.5
    assert s.outliers_mad == [7]


def test_summary_single_value() -> None:
    s = summarize([7.0])
    assert (s.n, s.mean, s.stddev, s.cv, s.mad) == (1, 7.0, 0.0, 0.0, 0.0)
    assert s.p50 == s.p999 == s.min == s.max == 7.0
    assert s.outliers_tukey == s.outliers_mad == []


def test_summary_zero_mad_reports_no_mad_outliers_but_tukey_still_works() -> None:
    s = summarize([5, 5, 5, 5, 9])
    assert s.mad == 0.0
    assert s.outliers_mad == []
    assert s.outliers_tukey == [4]  # IQR 0: anything off the plateau is outside


def test_summary_zero_mean_has_no_cv() -> None:
    s = summarize([-1.0, 1.0])
    assert s.mean == 0.0
    assert s.cv is None
    assert s.stddev == pytest.approx(math.sqrt(2))


def test_summary_mean_of_identical_values_is_that_value() -> None:
    s = summarize([0.1, 0.1, 0.1])  # naive sum / 3 gives 0.10000000000000002
    assert s.mean == 0.1
    assert s.stddev == 0.0


def test_summary_is_frozen_and_strict() -> None:
    s = summarize([1.0, 2.0])
    with pytest.raises(ValidationError):
        s.n = 3  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Summary(**s.model_dump(), extra_field=1)  # type: ignore[call-arg]


def test_summary_refuses_empty() -> None:
    with pytest.raises(PerfError) as info:
        summarize([])
    assert info.value.code == ExitCode.BENCHMARK_FAILED
    assert "no samples" in info.value.message


def test_summary_refuses_non_numbers() -> None:
    with pytest.raises(PerfError) as info:
        summarize([1.0, "fast"])  # type: ignore[list-item]
    assert info.value.code == ExitCode.USAGE


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_summary_refuses_non_finite(bad: float) -> None:
    with pytest.raises(PerfError) as info:
        summarize([1.0, bad, 2.0])
    assert "#1" in info.value.message


finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(finite, min_size=1, max_size=60))
def test_summary_properties(values: list[float]) -> None:
    s = summarize(values)
    assert s.n == len(values)
    assert s.min <= s.p50 <= s.p90 <= s.p95 <= s.p99 <= s.p999 <= s.max
    assert s.min <= s.mean <= s.max
    assert s.median == s.p50
    assert s.stddev >= 0
    assert s.mad >= 0
    for idx in (s.outliers_tukey, s.outliers_mad):
        assert idx == sorted(set(idx))
        assert all(0 <= i < len(values) for i in idx)
    if s.mad == 0:
        assert s.outliers_mad == []


# ----------------------------------------------------------------------------- helpers


def test_throughput() -> None:
    assert throughput(100, 2.0) == 50.0
    assert throughput(0, 5.0) == 0.0
    for seconds in (0.0, -1.0):
        with pytest.raises(PerfError):
            throughput(10, seconds)
    with pytest.raises(PerfError):
        throughput(-1, 1.0)
    with pytest.raises(PerfError):
        throughput(math.nan, 1.0)


def test_error_rate() -> None:
    assert error_rate(1, 4) == 0.25
    assert error_rate(0, 10) == 0.0
    assert error_rate(0, 0) is None  # nothing ran: undefined, not error-free
    with pytest.raises(PerfError):
        error_rate(5, 4)
    with pytest.raises(PerfError):
        error_rate(-1, 4)


def test_cv_exceeds() -> None:
    assert cv_exceeds([100.0, 100.0, 100.0]) is False
    assert cv_exceeds([90.0, 110.0]) is True  # CV 14 %
    assert cv_exceeds([100.0, 104.0]) is False  # CV 2.77 %
    assert cv_exceeds([100.0, 104.0], threshold=0.02) is True
    assert cv_exceeds([100.0]) is False  # one run cannot show variation
    assert cv_exceeds([-1.0, 1.0]) is True  # zero mean, non-zero spread
    assert cv_exceeds([0.0, 0.0]) is False
    with pytest.raises(PerfError):
        cv_exceeds([])
    with pytest.raises(PerfError):
        cv_exceeds([1.0, math.nan])
    with pytest.raises(PerfError):
        cv_exceeds([1.0, 2.0], threshold=-0.1)


# ----------------------------------------------------------------------------- compare


def _runs(rng: np.random.Generator, mean: float, cv: float, n: int = 3) -> list[float]:
    return [float(v) for v in mean * (1 + cv * rng.standard_normal(n))]


def test_identical_runs_are_unchanged() -> None:
    runs = [100.0, 100.4, 99.7]
    c = compare("latency_ms", "lower", runs, runs)
    assert c.verdict == "unchanged"
    assert c.relative_change == 0.0
    assert c.ci_low is not None and c.ci_high is not None
    assert -c.threshold < c.ci_low <= 0.0 <= c.ci_high < c.threshold
    assert c.p_welch == pytest.approx(1.0)
    assert c.threshold == 0.02
    assert c.noise == pytest.approx(summarize(runs).cv)
    assert c.basis == "runs"


def test_aa_never_improves_or_regresses() -> None:
    rng = np.random.default_rng(7)
    verdicts = [
        compare("m", "lower", _runs(rng, 100, 0.003), _runs(rng, 100, 0.003), seed=i).verdict
        for i in range(100)
    ]
    assert "improved" not in verdicts
    assert "regressed" not in verdicts
    assert verdicts.count("unchanged") >= 95


def test_aa_with_run_noise_keeps_false_positives_near_alpha() -> None:
    rng = np.random.default_rng(11)
    verdicts = [
        compare("m", "higher", _runs(rng, 100, 0.03), _runs(rng, 100, 0.03), seed=i).verdict
        for i in range(200)
    ]
    false_positives = verdicts.count("improved") + verdicts.count("regressed")
    assert false_positives <= 16  # 8 %: alpha plus binomial slack over 200 trials


@pytest.mark.parametrize(
    ("direction", "factor", "expected"),
    [
        ("lower", 1.2, "regressed"),
        ("lower", 0.8, "improved"),
        ("higher", 1.2, "improved"),
        ("higher", 0.8, "regressed"),
    ],
)
def test_clear_20pct_shift_follows_direction(direction: str, factor: float, expected: str) -> None:
    rng = np.random.default_rng(3)
    base = _runs(rng, 100, 0.01)
    cand = _runs(rng, 100 * factor, 0.01)
    c = compare("m", direction, base, cand)  # type: ignore[arg-type]
    assert c.verdict == expected
    assert c.relative_change == pytest.approx(factor - 1, abs=0.03)
    assert c.ci_low is not None and c.ci_high is not None
    if factor > 1:
        assert c.ci_low > c.threshold
    else:
        assert c.ci_high < -c.threshold
    assert c.p_welch is not None and c.p_welch < 0.05
    assert expected in c.reason or direction in c.reason


def test_significant_but_below_threshold_is_unchanged() -> None:
    base = [100.0, 100.1, 99.9, 100.05, 99.95]
    cand = [v * 1.01 for v in base]  # a real 1 % shift, below the 2 % floor
    c = compare("m", "lower", base, cand)
    assert c.p_welch is not None and c.p_welch < 0.05
    assert c.relative_change == pytest.approx(0.01)
    assert c.verdict == "unchanged"


def test_two_runs_a_side_get_an_honestly_wide_interval() -> None:
    # Two runs a side: every bootstrap ratio of the runs is >= 110/104 - 1 = 5.8 %, so a
    # percentile bootstrap claimed a CI beyond the measured noise (4.96 %); Welch with
    # ~1.5 degrees of freedom gives p ~ 0.16, and Welch's interval agrees: it reaches
    # below zero (issue 21: the bootstrap of 2 runs covered 71 % where it claimed 95 %).
    c = compare("m", "lower", [100.0, 104.0], [110.0, 118.0])
    assert c.threshold == pytest.approx(math.sqrt(32) / 114)
    assert c.ci_low is not None and c.ci_high is not None
    assert c.ci_low < 0 < c.relative_change < c.ci_high  # type: ignore[operator]
    assert c.p_welch is not None and c.p_welch > 0.05
    assert c.verdict == "inconclusive" and "overlaps" in c.reason


def test_beyond_threshold_but_not_significant_is_inconclusive() -> None:
    # judged on samples (one run a side): the bootstrap CI of the samples' relative change
    # lies beyond the threshold but Mann-Whitney on 3 samples a side cannot reach p < 0.05
    c = compare("m", "lower", [], [], [100.0, 101.0, 102.0], [120.0, 121.0, 122.0])
    assert c.basis == "samples"
    assert c.ci_low is not None and c.ci_low > c.threshold
    assert c.p_mannwhitney is not None and c.p_mannwhitney >= 0.05
    assert c.verdict == "inconclusive" and "more runs are needed" in c.reason


def test_runs_interval_covers_the_true_change_at_its_level() -> None:
    """Coverage of the runs CI of the relative change: 3 runs a side, 3 % noise, 400 seeds."""
    rng = np.random.default_rng(2021)
    held = 0
    for _ in range(400):
        base = 100 * (1 + 0.03 * rng.standard_normal(3))
        cand = 110 * (1 + 0.03 * rng.standard_normal(3))
        c = compare("m", "lower", list(base), list(cand))
        assert c.ci_low is not None and c.ci_high is not None
        held += c.ci_low <= 0.10 <= c.ci_high
    assert 0.93 <= held / 400 <= 0.995


def test_threshold_follows_measured_noise() -> None:
    c = compare("m", "lower", [90.0, 100.0, 110.0], [91.0, 100.0, 109.0])
    assert c.noise == pytest.approx(0.1)  # baseline stddev 10 / mean 100
    assert c.threshold == pytest.approx(0.1)
    c2 = compare("m", "lower", [90.0, 100.0, 110.0], [91.0, 100.0, 109.0], min_threshold=0.25)
    assert c2.threshold == 0.25


def test_zero_variance_both_sides() -> None:
    same = compare("bytes", "lower", [100.0] * 3, [100.0] * 3)
    assert same.p_welch == 1.0
    assert same.verdict == "unchanged"
    diff = compare("bytes", "lower", [100.0] * 3, [120.0] * 3)
    assert diff.p_welch == 0.0
    assert diff.ci_low == pytest.approx(0.2)
    assert diff.ci_high == pytest.approx(0.2)
    assert diff.verdict == "regressed"


def test_falls_back_to_samples_with_mannwhitney_when_runs_are_too_few() -> None:
    rng = np.random.default_rng(5)
    b_samples = list(100 * (1 + 0.02 * rng.standard_normal(200)))
    c_samples = list(130 * (1 + 0.02 * rng.standard_normal(200)))
    c = compare("m", "lower", [100.0], [130.0], b_samples, c_samples)
    assert c.basis == "samples"
    assert c.p_welch is None
    assert c.p_mannwhitney is not None and c.p_mannwhitney < 1e-6
    assert c.verdict == "regressed"
    assert "samples" in c.reason


def test_mannwhitney_is_reported_but_welch_decides_with_runs() -> None:
    b_samples = [100.0, 101.0, 99.0, 100.5]
    c_samples = [100.2, 100.8, 99.5, 100.1]
    c = compare("m", "lower", [100.0, 100.2], [100.1, 100.3], b_samples, c_samples)
    assert c.basis == "runs"
    assert c.p_welch is not None
    assert c.p_mannwhitney is not None


def test_too_few_values_is_inconclusive() -> None:
    c = compare("m", "lower", [100.0], [150.0])
    assert c.basis == "none"
    assert c.verdict == "inconclusive"
    assert c.p_welch is None and c.p_mannwhitney is None
    assert c.ci_low is None and c.ci_high is None
    assert c.relative_change == pytest.approx(0.5)
    assert "Too few" in c.reason


def test_zero_baseline() -> None:
    zero = compare("errors", "lower", [0.0, 0.0], [0.0, 0.0])
    assert zero.relative_change == 0.0
    assert zero.verdict == "unchanged"
    grew = compare("errors", "lower", [0.0, 0.0], [1.0, 2.0])
    assert grew.relative_change is None
    assert grew.verdict == "inconclusive"
    assert "zero" in grew.reason


def test_bootstrap_is_deterministic_per_seed() -> None:
    base, cand = [100.0, 103.0, 98.0, 101.0], [104.0, 107.0, 101.0, 99.0]
    a = compare("m", "lower", [], [], base, cand, seed=42)  # samples: the bootstrap
    b = compare("m", "lower", [], [], base, cand, seed=42)
    other = compare("m", "lower", [], [], base, cand, seed=43)
    injected = compare("m", "lower", [], [], base, cand, seed=np.random.default_rng(42))
    assert a == b
    assert (a.ci_low, a.ci_high) != (other.ci_low, other.ci_high)
    assert (injected.ci_low, injected.ci_high) == (a.ci_low, a.ci_high)


def test_large_sample_bootstrap_is_chunked_and_deterministic() -> None:
    rng = np.random.default_rng(9)
    b = list(100 * (1 + 0.05 * rng.standard_normal(20_000)))
    c = list(100 * (1 + 0.05 * rng.standard_normal(20_000)))
    first = compare("m", "lower", [], [], b, c, n_boot=1000, seed=1)
    again = compare("m", "lower", [], [], b, c, n_boot=1000, seed=1)
    assert first.basis == "samples"
    assert first == again
    assert first.ci_low is not None and first.ci_high is not None
    assert first.ci_low < 0.0 < first.ci_high or abs(first.relative_change or 0) < 0.005


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"direction": "sideways"}, ExitCode.USAGE),
        ({"alpha": 0.0}, ExitCode.USAGE),
        ({"alpha": 1.0}, ExitCode.USAGE),
        ({"n_boot": 10}, ExitCode.USAGE),
        ({"min_threshold": -0.01}, ExitCode.USAGE),
        ({"baseline_runs": [1.0, math.nan]}, ExitCode.BENCHMARK_FAILED),
        ({"candidate_samples": [math.inf]}, ExitCode.BENCHMARK_FAILED),
        ({"baseline_runs": []}, ExitCode.BENCHMARK_FAILED),
    ],
)
def test_compare_refuses_bad_input(kwargs: dict[str, object], code: ExitCode) -> None:
    args: dict[str, object] = {
        "metric": "m",
        "direction": "lower",
        "baseline_runs": [1.0, 2.0],
        "candidate_runs": [1.0, 2.0],
    }
    args.update(kwargs)
    with pytest.raises(PerfError) as info:
        compare(**args)  # type: ignore[arg-type]
    assert info.value.code == code


def test_comparison_is_frozen() -> None:
    c = compare("m", "lower", [1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValidationError):
        c.verdict = "improved"  # type: ignore[misc]
    assert Comparison.model_validate(c.model_dump()) == c


positive = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)
run_lists = st.lists(positive, min_size=2, max_size=6)


@settings(max_examples=60, deadline=None)
@given(run_lists, st.floats(min_value=0.01, max_value=2.0))
def test_relative_change_sign_and_swap(base: list[float], k: float) -> None:
    cand = [v * (1 + k) for v in base]
    up = compare("m", "lower", base, cand, n_boot=200)
    down = compare("m", "lower", cand, base, n_boot=200)
    assert up.relative_change is not None and up.relative_change > 0
    assert up.relative_change == pytest.approx(k, rel=1e-9)
    assert down.relative_change is not None and down.relative_change < 0
    assert up.verdict != "improved"  # larger is worse for "lower"
    assert down.verdict != "regressed"


@settings(max_examples=60, deadline=None)
@given(run_lists, run_lists, st.integers(min_value=1, max_value=1000))
def test_direction_swap_mirrors_verdict(base: list[float], cand: list[float], seed: int) -> None:
    lower = compare("m", "lower", base, cand, n_boot=200, seed=seed)
    higher = compare("m", "higher", base, cand, n_boot=200, seed=seed)
    mirror = {
        "improved": "regressed",
        "regressed": "improved",
        "unchanged": "unchanged",
        "inconclusive": "inconclusive",
    }
    assert higher.verdict == mirror[lower.verdict]
    assert (higher.ci_low, higher.ci_high) == (lower.ci_low, lower.ci_high)


@settings(max_examples=60, deadline=None)
@given(run_lists, run_lists, st.integers(min_value=-8, max_value=8))
def test_verdict_is_scale_invariant(base: list[float], cand: list[float], power: int) -> None:
    scale = 2.0**power  # exact in binary floating point
    a = compare("m", "lower", base, cand, n_boot=200)
    b = compare("m", "lower", [v * scale for v in base], [v * scale for v in cand], n_boot=200)
    assert b.verdict == a.verdict
    assert b.relative_change == pytest.approx(a.relative_change)
    assert b.ci_low == pytest.approx(a.ci_low)
    assert b.ci_high == pytest.approx(a.ci_high)


@settings(max_examples=60, deadline=None)
@given(run_lists, run_lists)
def test_ci_contains_point_estimate_side_and_orders(base: list[float], cand: list[float]) -> None:
    c = compare("m", "lower", base, cand, n_boot=200)
    assert c.ci_low is not None and c.ci_high is not None
    assert c.ci_low <= c.ci_high
    assert c.threshold >= 0.02
    assert c.reason.endswith(".")
    if c.verdict in ("improved", "regressed"):
        assert c.p_welch is not None and c.p_welch < 0.05
        assert c.ci_low > c.threshold or c.ci_high < -c.threshold
    if c.verdict == "unchanged":
        assert -c.threshold < c.ci_low and c.ci_high < c.threshold


# ----------------------------------------------------------------------------- purity


def test_import_does_not_load_numpy_or_scipy() -> None:
    code = (
        "import sys, perfinvest.core.stats.verdicts; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'scipy')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


@given(
    st.lists(
        st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False),
        min_size=1,
        max_size=200,
    )
)
def test_pure_python_summary_agrees_with_numpy(values: list[float]) -> None:
    """summarize() avoids importing numpy; its percentiles must still be numpy's."""
    summary = summarize(values)
    expected = np.percentile(np.asarray(values), [50, 90, 95, 99, 99.9])
    assert [summary.p50, summary.p90, summary.p95, summary.p99, summary.p999] == [
        float(v) for v in expected
    ]
    assert summary.mad == float(np.percentile(np.abs(np.asarray(values) - summary.median), 50))


# --------------------------------------------------------------------------- F4: huge values


@pytest.mark.parametrize("big", [1e308, 9e307, 1.7976931348623157e308])
def test_huge_values_summarise_without_overflow(big: float) -> None:
    """``fsum([1e308, 1e308])`` and ``(1e308 - 0) ** 2`` overflow; the summary must not."""
    summary = summarize([big, big * 0.5, big])
    assert summary.max == big and summary.min == big * 0.5
    assert summary.mean == pytest.approx(big / 3 * 2.5)
    assert summary.stddev == pytest.approx(math.sqrt(3) / 6 * big)  # of (1, .5, 1) * big
    assert summary.cv == pytest.approx(summary.stddev / summary.mean)
    assert coefficient_of_variation([big, big]) == 0.0
    assert cv_exceeds([big, big * 0.5]) is True
    assert summarize([big, big]).mean == big  # identical values summarise to themselves


def test_huge_values_compare_like_small_ones() -> None:
    """Relative changes, CIs and p-values do not depend on the scale of the values."""
    small = compare("x", "lower", [1.0, 1.01, 0.99], [0.8, 0.81, 0.79], seed=3)
    huge = compare("x", "lower", [1e308, 1.01e308, 0.99e308], [8e307, 8.1e307, 7.9e307], seed=3)
    assert huge.verdict == small.verdict == "improved"
    assert huge.baseline_mean == pytest.approx(1e308)
    assert huge.relative_change == pytest.approx(small.relative_change)
    assert huge.p_welch == pytest.approx(small.p_welch)
    assert huge.ci_low == pytest.approx(small.ci_low) and huge.noise == pytest.approx(small.noise)


def test_spread_beyond_the_float_range_is_refused_as_a_benchmark_failure() -> None:
    with pytest.raises(PerfError) as info:
        summarize([-1.7e308, 1.7e308])
    assert info.value.code == ExitCode.BENCHMARK_FAILED
    assert "too far apart" in info.value.message


def test_large_sample_bootstrap_matches_resampling(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above 10,000 values the bootstrap mean is drawn from its normal limit: same CI."""
    from perfinvest.core.stats import verdicts as core_stats

    rng = np.random.default_rng(7)
    base = rng.lognormal(0.0, 0.5, 12_000)
    cand = rng.lognormal(0.03, 0.5, 12_000)
    fast = core_stats._bootstrap_ci(base, cand, 2000, 0.05, np.random.default_rng(1))
    monkeypatch.setattr(core_stats, "_EXACT_BOOT_MAX_N", 10**9)  # real resampling
    exact = core_stats._bootstrap_ci(base, cand, 2000, 0.05, np.random.default_rng(1))
    assert fast is not None and exact is not None
    assert fast[0] == pytest.approx(exact[0], abs=0.003)
    assert fast[1] == pytest.approx(exact[1], abs=0.003)
