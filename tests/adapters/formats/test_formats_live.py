"""The parsers against output the real tools produce right now, on this machine.

The committed fixtures pin one version of each tool; these tests catch a newer version
changing its output. Each is skipped when its tool is not installed (CI installs them:
see tests/fixtures/formats/README.md). Servers are local (127.0.0.1) and runs bounded.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from perfinvest.adapters.formats import registry
from perfinvest.adapters.formats.base import ParseResult

pytestmark = pytest.mark.slow


def _generate(generator: ModuleType, fixture: str, work: Path, fmt: str) -> ParseResult:
    reason = generator.missing_tool(fixture)
    if reason:
        pytest.skip(reason)
    text = generator.GENERATORS[fixture](work)
    assert registry.detect(text) == fmt
    result = registry.parse(text)
    assert result.format == fmt
    return result


def test_hyperfine(generator: ModuleType, tmp_path: Path) -> None:
    result = _generate(generator, "hyperfine.json", tmp_path, "hyperfine-json")
    assert result.scenarios == ("sleep 0.01", "sleep 0.02")
    mean = result.get("mean_s", "sleep 0.01")
    assert mean is not None and len(mean.samples) == 5
    assert 0.005 < mean.value < 1.0
    for stat in ("median_s", "min_s", "max_s", "stddev_s"):
        other = result.get(stat, "sleep 0.01")
        assert other is not None and other.samples == ()  # samples once, on mean_s


def test_hyperfine_failing_command(generator: ModuleType, tmp_path: Path) -> None:
    result = _generate(generator, "hyperfine_failing.json", tmp_path, "hyperfine-json")
    (scenario,) = result.scenarios
    failed = result.get("failed_runs", scenario)
    assert failed is not None and failed.value == 1


def test_wrk(generator: ModuleType, tmp_path: Path) -> None:
    result = _generate(generator, "wrk.txt", tmp_path, "wrk")
    (scenario,) = result.scenarios
    rps = result.get("throughput_rps", scenario)
    assert rps is not None and rps.value > 0
    for name in ("mean_ms", "max_ms", "p50_ms", "p75_ms", "p90_ms", "p99_ms", "requests"):
        assert result.get(name, scenario) is not None, name
    errors = result.get("errors", scenario)
    assert errors is not None and errors.value == 0


def test_wrk_errors(generator: ModuleType, tmp_path: Path) -> None:
    result = _generate(generator, "wrk_errors.txt", tmp_path, "wrk")
    (scenario,) = result.scenarios
    non_2xx = result.get("errors_non_2xx_3xx", scenario)
    read = result.get("errors_read", scenario)
    assert non_2xx is not None and non_2xx.value > 0
    assert read is not None and read.value > 0


def test_pytest_benchmark(generator: ModuleType, tmp_path: Path) -> None:
    result = _generate(generator, "pytest_benchmark.json", tmp_path, "pytest-benchmark-json")
    assert len(result.scenarios) == 3
    for scenario in result.scenarios:
        mean = result.get("mean_s", scenario)
        assert mean is not None and len(mean.samples) == 6  # --benchmark-save-data


def test_pyperf_timeit(generator: ModuleType, tmp_path: Path) -> None:
    result = _generate(generator, "pyperf_timeit.json", tmp_path, "pyperf-json")
    mean = result.get("mean_s", "timeit")
    assert mean is not None and len(mean.samples) == 9  # 3 processes x 3 values


def test_pyperf_suite(generator: ModuleType, tmp_path: Path) -> None:
    result = _generate(generator, "pyperf_suite.json", tmp_path, "pyperf-json")
    assert result.scenarios == ("sum_range_100", "sorted_list_200")


def test_locust(generator: ModuleType, tmp_path: Path) -> None:
    result = _generate(generator, "locust_stats.csv", tmp_path, "locust-csv")
    assert set(result.scenarios) == {"GET /", "GET /missing", None}
    missing = result.get("error_rate", "GET /missing")
    assert missing is not None and missing.value == 1.0
    total = result.get("requests")
    assert total is not None and total.value > 0


def test_go(generator: ModuleType, tmp_path: Path) -> None:
    result = _generate(generator, "gobench.txt", tmp_path, "go-bench")
    assert result.scenarios == (
        "BenchmarkSum",
        "BenchmarkJoin",
        "BenchmarkSort/n=16",
        "BenchmarkSort/n=256",
    )
    items = result.get("items_per_s", "BenchmarkSort/n=16")
    assert items is not None and len(items.samples) == 3


def test_go_json(generator: ModuleType, tmp_path: Path) -> None:
    result = _generate(generator, "gotest_json.jsonl", tmp_path, "go-test-json")
    assert result.scenarios == (
        "BenchmarkSum",
        "BenchmarkJoin",
        "BenchmarkSort/n=16",
        "BenchmarkSort/n=256",
    )
    items = result.get("items_per_s", "BenchmarkSort/n=16")
    assert items is not None and len(items.samples) == 3


@pytest.mark.parametrize("fixture", ["k6_summary_export.json", "k6_handle_summary.json"])
def test_k6(fixture: str, generator: ModuleType, tmp_path: Path) -> None:
    result = _generate(generator, fixture, tmp_path, "k6-summary")
    assert set(result.failed_thresholds) == {
        "http_req_duration: avg<0.001",
        "http_req_failed: rate<0.01",
    }
    assert result.get("http_req_duration_p95_ms", "checkout") is not None
