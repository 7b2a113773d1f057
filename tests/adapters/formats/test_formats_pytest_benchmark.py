"""pytest-benchmark --benchmark-json with --benchmark-save-data samples."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from perfinvest.adapters.formats import pytest_benchmark
from perfinvest.adapters.formats.base import FormatError


def test_real_report(fixture_text: Callable[[str], str]) -> None:
    text = fixture_text("pytest_benchmark.json")
    raw = json.loads(text)["benchmarks"]
    result = pytest_benchmark.parse(text)
    assert result.format == "pytest-benchmark-json"
    assert result.scenarios == tuple(bench["fullname"] for bench in raw)
    for bench in raw:
        stats = bench["stats"]
        mean = result.get("mean_s", bench["fullname"])
        assert mean is not None
        assert (mean.value, mean.unit, mean.direction) == (stats["mean"], "s", "lower")
        assert mean.samples == tuple(stats["data"]) and len(mean.samples) == stats["rounds"]
        for stat in ("median", "min", "max", "stddev", "iqr", "q1", "q3"):
            other = result.get(f"{stat}_s", bench["fullname"])
            assert other is not None and other.value == stats[stat]
            assert other.samples == ()  # the samples are stored once, on mean_s
        ops = result.get("ops_per_s", bench["fullname"])
        assert ops is not None and (ops.value, ops.direction) == (stats["ops"], "higher")
    items = result.get("items", "test_fixture_bench.py::test_sum_range[1000]")
    assert items is not None and items.value == 1000  # extra_info


def test_without_saved_data_there_are_no_samples() -> None:
    doc = {"benchmarks": [{"name": "t", "stats": {"mean": 1.0, "min": 0.5}}]}
    result = pytest_benchmark.parse(json.dumps(doc))
    mean = result.get("mean_s", "t")
    assert mean is not None and mean.samples == ()


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"machine_info": {}, "benchmarks": []}, "benchmarks: expected at least one benchmark"),
        ({"benchmarks": [{"name": "t"}]}, "benchmarks[0].stats: expected a JSON object, got null"),
        (
            {"benchmarks": [{"name": "t", "stats": {"min": 1}}]},
            "benchmarks[0].stats.mean: expected a number",
        ),
        (
            {"benchmarks": [{"name": "t", "stats": {"mean": 1, "data": [1, "x"]}}]},
            'data[1]: expected a number, got "x"',
        ),
    ],
)
def test_errors(doc: object, message: str) -> None:
    with pytest.raises(FormatError) as info:
        pytest_benchmark.parse(json.dumps(doc))
    assert message in info.value.message
