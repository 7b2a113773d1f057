"""Ids and versions: well-formed, and never a way out of the state folder."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perfinvest.core.errors import ExitCode, PerfError
from perfinvest.core.ids import (
    ID_PATTERN,
    check_investigation_id,
    check_version,
    new_investigation_id,
)


def test_new_id_format() -> None:
    value = new_investigation_id(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), b"\xde\xad\xbe\xef")
    assert value == "perf-20260102-030405-deadbeef"
    assert check_investigation_id(value) == value


@pytest.mark.parametrize(
    "bad", ["..", "../x", "/abs", "perf-20260102-030405-DEADBEEF", "a\x00b", ""]
)
def test_bad_ids_are_usage_errors(bad: str) -> None:
    with pytest.raises(PerfError) as caught:
        check_investigation_id(bad)
    assert caught.value.code == ExitCode.USAGE


@pytest.mark.parametrize("good", ["v1", "1.2.3", "v1.4.0-rc.1", "main@abc123", "build_7+meta"])
def test_good_versions(good: str) -> None:
    assert check_version(good) == good


@pytest.mark.parametrize(
    "bad", ["", "..", "a..b", "../v1", "v1/x", "/v1", ".hidden", "a b", "v\x00"]
)
def test_bad_versions(bad: str) -> None:
    with pytest.raises(PerfError):
        check_version(bad)


@given(st.text(max_size=40))
def test_accepted_versions_are_plain_file_names(text: str) -> None:
    try:
        check_version(text)
    except PerfError:
        return
    assert "/" not in text and "\x00" not in text and ".." not in text and not text.startswith(".")
    assert not ID_PATTERN.match(text) or text.startswith("perf-")
