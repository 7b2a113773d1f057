"""``status`` says when a dead holder of the benchmark lock left its benchmark running."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import START_ARGS

from perfinvest.adapters.hostlock import lock_path


def _holder(pid: int, pgid: int) -> str:
    return json.dumps(
        {
            "pid": pid,
            "investigation_id": "perf-20260101-000000-abcdef01",
            "repo": "/somewhere",
            "command": "baseline",
            "started_at": "2026-01-01T00:00:00+00:00",
            "host": "here",
            "run_token": "",
            "benchmark_pgid": pgid,
        }
    )


def test_status_names_a_dead_holders_live_benchmark(repo: Path, cli: Any) -> None:
    assert cli(*START_ARGS, "--json").code == 0
    dead = subprocess.Popen(["true"])
    dead.wait()
    sleeper = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        lock_path().write_text(_holder(dead.pid, sleeper.pid))
        result = cli("status", "--json")
        assert result.code == 0, result.out
        (note,) = [f for f in result.json["findings"] if "dead holder" in f]
        assert f"pid {dead.pid} " in note and f"process group {sleeper.pid}" in note
        assert "perfinvest recover" in note
        text = cli("status")
        assert "is still running" in text.out
    finally:
        sleeper.kill()
        sleeper.wait()
    result = cli("status", "--json")
    assert not [f for f in result.json["findings"] if "dead holder" in f]
