"""cargo-criterion --message-format=json: benchmark-complete messages only."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from perfinvest.adapters.formats import criterion
from perfinvest.adapters.formats.base import FormatError


def test_documented_messages(fixture_text: Callable[[str], str]) -> None:
    text = fixture_text("criterion.jsonl")
    result = criterion.parse(text)
    assert result.format == "cargo-criterion-json"
    assert result.scenarios == ("fib/20", "parse/bytes")  # cargo and group messages skipped
    message = json.loads(text.splitlines()[2])
    typical = result.get("typical_ns", "fib/20")
    assert typical is not None
    assert (typical.value, typical.unit, typical.direction) == (16089.52, "ns", "lower")
    expected = tuple(
        v / n for v, n in zip(message["measured_values"], message["iteration_count"], strict=True)
    )
    mean = result.get("mean_ns", "fib/20")
    assert mean is not None and mean.samples == expected  # once, on the mean
    for name in ("typical_ns", "median_ns", "median_abs_dev_ns", "slope_ns"):
        other = result.get(name, "fib/20")
        assert other is not None and other.samples == (), name
    throughput = result.get("throughput_bytes_per_s", "parse/bytes")
    assert throughput is not None
    assert throughput.value == pytest.approx(1024 / 2151.87e-9)
    assert (throughput.unit, throughput.direction) == ("bytes/s", "higher")


def test_null_slope_is_skipped() -> None:
    message = {
        "reason": "benchmark-complete",
        "id": "x",
        "unit": "ns",
        "typical": {"estimate": 2.0, "unit": "ns"},
        "slope": None,
    }
    result = criterion.parse(json.dumps(message))
    assert result.get("slope_ns", "x") is None
    assert result.get("typical_ns", "x") is not None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"reason": "build-finished", "success": true}\n',
            'expected JSON lines with "reason": "benchmark-complete"',
        ),
        (
            '{"reason": "benchmark-complete",\n',
            "cargo-criterion-json: line 1: invalid JSON message",
        ),
        ('\n{"reason": "benchmark-complete", "id": 1}', "line 2: id: expected a string, got 1"),
        (
            '{"reason": "benchmark-complete", "id": "x", "typical": null}',
            "line 1: typical: expected an estimate object, got null",
        ),
        (
            '{"reason": "benchmark-complete", "id": "x", "typical": {"estimate": 1}, "measured_values": [1], "iteration_count": [0]}',
            "iteration_count: expected counts of at least 1",
        ),
        (
            '{"reason": "benchmark-complete", "id": "x", "typical": {"estimate": 1}, "measured_values": [1], "iteration_count": [1, 2]}',
            "iteration_count: expected 1 counts",
        ),
    ],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(FormatError) as info:
        criterion.parse(text)
    assert message in info.value.message
