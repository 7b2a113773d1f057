"""FormatError is a PerfError with one-line messages; ParseResult lookups."""

from __future__ import annotations

from perfinvest.adapters.formats.base import FormatError, ParsedMetric, ParseResult
from perfinvest.core.errors import ExitCode, PerfError


def test_format_error_is_a_perf_error_with_format_kind_and_exit_code() -> None:
    error = FormatError(
        "hyperfine-json", 'expected a JSON object with "results", got a list', line=3
    )
    assert isinstance(error, PerfError)
    assert error.code is ExitCode.BENCHMARK_FAILED
    assert error.kind == "format"
    assert (
        error.message == 'hyperfine-json: line 3: expected a JSON object with "results", got a list'
    )
    assert str(error) == error.message
    assert (error.format, error.line) == ("hyperfine-json", 3)


def test_format_error_without_line_and_always_one_line() -> None:
    error = FormatError("wrk", "expected a\nRequests/sec line\r\n" + "x" * 1000)
    assert error.message.startswith("wrk: expected a Requests/sec line ")
    assert "\n" not in error.message and "\r" not in error.message
    assert len(error.message) < 400


def test_parse_result_lookup_and_scenarios() -> None:
    a = ParsedMetric("p95_ms", 1.0, "ms", "lower")
    b = ParsedMetric("p95_ms", 2.0, "ms", "lower", scenario="x")
    result = ParseResult("perf-metrics", (a, b))
    assert result.get("p95_ms") is a
    assert result.get("p95_ms", "x") is b
    assert result.get("missing") is None
    assert result.scenarios == (None, "x")
