"""pyperf JSON: suites, one-benchmark suites with hoisted metadata, lone benchmarks."""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable

import pytest

from perfinvest.adapters.formats import pyperf
from perfinvest.adapters.formats.base import FormatError


def _values(bench: dict[str, object]) -> list[float]:
    runs = bench["runs"]
    assert isinstance(runs, list)
    return [value for run in runs for value in run.get("values", [])]


def test_suite_of_two(fixture_text: Callable[[str], str]) -> None:
    text = fixture_text("pyperf_suite.json")
    raw = json.loads(text)
    result = pyperf.parse(text)
    assert result.format == "pyperf-json"
    assert result.scenarios == ("sum_range_100", "sorted_list_200")
    for bench in raw["benchmarks"]:
        values = _values(bench)
        mean = result.get("mean_s", bench["metadata"]["name"])
        assert mean is not None
        assert mean.samples == tuple(values)  # calibration runs and warmups left out
        assert mean.value == pytest.approx(statistics.fmean(values))
        assert (mean.unit, mean.direction) == ("s", "lower")
        stdev = result.get("stddev_s", bench["metadata"]["name"])
        assert stdev is not None and stdev.value == pytest.approx(statistics.stdev(values))
        for stat in ("median", "min", "max", "stddev"):
            other = result.get(f"{stat}_s", bench["metadata"]["name"])
            assert other is not None and other.samples == ()  # samples once, on mean_s


def test_timeit_with_name_hoisted_to_top_level_metadata(fixture_text: Callable[[str], str]) -> None:
    text = fixture_text("pyperf_timeit.json")
    raw = json.loads(text)
    assert "name" in raw["metadata"]  # what pyperf does with a single benchmark
    result = pyperf.parse(text)
    assert result.scenarios == ("timeit",)
    median = result.get("median_s", "timeit")
    assert median is not None
    assert median.value == pytest.approx(statistics.median(_values(raw["benchmarks"][0])))


def test_top_level_single_benchmark_forms() -> None:
    bench = {"metadata": {"name": "mem", "unit": "byte"}, "runs": [{"values": [10, 30]}]}
    for doc in (bench, {"version": "1.0", "benchmark": bench}):
        result = pyperf.parse(json.dumps(doc))
        mean = result.get("mean_bytes", "mem")
        assert mean is not None and (mean.value, mean.unit, mean.direction) == (
            20.0,
            "bytes",
            "lower",
        )
    counts = pyperf.parse(json.dumps({"metadata": {"unit": "integer"}, "runs": [{"values": [3]}]}))
    value = counts.get("mean", "benchmark 1")
    assert value is not None and (value.unit, value.direction) == ("", None)
    assert counts.get("stddev", "benchmark 1") is None  # one value: no spread


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"benchmarks": []}, "benchmarks: expected at least one benchmark"),
        ({"other": 1}, 'expected a pyperf JSON object with "benchmarks" or "runs"'),
        (
            {"runs": [{"warmups": [[1, 0.5]]}]},
            "runs: expected runs with values (only calibration runs found)",
        ),
        ({"runs": [{"values": ["x"]}]}, 'runs[0].values[0]: expected a number, got "x"'),
        ({"benchmarks": [{"runs": 3}]}, "benchmarks[0].runs: expected a list, got 3"),
        (
            {"metadata": {"unit": 5}, "runs": [{"values": [1]}]},
            "metadata.unit: expected a string, got 5",
        ),
        ({"runs": [{"values": [1.7e308, 1.7e308]}]}, "values too large to summarise"),
    ],
)
def test_errors(doc: object, message: str) -> None:
    with pytest.raises(FormatError) as info:
        pyperf.parse(json.dumps(doc))
    assert message in info.value.message
