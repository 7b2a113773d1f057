"""Detection of every fixture, explicit formats, aliases and the errors for the rest."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from perfinvest.adapters import formats
from perfinvest.adapters.formats import registry
from perfinvest.adapters.formats.base import FormatError

FIXTURE_FORMATS = {
    "perf_metrics.txt": "perf-metrics",
    "hyperfine.json": "hyperfine-json",
    "hyperfine_failing.json": "hyperfine-json",
    "k6_summary_export.json": "k6-summary",
    "k6_handle_summary.json": "k6-summary",
    "wrk.txt": "wrk",
    "wrk_errors.txt": "wrk",
    "pytest_benchmark.json": "pytest-benchmark-json",
    "gobench.txt": "go-bench",
    "gotest_json.jsonl": "go-test-json",
    "criterion.jsonl": "cargo-criterion-json",
    "locust_stats.csv": "locust-csv",
    "pyperf_timeit.json": "pyperf-json",
    "pyperf_suite.json": "pyperf-json",
}


def test_every_format_has_a_fixture() -> None:
    assert set(FIXTURE_FORMATS.values()) == set(registry.FORMATS)


@pytest.mark.parametrize(("name", "fmt"), sorted(FIXTURE_FORMATS.items()))
def test_detects_and_parses_every_fixture(
    name: str, fmt: str, fixture_text: Callable[[str], str]
) -> None:
    text = fixture_text(name)
    assert registry.detect(text) == fmt
    auto = registry.parse(text)
    assert auto == registry.parse(text, fmt)
    assert auto.format == fmt and auto.metrics
    # Parsers are specific: every other one refuses it, with a FormatError.
    for other, parser in registry.FORMATS.items():
        if other != fmt:
            with pytest.raises(FormatError):
                parser(text)


def test_package_exports() -> None:
    assert formats.parse is registry.parse
    assert formats.detect is registry.detect
    assert formats.FORMATS is registry.FORMATS


def test_aliases_and_case() -> None:
    text = "PERF_METRICS a=1\n"
    assert registry.parse(text, "perfmetrics").format == "perf-metrics"
    assert registry.parse(text, " PERF-Metrics ").format == "perf-metrics"
    for alias, name in registry.ALIASES.items():
        assert registry.resolve(alias) == name


def test_unknown_format_lists_the_known_ones() -> None:
    with pytest.raises(FormatError) as info:
        registry.parse("x", "jmeter")
    message = info.value.message
    assert message.startswith('format: unknown format "jmeter"; known formats: perf-metrics, ')
    for name in registry.FORMATS:
        assert name in message


@pytest.mark.parametrize("text", ["", "   \n", "hello\nworld\n", '{"a": 1}', "a,b\n1,2\n"])
def test_nothing_detected_says_what_was_tried_and_how_to_choose(text: str) -> None:
    assert registry.detect(text) is None
    with pytest.raises(FormatError) as info:
        registry.parse(text)
    message = info.value.message
    assert "tried perf-metrics, hyperfine-json" in message
    assert "--format" in message
    assert info.value.kind == "format"


def test_perf_metrics_lines_win_over_a_wrapped_tool(fixture_text: Callable[[str], str]) -> None:
    text = fixture_text("wrk.txt") + "PERF_METRICS p99_ms=4.96\n"
    assert registry.detect(text) == "perf-metrics"
    assert registry.parse(text, "wrk").format == "wrk"  # an explicit choice still reads wrk


def test_hyperfine_json_after_its_human_output(fixture_text: Callable[[str], str]) -> None:
    text = "Benchmark 1: sleep 0.01\n  Time (mean ± σ):  16.7 ms\n" + fixture_text("hyperfine.json")
    assert registry.detect(text) == "hyperfine-json"
