"""go test -bench lines: standard and custom units, -count repeats as samples."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from perfinvest.adapters.formats import gobench
from perfinvest.adapters.formats.base import FormatError


def test_real_output(fixture_text: Callable[[str], str]) -> None:
    result = gobench.parse(fixture_text("gobench.txt"))
    assert result.format == "go-bench"
    assert result.scenarios == (
        "BenchmarkSum",
        "BenchmarkJoin",
        "BenchmarkSort/n=16",
        "BenchmarkSort/n=256",
    )
    time = result.get("time_per_op_ns", "BenchmarkSum")
    assert time is not None and (time.unit, time.direction) == ("ns", "lower")
    assert len(time.samples) == 3  # -count 3
    assert time.value == pytest.approx(sum(time.samples) / 3)
    join_mb = result.get("throughput_mb_per_s", "BenchmarkJoin")
    assert join_mb is not None and (join_mb.unit, join_mb.direction) == ("MB/s", "higher")
    allocs = result.get("allocs_per_op", "BenchmarkJoin")
    assert allocs is not None and allocs.value == 1
    items = result.get("items_per_s", "BenchmarkSort/n=256")
    assert items is not None and (items.unit, items.direction) == ("items/s", "higher")
    memory = result.get("bytes_per_op", "BenchmarkSort/n=256")
    assert memory is not None and (memory.value, memory.unit) == (2072, "bytes")


def test_procs_suffix_kept_when_several_cpu_values_and_packages_prefixed() -> None:
    text = (
        "pkg: a\nBenchmarkX-2  10  5 ns/op\nBenchmarkX-4  10  3 ns/op\n"
        "pkg: b\nBenchmarkX-4  10  7 ns/op  2.5 ns/item  9 widgets\n"
    )
    result = gobench.parse(text)
    assert result.scenarios == ("a.BenchmarkX-2", "a.BenchmarkX-4", "b.BenchmarkX")
    per_item = result.get("ns_per_item", "b.BenchmarkX")
    assert per_item is not None and per_item.direction == "lower"
    widgets = result.get("widgets", "b.BenchmarkX")
    assert widgets is not None and widgets.direction is None


def test_chatty_and_log_lines_are_ignored() -> None:
    text = "BenchmarkX-8\n    x_test.go:3: hello\nBenchmarkX-8  \t 100\t  12.5 ns/op\nPASS\nok  \tpkg\t0.1s\n"
    result = gobench.parse(text)
    metric = result.get("time_per_op_ns", "BenchmarkX")
    assert metric is not None and metric.value == 12.5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("PASS\n", 'go-bench: expected "BenchmarkName-P N value unit ..." result lines'),
        ("x\nBenchmarkX-8  100  12 ns/op  3\n", 'go-bench: line 2: expected "value unit" pairs'),
        (
            "BenchmarkX-8  100  fast ns/op\n",
            'go-bench: line 1: expected a number before unit "ns/op", got "fast"',
        ),
        ("BenchmarkX-8  100\n", 'line 1: expected "value unit" pairs'),
    ],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(FormatError) as info:
        gobench.parse(text)
    assert message in info.value.message
