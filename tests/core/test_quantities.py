"""Human rendering of measured values."""

from __future__ import annotations

import pytest

from perfinvest.core.quantities import format_quantity, format_spread, unit_problem


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (37995900.0, "bytes", "36.24 MiB"),
        (512.0, "bytes", "512 B"),
        (86.40081, "ms", "86.4 ms"),
        (0.000123, "s", "0.000123 s"),
        (24.0, "", "24"),
        (123456.7, "rps", "123,457 rps"),
        (1234.5, "rps", "1234 rps"),
        (float("nan"), "ms", "nan ms"),
    ],
)
def test_format_quantity(value: float, unit: str, shown: str) -> None:
    assert format_quantity(value, unit) == shown


def test_format_spread() -> None:
    assert format_spread(86.4, 0.4213, 85.9, 87.1, 24, "ms") == (
        "mean 86.4 ms ± 0.42 ms (min 85.9 ms, max 87.1 ms, n=24)"
    )
    assert format_spread(12, 0, 12, 12, 1, "") == "12"


@pytest.mark.parametrize("unit", ["", "ms", "µs", "requests/s", "MiB", "%", "ops/s (median)"])
def test_plain_units_pass(unit: str) -> None:
    assert unit_problem(unit) is None


@pytest.mark.parametrize(
    ("unit", "problem"),
    [
        ('<a href="https://x.invalid">ms</a>', "it holds markup character(s) < >"),
        ("ms&nbsp;", "it holds markup character(s) &"),
        ("ms\x1b[31m", "control or invisible character(s) ('\\x1b')"),
        ("ms\n", "control or invisible character(s) ('\\n')"),
        ("\u202ems", "control or invisible character(s) ('\\u202e')"),
        ("m" * 33, "it is 33 characters long, over 32"),
    ],
)
def test_markup_control_characters_and_long_units_are_refused(unit: str, problem: str) -> None:
    found = unit_problem(unit)
    assert found is not None and problem in found
