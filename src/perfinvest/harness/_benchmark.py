"""The measuring loops: ``Benchmark.run`` and ``Benchmark.arun`` (private module).

Re-exported by :mod:`perfinvest.harness`; imports only the standard library.
"""

from __future__ import annotations

import gc
import os
import time
import types
from collections.abc import Awaitable, Callable
from typing import Any

from perfinvest.harness._result import (
    DEFAULT_ITERATIONS,
    DEFAULT_WARMUP,
    BenchmarkError,
    GcMode,
    Result,
    under_perfinvest,
)


def _contract_min_time() -> float | None:
    if os.environ.get("PERF_RUN_MODE") != "duration":
        return None
    try:
        duration = float(os.environ.get("PERF_RUN_DURATION", ""))
    except ValueError:
        return None
    return duration if duration > 0 else None


def timer_overhead_ns(reads: int = 501) -> float:
    """The median cost of one ``perf_counter_ns`` read, measured back to back."""
    timer = time.perf_counter_ns
    costs = []
    for _ in range(reads):
        t0 = timer()
        t1 = timer()
        costs.append(t1 - t0)
    costs.sort()
    return float(costs[len(costs) // 2])


_CO_COROUTINE = 0x80  # inspect.CO_COROUTINE, without importing inspect (milliseconds)


class _GcWatch:
    """Counts and times collections through ``gc.callbacks`` while measuring."""

    def __init__(self) -> None:
        self.count = 0
        self.ns = 0
        self._start = 0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter_ns()
        else:
            self.count += 1
            self.ns += time.perf_counter_ns() - self._start


class Benchmark:
    """A named benchmark: how many iterations, how long, and how the GC is treated.

    It stops once it has at least ``iterations`` samples *and* ``min_time`` seconds of
    measuring (either may be ``None``), or at ``max_iterations``. With neither given it
    runs ``DEFAULT_ITERATIONS``, or fills ``PERF_RUN_DURATION`` under perfinvest's
    duration mode. ``loops`` calls per sample suit sub-microsecond functions.
    """

    def __init__(
        self,
        name: str,
        iterations: int | None = None,
        warmup: int = DEFAULT_WARMUP,
        min_time: float | None = None,
        *,
        loops: int = 1,
        max_iterations: int = 1_000_000,
        gc: GcMode = "enable",
        report: bool | None = None,
    ) -> None:
        if not name:
            raise ValueError("Benchmark needs a non-empty name (it names the scenario)")
        for what, value in (("iterations", iterations), ("loops", loops)):
            if value is not None and value < 1:
                raise ValueError(f"Benchmark {name!r}: {what} must be >= 1, got {value}")
        if warmup < 0:
            raise ValueError(f"Benchmark {name!r}: warmup must be >= 0, got {warmup}")
        if min_time is not None and min_time < 0:
            raise ValueError(f"Benchmark {name!r}: min_time must be >= 0, got {min_time}")
        if gc not in ("enable", "disable"):
            raise ValueError(f"Benchmark {name!r}: gc must be 'enable' or 'disable', not {gc!r}")
        self.name = name
        if iterations is None and min_time is None:
            min_time = _contract_min_time()
            if min_time is None:
                iterations = DEFAULT_ITERATIONS
        self.iterations = iterations or 2
        self.min_time = min_time or 0.0
        self.warmup = warmup
        self.loops = loops
        self.max_iterations = max(max_iterations, self.iterations)
        self.gc: GcMode = gc
        self.report = under_perfinvest() if report is None else report

    def _begin(self) -> tuple[_GcWatch, bool]:
        was_enabled = gc.isenabled()
        gc.collect()
        if self.gc == "disable":
            gc.disable()
        watch = _GcWatch()
        gc.callbacks.append(watch)
        return watch, was_enabled

    @staticmethod
    def _end(watch: _GcWatch, was_enabled: bool) -> None:
        """Undo :meth:`_begin`: the GC watch removed, the collector as it was."""
        gc.callbacks.remove(watch)
        if was_enabled:
            gc.enable()

    def _finish(
        self,
        raw_ns: list[int],
        overhead: float,
        watch: _GcWatch,
        was_enabled: bool,
        gc_iterations: int,
        elapsed_ns: int,
    ) -> Result:
        self._end(watch, was_enabled)
        loops = self.loops
        result = Result(
            name=self.name,
            samples_ms=[max(ns - overhead, 0.0) / loops / 1e6 for ns in raw_ns],
            warmup=self.warmup,
            loops=loops,
            timer_overhead_ns=overhead,
            gc_mode=self.gc,
            gc_collections=watch.count,
            gc_iterations=gc_iterations,
            gc_ms=watch.ns / 1e6,
            elapsed_s=elapsed_ns / 1e9,
        )
        if self.report:
            result.print_metrics()
        return result

    def run(self, fn: Callable[..., object], *args: object, **kwargs: object) -> Result:
        """Benchmark a synchronous callable; a raised error names its iteration."""
        code = getattr(fn, "__code__", None)
        if code is not None and code.co_flags & _CO_COROUTINE:
            raise TypeError(f"benchmark {self.name!r}: {fn!r} is async; use `await .arun(fn)`")
        timer = time.perf_counter_ns
        loops = range(self.loops)
        phase, count = "warmup", 0
        try:
            for count in range(1, self.warmup + 1):  # noqa: B007 - reported on error
                for _ in loops:
                    fn(*args, **kwargs)
            overhead = timer_overhead_ns()
            watch, was_enabled = self._begin()
            raw: list[int] = []
            phase, count, gc_iterations = "measured", 0, 0
            target, cap, one, append = (
                self.iterations,
                self.max_iterations,
                self.loops == 1,
                raw.append,
            )
            started = timer()
            deadline = started + int(self.min_time * 1e9)
            try:
                while True:  # kept lean: this loop is what the harness costs per iteration
                    before = watch.count
                    if one:
                        t0 = timer()
                        fn(*args, **kwargs)
                        t1 = timer()
                    else:
                        t0 = timer()
                        for _ in loops:
                            fn(*args, **kwargs)
                        t1 = timer()
                    append(t1 - t0)
                    count += 1
                    if watch.count != before:
                        gc_iterations += 1
                    if (count >= target and t1 >= deadline) or count >= cap:
                        break
            except BaseException:
                self._end(watch, was_enabled)
                raise
        except Exception as exc:
            raise BenchmarkError(self.name, phase, count + (phase == "measured"), exc) from exc
        return self._finish(raw, overhead, watch, was_enabled, gc_iterations, t1 - started)

    async def arun(
        self, coro_fn: Callable[..., Awaitable[object]], *args: object, **kwargs: object
    ) -> Result:
        """Benchmark an async function: each sample awaits ``coro_fn(*args, **kwargs)``."""
        if isinstance(coro_fn, types.CoroutineType):
            coro_fn.close()
            raise TypeError(
                f"benchmark {self.name!r}: pass the async function, not a coroutine "
                "(`arun(fetch)`, not `arun(fetch())`): each iteration needs a new one"
            )
        timer = time.perf_counter_ns
        loops = range(self.loops)
        phase, count = "warmup", 0
        try:
            for count in range(1, self.warmup + 1):  # noqa: B007 - reported on error
                for _ in loops:
                    await coro_fn(*args, **kwargs)
            overhead = timer_overhead_ns()
            watch, was_enabled = self._begin()
            raw: list[int] = []
            phase, count, gc_iterations = "measured", 0, 0
            target, cap, one, append = (
                self.iterations,
                self.max_iterations,
                self.loops == 1,
                raw.append,
            )
            started = timer()
            deadline = started + int(self.min_time * 1e9)
            try:
                while True:  # kept lean: this loop is what the harness costs per iteration
                    before = watch.count
                    if one:
                        t0 = timer()
                        await coro_fn(*args, **kwargs)
                        t1 = timer()
                    else:
                        t0 = timer()
                        for _ in loops:
                            await coro_fn(*args, **kwargs)
                        t1 = timer()
                    append(t1 - t0)
                    count += 1
                    if watch.count != before:
                        gc_iterations += 1
                    if (count >= target and t1 >= deadline) or count >= cap:
                        break
            except BaseException:
                self._end(watch, was_enabled)
                raise
        except Exception as exc:
            raise BenchmarkError(self.name, phase, count + (phase == "measured"), exc) from exc
        return self._finish(raw, overhead, watch, was_enabled, gc_iterations, t1 - started)
