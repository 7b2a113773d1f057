"""Every breaking-point search keeps its own file, even when the clock did not move."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from perfinvest.app.breaking_point import _keep_search
from perfinvest.app.context import AppContext
from perfinvest.core.export_phases import search_time
from perfinvest.core.models import BreakingPointResult, Investigation
from perfinvest.store.paths import StatePaths

AT = datetime(2026, 12, 1, 10, 1, 0, 250_000, tzinfo=UTC)


def test_two_searches_at_one_instant_keep_two_files_in_order(tmp_path: Path) -> None:
    ctx = AppContext(tmp_path, False, StatePaths(tmp_path / "perf"), clock=lambda: AT)
    inv = Investigation.model_construct(id="perf-20261201-100000-0123abcd")
    first = BreakingPointResult(minimum=1, maximum=64, probes=[], last_passing=8)
    second = BreakingPointResult(minimum=1, maximum=64, probes=[], last_passing=16)
    _keep_search(ctx, inv, first)
    _keep_search(ctx, inv, second)
    files = sorted(ctx.paths.artifacts(inv.id).glob("breaking-point-*.json"))
    assert [p.name for p in files] == [
        "breaking-point-20261201T100100250000.json",
        "breaking-point-20261201T100100250001.json",
    ]
    kept = [BreakingPointResult.model_validate_json(p.read_text()) for p in files]
    assert kept == [first, second]  # the earlier one is kept, not overwritten
    assert [search_time(p.name) for p in files] == [AT, AT.replace(microsecond=250_001)]
    assert not list(files[0].parent.glob(".*"))  # no temporary file left behind


def test_older_second_stamps_still_read() -> None:
    assert search_time("artifacts/x/breaking-point-20261201T100100.json") == datetime(
        2026, 12, 1, 10, 1, tzinfo=UTC
    )
    assert search_time("artifacts/x/breaking-point-2026.json") is None
