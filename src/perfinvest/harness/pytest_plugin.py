"""pytest plugin: the ``perf`` fixture and ``--perfinvest`` options.

Opt-in and cheap: registering it adds options and a fixture, nothing else. Tests that do
not request ``perf`` run exactly as before; the session summary is printed only with
``--perfinvest``, ``--perfinvest-save`` or ``--perfinvest-compare``.

    def test_parse(perf):
        result = perf(parse, DOCUMENT)          # or perf.arun(async_fn, ...)
        assert result.stats["p95"] < 5.0

``--perfinvest`` prints every result's ``PERF_METRICS`` block at the end, so
``pytest --perfinvest`` is a perfinvest benchmark command; ``--perfinvest-save FILE``
writes them as a PerfMetrics file; ``--perfinvest-compare FILE`` prints (or, with
``--perfinvest-report OUT.md``, writes) the markdown report with Welch's t-test.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from perfinvest.harness import DEFAULT_ITERATIONS, DEFAULT_WARMUP, Benchmark, Result

_RESULTS = pytest.StashKey[list[Result]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("perfinvest", "perfinvest in-process benchmarks (perf fixture)")
    group.addoption(
        "--perfinvest",
        action="store_true",
        default=False,
        help="print the PERF_METRICS block of every perf-fixture result at the end",
    )
    group.addoption(
        "--perfinvest-save", metavar="FILE", help="write the results as a PerfMetrics file"
    )
    group.addoption(
        "--perfinvest-compare",
        metavar="FILE",
        help="compare against a saved PerfMetrics file (Welch's t-test, markdown)",
    )
    group.addoption("--perfinvest-report", metavar="FILE", help="write the markdown report here")


class Perf:
    """The ``perf`` fixture: benchmark a callable under the test's name."""

    def __init__(self, name: str, results: list[Result]) -> None:
        self._name = name
        self._results = results
        self._calls = 0

    def _benchmark(
        self, iterations: int | None, warmup: int, min_time: float | None, name: str | None
    ) -> Benchmark:
        self._calls += 1
        label = name or (self._name if self._calls == 1 else f"{self._name}#{self._calls}")
        if iterations is None and min_time is None:
            iterations = DEFAULT_ITERATIONS  # not PERF_RUN_DURATION: one test, not the run
        return Benchmark(label, iterations, warmup, min_time, report=False)

    def __call__(
        self,
        fn: Callable[..., object],
        *args: object,
        iterations: int | None = None,
        warmup: int = DEFAULT_WARMUP,
        min_time: float | None = None,
        name: str | None = None,
        **kwargs: object,
    ) -> Result:
        result = self._benchmark(iterations, warmup, min_time, name).run(fn, *args, **kwargs)
        self._results.append(result)
        return result

    def arun(
        self,
        coro_fn: Callable[..., Awaitable[object]],
        *args: object,
        iterations: int | None = None,
        warmup: int = DEFAULT_WARMUP,
        min_time: float | None = None,
        name: str | None = None,
        **kwargs: object,
    ) -> Result:
        """Benchmark an async function in a fresh event loop (the test itself is sync)."""
        bench = self._benchmark(iterations, warmup, min_time, name)
        result = asyncio.run(bench.arun(coro_fn, *args, **kwargs))
        self._results.append(result)
        return result


@pytest.fixture
def perf(request: pytest.FixtureRequest) -> Perf:
    """Benchmark callables from a test; results join the session's report."""
    results = request.config.stash.setdefault(_RESULTS, [])
    return Perf(request.node.name, results)


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    results = config.stash.get(_RESULTS, [])
    show = config.getoption("--perfinvest")
    save = config.getoption("--perfinvest-save")
    compare = config.getoption("--perfinvest-compare")
    if not results or not (show or save or compare):
        return
    from perfinvest.harness import write_metrics

    terminalreporter.section("perfinvest")
    for result in results:
        terminalreporter.write_line(result.describe())
    if show:
        for result in results:
            terminalreporter.write(result.block())
    if save:
        terminalreporter.write_line(f"results saved to {write_metrics(save, results)}")
    if compare:
        from perfinvest.harness.report import BaselineError, load_baseline, markdown

        try:
            text = markdown(results, load_baseline(compare))
        except BaselineError as exc:
            terminalreporter.write_line(f"perfinvest: {exc}", red=True)
            return
        target = config.getoption("--perfinvest-report")
        if target:
            Path(target).write_text(text, encoding="utf-8")
            terminalreporter.write_line(f"report written to {target}")
        else:
            terminalreporter.write(text)
