"""Memory size parsing (pure)."""

from __future__ import annotations

import pytest

from perfinvest.core.errors import PerfError
from perfinvest.core.sizes import format_size, parse_size


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("256MB", 256_000_000),
        ("1GiB", 1024**3),
        ("512m", 512 * 1024**2),
        ("1g", 1024**3),
        ("100", 100),
        ("64k", 65536),
        ("1.5GiB", int(1.5 * 1024**3)),
        (" 2 MiB ", 2 * 1024**2),
        ("10b", 10),
        ("1gb", 10**9),
    ],
)
def test_sizes_parse(text: str, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "1XB", "-5MB", "1.2.3G", "MB", "0", "0.1b", "1 G B"])
def test_bad_sizes_are_usage_errors_naming_the_forms(text: str) -> None:
    with pytest.raises(PerfError) as caught:
        parse_size(text)
    assert caught.value.code == 2
    assert "\n" not in caught.value.message
    assert repr(text) in caught.value.message


def test_format_size() -> None:
    assert format_size(256 * 1024**2) == "256 MiB"
    assert format_size(512) == "512 B"
    assert format_size(3 * 1024**3 // 2) == "1.5 GiB"
