"""F4 (issue 15): huge but finite readings (``p95_ms=1e308``) through the CLI.

``core/stats`` once crashed with ``OverflowError`` (exit 1) on them: summaries must be
overflow-safe, and a spread beyond the float range is refused like ``inf`` (exit 5)
with no baseline written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import SHORT, START_ARGS

HUGE_BENCH = """\
import os, time
time.sleep(float(os.environ["PERF_RUN_DURATION"]))
print("PERF_METRICS p95_ms={value}")
"""

#: Each run reads and bumps a counter, so the two runs print -1.7e308 and 1.7e308.
SPREAD_BENCH = """\
import os, pathlib, time
counter = pathlib.Path("counter.txt")
n = int(counter.read_text()) if counter.exists() else 0
counter.write_text(str(n + 1))
time.sleep(float(os.environ["PERF_RUN_DURATION"]))
print(f"PERF_METRICS p95_ms={'-' if n % 2 == 0 else ''}1.7e308")
"""


def _start(cli: Any, repo: Path, source: str) -> None:
    (repo / "huge.py").write_text(source)
    args = list(START_ARGS)
    args[args.index("--command") + 1] = f"{sys.executable} huge.py"
    answer = cli(*args, "--no-checkpoint", "--json")
    assert answer.code == 0, answer.out


@pytest.mark.parametrize("value", ["1e308", "9e307"])
def test_huge_primary_metric_summarises(repo: Path, cli: Any, value: str) -> None:
    _start(cli, repo, HUGE_BENCH.format(value=value))
    answer = cli("baseline", "--runs", "2", *SHORT, "--json")
    assert answer.code == 0, answer.out
    doc = json.loads((repo / ".claude" / "perf" / "baselines" / "v1.json").read_text())
    summary = doc["summaries"]["p95_ms"]["runs"]
    assert summary["mean"] == float(value) and summary["stddev"] == 0.0
    assert summary["cv"] == 0.0


def test_spread_beyond_float_range_is_refused_with_exit_5(repo: Path, cli: Any) -> None:
    _start(cli, repo, SPREAD_BENCH)
    answer = cli("baseline", "--runs", "2", *SHORT, "--json")
    assert answer.code == 5, answer.out
    message = answer.json["error"]["message"]
    assert "too far apart to summarise" in message and "p95_ms" in message
    assert not (repo / ".claude" / "perf" / "baselines" / "v1.json").exists()
