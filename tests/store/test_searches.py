"""Every breaking-point search keeps its own file, even when the clock did not move."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from perfinvest.core.export.phase_data import search_time
from perfinvest.core.models import BreakingPointResult
from perfinvest.store.searches import keep_search, read_searches

AT = datetime(2026, 12, 1, 10, 1, 0, 250_000, tzinfo=UTC)


def test_two_searches_at_one_instant_keep_two_files_in_order(tmp_path: Path) -> None:
    folder = tmp_path / "artifacts" / "perf-20261201-100000-0123abcd"
    first = BreakingPointResult(minimum=1, maximum=64, probes=[], last_passing=8)
    second = BreakingPointResult(minimum=1, maximum=64, probes=[], last_passing=16)
    keep_search(folder, first, AT)  # the clock did not move between the two
    keep_search(folder, second, AT)
    files = sorted(folder.glob("breaking-point-*.json"))
    assert [p.name for p in files] == [
        "breaking-point-20261201T100100250000.json",
        "breaking-point-20261201T100100250001.json",
    ]
    kept, unreadable = read_searches(folder)
    assert kept == list(zip(files, [first, second], strict=True))  # none overwritten
    assert unreadable == []
    assert [search_time(p.name) for p in files] == [AT, AT.replace(microsecond=250_001)]
    assert not list(folder.glob(".*"))  # no temporary file left behind
    files[0].write_text("{torn")
    kept, unreadable = read_searches(folder)
    assert [p for p, _ in kept] == [files[1]] and [p for p, _ in unreadable] == [files[0]]


def test_older_second_stamps_still_read() -> None:
    assert search_time("artifacts/x/breaking-point-20261201T100100.json") == datetime(
        2026, 12, 1, 10, 1, tzinfo=UTC
    )
    assert search_time("artifacts/x/breaking-point-2026.json") is None
