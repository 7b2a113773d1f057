"""A benchmark's result: samples, statistics, the ``PERF_METRICS`` block (private module).

Re-exported by :mod:`perfinvest.harness`; imports only the standard library.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Literal, TextIO

if TYPE_CHECKING:
    from pathlib import Path

from perfinvest.harness._stats import summarize

GcMode = Literal["enable", "disable"]
DEFAULT_ITERATIONS = 100
DEFAULT_WARMUP = 3
MAX_BLOCK_SAMPLES = 10_000  # samples printed per result; statistics use all of them


class BenchmarkError(RuntimeError):
    """The benchmarked function raised: which benchmark, which iteration, what error."""

    def __init__(self, name: str, phase: str, iteration: int, error: BaseException) -> None:
        self.name, self.phase, self.iteration, self.error = name, phase, iteration, error
        super().__init__(
            f"benchmark {name!r}: {phase} iteration {iteration} raised "
            f"{type(error).__name__}: {error}"
        )


def under_perfinvest() -> bool:
    """Whether perfinvest runs this process (the benchmark contract's variables are set)."""
    return bool(os.environ.get("PERF_RUN_MODE"))


class Result:
    """One benchmark's samples (ms per call, timer cost subtracted) and what shaped them.

    A plain class, not a dataclass: dataclasses import inspect, which costs milliseconds.
    """

    def __init__(
        self,
        name: str,
        samples_ms: list[float],
        warmup: int = 0,
        loops: int = 1,
        timer_overhead_ns: float = 0.0,
        gc_mode: GcMode = "enable",
        gc_collections: int = 0,
        gc_iterations: int = 0,
        gc_ms: float = 0.0,
        elapsed_s: float = 0.0,
        round_lengths: list[int] | None = None,
    ) -> None:
        if not samples_ms:
            raise ValueError(f"result {name!r}: no samples")
        lengths = round_lengths or [len(samples_ms)]
        if sum(lengths) != len(samples_ms) or min(lengths) < 1:
            raise ValueError(f"result {name!r}: round lengths {lengths} do not split the samples")
        self.name = name
        self.samples_ms = samples_ms
        self.warmup = warmup
        self.loops = loops
        self.timer_overhead_ns = timer_overhead_ns
        self.gc_mode: GcMode = gc_mode
        self.gc_collections = gc_collections
        self.gc_iterations = gc_iterations  # measured iterations during which a GC ran
        self.gc_ms = gc_ms
        self.elapsed_s = elapsed_s
        self.round_lengths = lengths  # samples per timed round, in order (one round: all)
        self.stats: dict[str, float] = summarize(samples_ms)

    def __repr__(self) -> str:
        return f"<Result {self.describe()}>"

    @property
    def iterations(self) -> int:
        return len(self.samples_ms)

    @property
    def rounds(self) -> int:
        return len(self.round_lengths)

    def round_samples(self) -> list[list[float]]:
        """The samples of each timed round, in order."""
        out, start = [], 0
        for length in self.round_lengths:
            out.append(self.samples_ms[start : start + length])
            start += length
        return out

    def round_values(self, stat: str = "mean") -> list[float]:
        """One value per round: its ``mean``, ``min``, ``max`` or ``median`` (ms per call).

        Rounds, not iterations, are the replicates a comparison tests: iterations inside
        one round share its state (caches, frequency, a GC cycle) and are not independent.
        """
        return [summarize(part)[stat] for part in self.round_samples()]

    def metrics(self) -> dict[str, object]:
        """The ``PERF_METRICS`` block object: this result as one scenario named ``name``."""
        s = self.stats
        samples = self.samples_ms
        if len(samples) > MAX_BLOCK_SAMPLES:  # evenly strided, so drift stays visible
            step = len(samples) / MAX_BLOCK_SAMPLES
            samples = [samples[int(i * step)] for i in range(MAX_BLOCK_SAMPLES)]

        def ms(value: float, **extra: object) -> dict[str, object]:
            return {"value": value, "unit": "ms", "direction": "lower", **extra}

        mean = s["mean"]
        return {
            "scenario": self.name,
            "mean_ms": ms(mean, samples=samples),
            "stddev_ms": ms(s["stddev"]),
            "min_ms": ms(s["min"]),
            "max_ms": ms(s["max"]),
            "p50_ms": ms(s["p50"]),
            "p95_ms": ms(s["p95"]),
            "p99_ms": ms(s["p99"]),
            "ops_per_s": {
                "value": 1000.0 / mean if mean > 0 else 0.0,
                "unit": "/s",
                "direction": "higher",
            },
            "iterations": float(self.iterations),
            "outliers": float(s["outliers_low"] + s["outliers_high"]),
            "gc_collections": float(self.gc_collections),
            "gc_ms": ms(self.gc_ms),
            "timer_overhead_ns": {"value": self.timer_overhead_ns, "unit": "ns"},
        }

    def block(self) -> str:
        """The metrics between ``PERF_METRICS_START`` and ``PERF_METRICS_END`` lines."""
        import json

        return f"PERF_METRICS_START\n{json.dumps(self.metrics())}\nPERF_METRICS_END\n"

    def print_metrics(self, file: TextIO | None = None) -> None:
        out = file if file is not None else sys.stdout
        out.write(self.block())
        out.flush()

    def describe(self) -> str:
        """One human line: mean ± stddev, percentiles, and what to be wary of."""
        s = self.stats
        notes = []
        outliers = int(s["outliers_low"] + s["outliers_high"])
        if outliers:
            notes.append(f"{outliers} outliers kept")
        if self.gc_collections:
            notes.append(
                f"{self.gc_collections} GC collections in {self.gc_iterations} iterations "
                f"({self.gc_ms:.3g} ms)"
            )
        tail = f" [{'; '.join(notes)}]" if notes else ""
        rounds = f" in {self.rounds} rounds" if self.rounds > 1 else ""
        return (
            f"{self.name}: {s['mean']:.6g} ms ± {s['stddev']:.3g} (n={self.iterations}{rounds}, "
            f"p50 {s['p50']:.6g}, p95 {s['p95']:.6g}, p99 {s['p99']:.6g}, "
            f"min {s['min']:.6g}, max {s['max']:.6g}){tail}"
        )


def write_metrics(path: str | Path, results: list[Result]) -> Path:
    """Write results as a PerfMetrics file (``--metrics-file``, format ``perf-metrics``)."""
    from pathlib import Path

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(target.name + ".tmp")
    temp.write_text("".join(r.block() for r in results), encoding="utf-8")
    temp.replace(target)
    return target
