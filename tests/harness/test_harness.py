"""The in-process harness on real functions, sync and async, and its bad inputs."""

from __future__ import annotations

import asyncio
import gc
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from perfinvest.adapters.formats.perfmetrics import parse
from perfinvest.core.stats.summaries import summarize
from perfinvest.harness import Benchmark, BenchmarkError, Result, write_metrics
from perfinvest.harness._rounds import merge_rounds
from perfinvest.harness._save import save
from perfinvest.harness.report import BaselineError, load_baseline, markdown, parse_fail


def _work(n: int) -> int:
    return sum(i * i for i in range(n))


def test_sync_run_measures_real_work_and_agrees_with_core_summaries() -> None:
    small = Benchmark("small", iterations=50, warmup=2, report=False).run(_work, 200)
    large = Benchmark("large", iterations=50, warmup=2, report=False).run(_work, 20_000)
    assert small.iterations == 50 and large.iterations == 50
    # a hundred times the work is clearly slower, whatever the machine's load
    assert large.stats["p50"] > 10 * small.stats["p50"]
    core = summarize(large.samples_ms)
    for key in ("mean", "stddev", "min", "max", "p50", "p95", "p99"):
        assert large.stats[key] == pytest.approx(getattr(core, key), rel=1e-9)
    assert 0 < large.timer_overhead_ns < 10_000


def test_async_run_awaits_each_iteration() -> None:
    async def nap() -> None:
        await asyncio.sleep(0.002)

    result = asyncio.run(Benchmark("nap", iterations=10, warmup=1, report=False).arun(nap))
    assert result.iterations == 10
    assert result.stats["min"] >= 1.9  # asyncio.sleep never returns early


def test_min_time_fills_the_time_and_duration_mode_defaults_to_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = Benchmark("timed", min_time=0.2, report=False).run(time.sleep, 0.001)
    assert result.elapsed_s >= 0.2
    monkeypatch.setenv("PERF_RUN_MODE", "duration")
    monkeypatch.setenv("PERF_RUN_DURATION", "0.25")
    bench = Benchmark("contract")
    assert bench.min_time == 0.25 and bench.report is True
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    filled = bench.run(time.sleep, 0.001)
    assert filled.elapsed_s >= 0.25
    assert "PERF_METRICS_START" in out.getvalue()


def test_gc_collections_are_counted_not_hidden() -> None:
    def garbage() -> None:
        for _ in range(200):
            a: list[object] = []
            a.append(a)  # a cycle only the collector frees

    result = Benchmark("cycles", iterations=300, warmup=0, report=False).run(garbage)
    assert result.gc_collections > 0 and result.gc_iterations > 0
    assert result.gc_ms > 0
    disabled = Benchmark("cycles-off", iterations=50, gc="disable", report=False).run(garbage)
    assert disabled.gc_collections == 0
    assert gc.isenabled()


def test_outliers_are_counted_and_kept() -> None:
    calls = [0]

    def sometimes_slow() -> None:
        calls[0] += 1
        if calls[0] % 25 == 0:
            time.sleep(0.02)

    result = Benchmark("spiky", iterations=100, warmup=0, report=False).run(sometimes_slow)
    assert result.stats["outliers_high"] >= 4
    assert result.stats["max"] >= 19  # the slow iterations stay in the samples


def test_block_is_read_back_by_perfinvests_parser(tmp_path: Path) -> None:
    result = Benchmark("parse", iterations=30, report=False).run(_work, 500)
    metrics = {(m.scenario, m.name): m for m in parse(result.block()).metrics}
    mean = metrics[("parse", "mean_ms")]
    assert mean.value == pytest.approx(result.stats["mean"])
    assert len(mean.samples) == 30 and mean.direction == "lower" and mean.unit == "ms"
    assert metrics[("parse", "ops_per_s")].direction == "higher"
    assert metrics[("parse", "p95_ms")].value == pytest.approx(result.stats["p95"])
    path = write_metrics(tmp_path / "m" / "results.txt", [result])
    assert parse(path.read_text()).metrics  # the same blocks, in a file
    # single-iteration blocks are no baseline for the round comparison: said, not guessed
    with pytest.raises(BaselineError, match="rounds are compared now"):
        load_baseline(path)


