"""Samples belong to the measured quantity, once: no format copies them onto statistics.

hyperfine, pytest-benchmark, pyperf and criterion once attached one sample list to every
time statistic (mean, median, min, max, stddev...), so a comparison on samples showed the
sample mean as ``max_s`` and stored the samples many times over (issue 10).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from perfinvest.adapters.formats import registry
from perfinvest.adapters.formats._helpers import mean

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "formats"

_FIXTURES = sorted(
    path.name
    for path in FIXTURES.iterdir()
    if path.suffix in {".json", ".jsonl", ".txt", ".csv"} and path.name != "README.md"
)


@pytest.mark.parametrize("name", _FIXTURES)
def test_each_sample_list_is_attached_once_to_a_metric_that_is_its_mean(
    name: str, fixture_text: Callable[[str], str]
) -> None:
    result = registry.parse(fixture_text(name))
    seen: dict[tuple[str | None, tuple[float, ...]], str] = {}
    for metric in result.metrics:
        if len(metric.samples) < 2 or len(set(metric.samples)) < 2:
            continue  # constant readings (error counts of 0) may coincide honestly
        key = (metric.scenario, metric.samples)
        assert key not in seen, f"{metric.name} shares {seen.get(key)}'s samples"
        seen[key] = metric.name
        if result.format != "cargo-criterion-json":  # the fixture was written by hand
            assert metric.value == pytest.approx(mean(metric.samples), rel=1e-9), metric.name
