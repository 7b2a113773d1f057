"""hyperfine --export-json: one metric set per command, times as samples."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from perfinvest.adapters.formats import hyperfine
from perfinvest.adapters.formats.base import FormatError


def test_real_export(fixture_text: Callable[[str], str]) -> None:
    text = fixture_text("hyperfine.json")
    raw = json.loads(text)["results"]
    result = hyperfine.parse(text)
    assert result.format == "hyperfine-json"
    assert result.scenarios == ("sleep 0.01", "sleep 0.02")
    for entry in raw:
        mean = result.get("mean_s", entry["command"])
        assert mean is not None
        assert (mean.value, mean.unit, mean.direction) == (entry["mean"], "s", "lower")
        assert mean.samples == tuple(entry["times"])
        for stat in ("stddev", "median", "min", "max", "user", "system"):
            metric = result.get(f"{stat}_s", entry["command"])
            assert metric is not None and metric.value == entry[stat]
            assert metric.samples == ()  # hyperfine's own statistic, not a copy of the times
        failed = result.get("failed_runs", entry["command"])
        assert failed is not None and failed.value == 0
        runs = result.get("runs", entry["command"])
        assert runs is not None and runs.value == len(entry["times"])


def test_single_failing_run_has_null_stddev_and_counts_failures(
    fixture_text: Callable[[str], str],
) -> None:
    result = hyperfine.parse(fixture_text("hyperfine_failing.json"))
    scenario = "sh -c 'sleep 0.01; exit 3'"
    assert result.get("stddev_s", scenario) is None  # hyperfine writes null for one run
    failed = result.get("failed_runs", scenario)
    assert failed is not None and failed.value == 1


def test_json_after_human_output_and_memory_usage() -> None:
    doc = {
        "results": [
            {
                "command": "x",
                "mean": 1.0,
                "times": [1.0, 1.0],
                "exit_codes": [0, None],
                "memory_usage_byte": [100, 300],
            }
        ]
    }
    text = "Benchmark 1: x\n  Time (mean ± σ): 1 s\n" + json.dumps(doc, indent=2)
    result = hyperfine.parse(text)
    rss = result.get("max_rss_bytes", "x")
    assert rss is not None and (rss.value, rss.samples) == (200.0, (100.0, 300.0))
    failed = result.get("failed_runs", "x")
    assert failed is not None and failed.value == 1  # null: killed by a signal


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "hyperfine-json: expected a JSON object, got empty output"),
        ("a\nb\n[1, 2]\n", 'hyperfine-json: line 1: expected a JSON object, got "a"'),
        (
            'x\n\n{"other": 1}\n',
            'hyperfine-json: line 3: expected a JSON object with "results", got an object with keys "other"',
        ),
        (
            '{"results": [\n{"command": "x",\n "mean": }]}',
            "hyperfine-json: line 3: invalid JSON: Expecting value",
        ),
        ('{"results": []}', "results: expected at least one benchmarked command"),
        (
            '{"results": [{"command": "x", "mean": "1"}]}',
            'results[0].mean: expected a number, got "1"',
        ),
        (
            '{"results": [{"command": 3, "mean": 1}]}',
            "results[0].command: expected a string, got 3",
        ),
        (
            '{"results": [{"command": "x", "mean": 1, "times": [true]}]}',
            "results[0].times[0]: expected a number, got true",
        ),
        (
            '{"results": [{"command": "x", "mean": 1e400}]}',
            "results[0].mean: expected a finite number, got inf",
        ),
    ],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(FormatError) as info:
        hyperfine.parse(text)
    assert message in info.value.message
