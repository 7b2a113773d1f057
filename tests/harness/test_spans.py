"""Spans: disabled no-ops, enabled aggregation, nesting across threads/tasks, artifacts."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import SHORT, START_ARGS

from perfinvest import spans
from perfinvest.adapters.spans_reader import read_span_metrics


@pytest.fixture
def recording() -> Iterator[None]:
    spans.reset()
    spans.enable()
    yield
    spans.enable(False)
    spans.reset()


def test_disabled_spans_record_nothing() -> None:
    spans.enable(False)
    spans.reset()
    with spans.span("x") as inside:
        assert inside is None
    assert spans.start_span("y") is None
    assert spans.end_span(None) is None
    assert spans.summary()["spans"] == {}


def test_enabled_spans_aggregate_per_name(recording: None, tmp_path: Path) -> None:
    for _ in range(20):
        with spans.span("parse"):
            time.sleep(0.001)
    token = spans.start_span("load")
    time.sleep(0.005)
    took = spans.end_span(token)
    assert took is not None and took >= 4.9
    doc = spans.summary()
    parse = doc["spans"]["parse"]  # type: ignore[index]
    assert parse["count"] == 20 and parse["p50_ms"] >= 0.9 and len(parse["samples_ms"]) == 20
    written = spans.write(tmp_path)
    assert {p.name for p in written} == {
        f"spans-{os.getpid()}.json",
        f"spans-{os.getpid()}.trace.json",
    }
    reading = read_span_metrics(tmp_path)
    values = {m.name: m for m in reading.metrics}
    assert values["span:parse:count"].value == 20
    assert values["span:parse:p95_ms"].value >= values["span:parse:p50_ms"].value >= 0.9
    assert (
        values["span:load:max_ms"].unit == "ms" and values["span:load:max_ms"].direction == "lower"
    )


def test_ending_twice_or_ending_garbage_is_a_clear_error(recording: None) -> None:
    token = spans.start_span("once")
    spans.end_span(token)
    with pytest.raises(spans.SpanError, match="'once' was already ended"):
        spans.end_span(token)
    with pytest.raises(spans.SpanError, match="expects what start_span returned"):
        spans.end_span("once")  # type: ignore[arg-type]


def test_threads_and_tasks_nest_only_their_own_spans(recording: None, tmp_path: Path) -> None:
    barrier = threading.Barrier(3)

    def worker() -> None:
        with spans.span("request"):
            barrier.wait()  # all three requests are open at once
            with spans.span("db"):
                time.sleep(0.002)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    async def task(i: int) -> None:
        with spans.span("handler"):
            await asyncio.sleep(0.002 * (3 - i))  # interleaved in one thread
            with spans.span("render"):
                await asyncio.sleep(0)

    async def main() -> None:
        await asyncio.gather(*(task(i) for i in range(3)))

    asyncio.run(main())
    spans.write(tmp_path)
    trace = json.loads((tmp_path / f"spans-{os.getpid()}.trace.json").read_text())
    events = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    depth = {name: {e["args"]["depth"] for e in events if e["name"] == name} for name in
             ("request", "db", "handler", "render")}  # fmt: skip
    assert depth == {"request": {0}, "db": {1}, "handler": {0}, "render": {1}}
    # every child lies inside a parent on its own track
    for child in (e for e in events if e["args"]["depth"] == 1):
        parents = [p for p in events if p["tid"] == child["tid"] and p["args"]["depth"] == 0]
        assert any(p["ts"] <= child["ts"] and child["ts"] + child["dur"] <= p["ts"] + p["dur"] + 1
                   for p in parents), child  # fmt: skip
    assert len({e["tid"] for e in events if e["name"] == "handler"}) == 3


PROGRAM = """\
import os, sys, threading, time
from perfinvest.spans import span, start_span
duration = float(os.environ.get("PERF_RUN_DURATION", "0.3"))
end = time.perf_counter() + duration
def worker():
    while time.perf_counter() < end:
        with span("request"):
            with span("parse"):
                time.sleep(0.001)
            time.sleep(0.001)
threads = [threading.Thread(target=worker) for _ in range(3)]
for t in threads: t.start()
for t in threads: t.join()
if os.environ.get("LEAVE_OPEN"):
    start_span("never-ended")
"""


def test_unclosed_spans_are_reported_at_exit(tmp_path: Path) -> None:
    script = tmp_path / "prog.py"
    script.write_text(PROGRAM)
    env = {**os.environ, "PERFINVEST_PROFILING": "", "PROFILING_ENABLED": "true",
           "PERF_ARTIFACT_DIR": str(tmp_path / "out"), "PERF_RUN_DURATION": "0.1",
           "LEAVE_OPEN": "1", "PYTHONPATH": os.pathsep.join(sys.path)}  # fmt: skip
    done = subprocess.run(
        [sys.executable, str(script)], check=False, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "spans never ended: never-ended (1x)" in done.stderr
    reading = read_span_metrics(tmp_path / "out")
    assert reading.unclosed == {"never-ended": 1}
    assert any(m.name == "span:parse:count" and m.value > 10 for m in reading.metrics)


def test_broken_span_files_are_named_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "spans-1.json").write_text("{not json")
    (tmp_path / "spans-2.json").write_text('{"format": "other"}')
    reading = read_span_metrics(tmp_path)
    assert reading.metrics == [] and len(reading.problems) == 2
    assert "spans-1.json: not a readable span summary" in reading.problems[0]


@pytest.mark.slow
def test_spans_of_a_threaded_program_become_baseline_metrics(repo: Path, cli: Any) -> None:
    (repo / "prog.py").write_text(PROGRAM)
    args = list(START_ARGS)
    args[args.index("--command") + 1] = f"env PERFINVEST_PROFILING=1 {sys.executable} prog.py"
    args[args.index("--metric") + 1] = "span:parse:p95_ms"
    args[args.index("--success") + 1] = "span:parse:p95_ms < 500"
    assert cli(*args, "--json").code == 0
    result = cli("baseline", "--runs", "2", *SHORT, "--json")
    assert result.code == 0, result.out
    perf = repo / ".claude" / "perf"
    doc = json.loads((perf / "baselines" / "v1.json").read_text())
    runs = [run for run in doc["runs"] if run["valid"]]
    assert len(runs) >= 2  # more when the re-run rule finds the runs noisy
    for run in runs:
        metrics = {m["name"]: m for m in run["metrics"]}
        assert metrics["span:parse:count"]["value"] > 10
        assert metrics["span:parse:p95_ms"]["value"] >= 0.9
        assert metrics["span:request:p50_ms"]["value"] > metrics["span:parse:p50_ms"]["value"]
        described = {a["description"] for a in run["artifacts"]}
        assert {"span summary (perfinvest.spans)", "span timeline (Chrome trace)"} <= described
