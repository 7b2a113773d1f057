"""The live line's rps: the requests completed in the last whole second, every second.

A real Locust run of a spike on a loopback server: Locust's own ``current_rps`` (ten
seconds ending two seconds ago) showed 33 rps at a spike peak of ~180.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from tests.support.server import Behaviour, serve

from perfinvest.adapters.load.engine import plan_document, run_locust
from perfinvest.core.load.profiles import plan
from perfinvest.core.load.targets import Profile, Route, Targets


@pytest.mark.slow
def test_the_live_rps_is_the_last_seconds_requests_and_shows_the_peak(tmp_path: Path) -> None:
    events: list[dict[str, Any]] = []
    with serve(Behaviour(routes={"/work": (0.05, 200)})) as url:
        targets = Targets(base_url=url, routes=[Route(name="work", path="/work")])
        # 1 user, then 10 (a peak of ~10x the rate) from 2.4 s to 4.8 s, then 1 again
        the_plan = plan("spike", Profile(), users=1, duration_s=8)
        document = plan_document(targets, the_plan, tmp_path, 10.0)
        engine = run_locust(document, the_plan, tmp_path / "out", on_progress=events.append)
    per_second: dict[int, int] = {}
    for entry in engine.dump["routes"].values():
        for second, count in entry["per_second"].items():
            per_second[int(second)] = per_second.get(int(second), 0) + int(count)
    assert len(events) >= 6  # a line every second
    peak = max(per_second.values())
    assert max(e["rps"] for e in events) >= 0.8 * peak  # the line shows the peak
    seconds = [e["rps_second"] for e in events]
    assert seconds == list(range(seconds[0], seconds[0] + len(seconds)))  # none skipped
    for event in events:  # exactly what completed in that second
        assert event["rps_lag_s"] == 1
        assert event["rps"] == per_second.get(event["rps_second"], 0), event
    low = min(per_second[s] for s in seconds[1:3])
    assert peak >= 4 * low  # a spike, seen as one


def test_off_a_terminal_the_line_is_written_every_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from perfinvest.cli.commands.load import _progress_line

    err = io.StringIO()  # not a terminal
    monkeypatch.setattr("sys.stderr", err)
    show = _progress_line()
    for t in range(7):
        show({"t": float(t), "users": 2, "rps": 10 * t, "rps_lag_s": 1, "p95_ms": 3})
    show({"t": 7.0, "users": 2, "rps": 5, "rps_lag_s": 5, "p95_ms": 3})
    lines = err.getvalue().splitlines()
    assert [line.split(" rps=")[1].split(" ")[0] for line in lines] == [
        *(str(10 * t) for t in range(7)),
        "5",
    ]
    assert lines[-1].startswith("perfinvest: load t=  7.0s") and "rps=5 (of 5 s ago)" in lines[-1]
