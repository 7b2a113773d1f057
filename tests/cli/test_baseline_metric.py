"""A mistyped primary metric costs one baseline run, not all of them (issue 15)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tests.conftest import START_ARGS


def test_mistyped_metric_stops_after_the_first_run_listing_what_was_reported(
    repo: Path, cli: Any
) -> None:
    args = list(START_ARGS)
    args[args.index("--metric") + 1] = "p59_ms"  # the bench reports p95_ms and requests
    assert cli(*args, "--no-checkpoint", "--json").code == 0
    began = time.monotonic()
    result = cli("baseline", "--runs", "3", "--duration", "1", "--no-checkpoint", "--json")
    elapsed = time.monotonic() - began
    assert result.code == 5, result.out
    message = result.json["error"]["message"]
    assert "'p59_ms'" in message and "p95_ms" in message and "requests" in message
    assert "first run" in message and "--metric" in message
    state = json.loads((repo / ".claude" / "perf" / "investigation.json").read_text())
    baseline = state["attempts"][-1]
    assert baseline["phase"] == "baseline" and baseline["outcome"] == "failed"
    assert len(baseline["evidence"]) == 1  # one run, not three
    assert elapsed < 3.0  # three 1-second runs take at least 3 s, however loaded
