"""The /perf plugin contract: PERF_METRICS lines and PERF_METRICS_START/END blocks."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from perfinvest.adapters.formats import perfmetrics
from perfinvest.adapters.formats.base import FormatError


def test_fixture_lines_and_block(fixture_text: Callable[[str], str]) -> None:
    result = perfmetrics.parse(fixture_text("perf_metrics.txt"))
    assert result.format == "perf-metrics"
    p95 = result.get("p95_ms")
    assert p95 is not None
    assert p95.samples == (12.4, 12.9, 12.1)
    assert p95.value == pytest.approx((12.4 + 12.9 + 12.1) / 3)
    assert (p95.unit, p95.direction, p95.scenario) == ("ms", "lower", None)
    rps = result.get("throughput_rps")
    assert rps is not None and (rps.unit, rps.direction) == ("rps", "higher")
    assert result.get("errors", "search") is not None
    # The block: top-level "scenario" names its flat metrics; nested objects are scenarios.
    p99 = result.get("p99_ms", "checkout")
    assert p99 is not None and (p99.value, p99.unit, p99.direction) == (25.3, "ms", "lower")
    latency = result.get("latency_ms", "checkout")
    assert latency is not None
    assert latency.samples == (11.8, 12.2, 12.6, 13.1)
    assert latency.value == pytest.approx(12.425)
    rss = result.get("peak_rss", "checkout")
    assert rss is not None and (rss.unit, rss.direction) == ("bytes", None)
    ratio = result.get("cache_hit_ratio", "search")
    assert ratio is not None and (ratio.value, ratio.direction) == (0.93, "higher")
    assert result.get("p99_ms", "search") is not None
    assert result.get("p95_ms", "search") is not None


def test_lines_anywhere_with_quoted_scenario() -> None:
    text = 'noise\n  PERF_METRICS mean_s=0.5 scenario="two words"\nmore\n'
    result = perfmetrics.parse(text)
    metric = result.get("mean_s", "two words")
    assert metric is not None and (metric.value, metric.unit, metric.direction) == (
        0.5,
        "s",
        "lower",
    )
    assert metric.samples == ()


def test_user_keys_are_kept_verbatim_and_units_inferred_from_suffix() -> None:
    result = perfmetrics.parse("PERF_METRICS Latency.P99=3 ops_per_s=9 cpu_pct=40 widgets=2\n")
    assert [m.name for m in result.metrics] == ["Latency.P99", "ops_per_s", "cpu_pct", "widgets"]
    units = {m.name: (m.unit, m.direction) for m in result.metrics}
    assert units == {
        "Latency.P99": ("", "lower"),
        "ops_per_s": ("/s", "higher"),
        "cpu_pct": ("%", None),
        "widgets": ("", None),
    }


def test_repeated_block_and_line_readings_become_samples() -> None:
    text = (
        'PERF_METRICS_START\n{"rps": {"value": 10, "unit": "rps"}}\nPERF_METRICS_END\n'
        "PERF_METRICS rps=20\n"
    )
    metric = perfmetrics.parse(text).get("rps")
    assert metric is not None
    assert (metric.value, metric.samples, metric.unit) == (15.0, (10.0, 20.0), "rps")


def test_block_metric_with_explicit_samples() -> None:
    text = 'PERF_METRICS_START\n{"t_ms": {"value": 2, "samples": [1, 2, 3]}}\nPERF_METRICS_END\n'
    metric = perfmetrics.parse(text).get("t_ms")
    assert metric is not None and (metric.value, metric.samples) == (2.0, (1.0, 2.0, 3.0))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "a\nPERF_METRICS_START\n{}\n",
            "perf-metrics: line 2: PERF_METRICS_START without PERF_METRICS_END",
        ),
        (
            "PERF_METRICS_END\n",
            "perf-metrics: line 1: PERF_METRICS_END without a PERF_METRICS_START",
        ),
        (
            "x\ny\nPERF_METRICS p95_ms=fast\n",
            'perf-metrics: line 3: p95_ms: expected a number, got "fast"',
        ),
        ("PERF_METRICS p95_ms=nan\n", 'perf-metrics: line 1: p95_ms: expected a number, got "nan"'),
        ("PERF_METRICS p95_ms\n", 'perf-metrics: line 1: expected key=value, got "p95_ms"'),
        ("PERF_METRICS scenario=x\n", "perf-metrics: line 1: expected at least one metric"),
        ("PERF_METRICS a=1 scenario='x\n", "perf-metrics: line 1: expected key=value pairs"),
        (
            'PERF_METRICS_START\n{"a": 1,\n "b": }\nPERF_METRICS_END\n',
            "perf-metrics: line 3: invalid JSON in the PERF_METRICS_START block",
        ),
        (
            'PERF_METRICS_START\n{"a": "12"}\nPERF_METRICS_END\n',
            'perf-metrics: line 2: a: expected a number, got "12"',
        ),
        (
            "PERF_METRICS_START\n[1]\nPERF_METRICS_END\n",
            "perf-metrics: line 1: expected a JSON object between",
        ),
        (
            'PERF_METRICS_START\n{"s": {"t": {"u": 1}}}\nPERF_METRICS_END\n',
            "perf-metrics: line 2: s.t: expected a metric (scenarios nest one level only)",
        ),
        (
            'PERF_METRICS_START\n{"a": {"value": 1, "direction": "up"}}\nPERF_METRICS_END\n',
            'a.direction: expected "lower" or "higher", got "up"',
        ),
        ("PERF_METRICS_START\nPERF_METRICS_START\n", "line 2: expected PERF_METRICS_END"),
        ("just some output\n", "expected a PERF_METRICS_START/PERF_METRICS_END block"),
    ],
)
def test_errors_name_the_line_and_the_expectation(text: str, message: str) -> None:
    with pytest.raises(FormatError) as info:
        perfmetrics.parse(text)
    assert message in info.value.message
    assert "\n" not in info.value.message


def test_conflicting_declared_units_are_refused() -> None:
    text = (
        'PERF_METRICS_START\n{"t": {"value": 1, "unit": "ms"}}\nPERF_METRICS_END\n'
        'PERF_METRICS_START\n{"t": {"value": 1, "unit": "s"}}\nPERF_METRICS_END\n'
    )
    with pytest.raises(FormatError, match="expected unit"):
        perfmetrics.parse(text)


def test_sniff_needs_a_marker_at_line_start() -> None:
    assert perfmetrics.sniff("x\nPERF_METRICS a=1\n")
    assert perfmetrics.sniff("PERF_METRICS_START\n{}\n")
    assert not perfmetrics.sniff("echo PERF_METRICS a=1\n")
    assert not perfmetrics.sniff("PERF_METRICS_FOO a=1\n")


def test_block_errors_point_at_the_key_line() -> None:
    text = 'log\nPERF_METRICS_START\n{\n  "a": 1,\n  "b": "fast"\n}\nPERF_METRICS_END\n'
    with pytest.raises(FormatError) as info:
        perfmetrics.parse(text)
    assert info.value.message == 'perf-metrics: line 5: b: expected a number, got "fast"'