def test_a_raising_function_names_its_iteration() -> None:
    calls = [0]

    def flaky() -> None:
        calls[0] += 1
        if calls[0] == 8:
            raise ValueError("bad row 8")

    with pytest.raises(BenchmarkError) as info:
        Benchmark("flaky", iterations=20, warmup=3, report=False).run(flaky)
    assert str(info.value) == "benchmark 'flaky': measured iteration 5 raised ValueError: bad row 8"
    assert info.value.iteration == 5 and isinstance(info.value.error, ValueError)
    assert gc.isenabled() and not [cb for cb in gc.callbacks if type(cb).__name__ == "_GcWatch"]

    def broken() -> None:
        raise KeyError("x")

    with pytest.raises(BenchmarkError, match="warmup iteration 1 raised KeyError"):
        Benchmark("broken", report=False).run(broken)


def test_bad_arguments_are_clear() -> None:
    async def coro() -> None:
        return None

    with pytest.raises(TypeError, match=r"is async; use `await \.arun"):
        Benchmark("a", report=False).run(coro)
    pending = coro()
    with pytest.raises(TypeError, match="not a coroutine"):
        asyncio.run(Benchmark("a", report=False).arun(pending))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="iterations must be >= 1"):
        Benchmark("a", iterations=0)
    with pytest.raises(ValueError, match="non-empty name"):
        Benchmark("")


def _rounds(name: str, n: int, rounds: int = 12) -> Result:
    parts = [Benchmark(name, iterations=10, report=False).run(_work, n) for _ in range(rounds)]
    return merge_rounds(name, parts)


def test_markdown_report_detects_a_real_slowdown(tmp_path: Path) -> None:
    fast = _rounds("work", 2_000)
    path = save(tmp_path / "base.json", [fast])
    assert load_baseline(path)["work"]["median"] == pytest.approx(fast.round_values("median"))
    slow = _rounds("work", 8_000)
    new = _rounds("other", 10, rounds=2)
    text = markdown([slow, new], load_baseline(path))
    row = next(line for line in text.splitlines() if line.startswith("| work"))
    assert row.endswith("| regressed |"), text
    assert "new (no baseline)" in text
    assert "| 12 |" in row  # rounds column
    with pytest.raises(BaselineError, match="cannot read the baseline"):
        load_baseline(tmp_path / "missing.txt")
    (tmp_path / "junk.txt").write_text("hello\n")
    with pytest.raises(BaselineError, match="not JSON"):
        load_baseline(tmp_path / "junk.txt")
    (tmp_path / "other.json").write_text('{"schema_version": "9"}')
    with pytest.raises(BaselineError, match=r"not a PerfMetrics 0\.1 document"):
        load_baseline(tmp_path / "other.json")


def test_fail_rules_parse_like_pytest_benchmarks() -> None:
    rule = parse_fail("mean:10%")
    assert (rule.stat, rule.value, rule.relative) == ("mean", 0.10, True)
    absolute = parse_fail("min:0.001")  # seconds, as --benchmark-compare-fail
    assert absolute.threshold(2.0) == pytest.approx(0.5)  # 1 ms of a 2 ms baseline
    for bad in ("mean", "p99:5%", "mean:-1%", "mean:fast"):
        with pytest.raises(ValueError, match="use STAT:N% or STAT:SECONDS"):
            parse_fail(bad)


def test_result_needs_samples() -> None:
    with pytest.raises(ValueError, match="no samples"):
        Result("x", [])


def test_importing_the_library_loads_nothing_heavy() -> None:
    code = (
        "import sys, perfinvest.harness, perfinvest.spans, json; "
        "heavy = [m for m in ('pydantic', 'click', 'numpy', 'scipy', 'typer', 'inspect') "
        "if m in sys.modules]; print(json.dumps(heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []
