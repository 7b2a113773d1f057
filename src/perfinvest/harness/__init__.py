"""In-process benchmarks: ``Benchmark(name).run(fn)`` and ``await Benchmark(name).arun(coro_fn)``.

A harness script is a perfinvest benchmark command with no glue: run under perfinvest
(``PERF_RUN_MODE`` set) every result prints its ``PERF_METRICS_START/END`` block, and in
duration mode ``min_time`` defaults to ``PERF_RUN_DURATION`` so the script fills the run.

Measured honestly, nothing hidden:

* warmup iterations run first and are not recorded;
* the timer's own cost (median of back-to-back ``perf_counter_ns`` reads) is measured
  and subtracted from every sample, as pyperf does, and reported;
* the garbage collector stays on by default (``gc="disable"`` turns it off, as timeit
  does); collections during measured iterations are counted, timed and reported;
* outliers (Tukey fences, 1.5 IQR) are counted and reported, never dropped.

Imports only the standard library (statistics are pure Python): importing the harness
costs microseconds, not the CLI's start-up.
"""

from __future__ import annotations

from perfinvest.harness._benchmark import Benchmark, timer_overhead_ns
from perfinvest.harness._result import (
    DEFAULT_ITERATIONS,
    DEFAULT_WARMUP,
    MAX_BLOCK_SAMPLES,
    BenchmarkError,
    GcMode,
    Result,
    under_perfinvest,
    write_metrics,
)

__all__ = [
    "DEFAULT_ITERATIONS",
    "DEFAULT_WARMUP",
    "MAX_BLOCK_SAMPLES",
    "Benchmark",
    "BenchmarkError",
    "GcMode",
    "Result",
    "timer_overhead_ns",
    "under_perfinvest",
    "write_metrics",
]
