"""pytest plugin: the ``perf`` fixture and ``--perfinvest`` options.

Opt-in and cheap: registering it adds options and a fixture, nothing else. Tests that do
not request ``perf`` run exactly as before; the session summary is printed only with
``--perfinvest``, ``--perfinvest-save`` or ``--perfinvest-compare``.

    def test_parse(perf):
        result = perf(parse, DOCUMENT, rounds=20)   # or perf.arun(async_fn, ...)
        assert result.stats["p95"] < 5.0

``--perfinvest`` prints every result's ``PERF_METRICS`` block at the end, so
``pytest --perfinvest`` is a perfinvest benchmark command; ``--perfinvest-save FILE``
writes a PerfMetrics v0.1 document (round values as samples); ``--perfinvest-compare FILE``
prints (or, with ``--perfinvest-report OUT.md``, writes) the table and the verdict of
``perfinvest compare``'s rule on one value per round; ``--perfinvest-compare-fail=mean:10%``
makes a shown regression exit 1 (docs/harness.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from perfinvest.harness import DEFAULT_WARMUP, Benchmark, Result
from perfinvest.harness._rounds import merge_rounds

#: timed rounds per ``perf`` call, and iterations per round, unless told otherwise
DEFAULT_ROUNDS = 20
DEFAULT_ROUND_ITERATIONS = 10
DEFAULT_ROUND_MIN_TIME = 0.005  # s: a round shorter than this is mostly scheduler noise

_RESULTS = pytest.StashKey[list[Result]]()
_OUTCOME = pytest.StashKey["_Outcome"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("perfinvest", "perfinvest in-process benchmarks (perf fixture)")
    group.addoption(
        "--perfinvest",
        action="store_true",
        default=False,
        help="print the PERF_METRICS block of every perf-fixture result at the end",
    )
    group.addoption(
        "--perfinvest-save",
        metavar="FILE",
        help="write the results as a PerfMetrics v0.1 JSON file (round values as samples; "
        "perfinvest diff, budget check and metrics validate read it)",
    )
    group.addoption(
        "--perfinvest-compare",
        metavar="FILE",
        help="compare against a file --perfinvest-save wrote (round means, the rule of "
        "perfinvest compare) and print the table",
    )
    group.addoption(
        "--perfinvest-compare-fail",
        metavar="EXPR",
        action="append",
        default=[],
        help="with --perfinvest-compare: exit 1 when a regression beyond EXPR is shown, "
        "e.g. mean:10% or min:0.001 (seconds); may be repeated",
    )
    group.addoption(
        "--perfinvest-threshold",
        metavar="PCT",
        default="20%",
        help="the practical threshold's floor for --perfinvest-compare (default 20%%: the "
        "offset between two sessions, which their rounds cannot see, reached 19.5%% in A/A)",
    )
    group.addoption(
        "--perfinvest-compare-stat",
        choices=("median", "mean", "min", "max"),
        default="median",
        help="the per-round value --perfinvest-compare tests (default median)",
    )
    group.addoption("--perfinvest-report", metavar="FILE", help="write the markdown report here")


def pytest_configure(config: pytest.Config) -> None:
    """Refuse a bad ``--perfinvest-compare-fail`` before any test runs (pytest exit 4)."""
    from perfinvest.harness.report import parse_fail, parse_threshold

    try:
        parse_threshold(config.getoption("--perfinvest-threshold", default="20%"))
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    exprs = config.getoption("--perfinvest-compare-fail", default=[]) or []
    if not exprs:
        return

    if not config.getoption("--perfinvest-compare"):
        raise pytest.UsageError(
            "--perfinvest-compare-fail needs --perfinvest-compare FILE (the saved baseline)"
        )
    for expr in exprs:
        try:
            parse_fail(expr)
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None


class Perf:
    """The ``perf`` fixture: benchmark a callable under the test's name, in timed rounds."""

    def __init__(self, name: str, results: list[Result]) -> None:
        self._name = name
        self._results = results
        self._calls = 0

    def _plan(
        self,
        iterations: int | None,
        rounds: int | None,
        loops: int,
        warmup: int,
        min_time: float | None,
        name: str | None,
    ) -> tuple[str, list[Benchmark]]:
        self._calls += 1
        label = name or (self._name if self._calls == 1 else f"{self._name}#{self._calls}")
        count = DEFAULT_ROUNDS if rounds is None else rounds
        if count < 1:
            raise ValueError(f"perf {label!r}: rounds must be >= 1, got {count}")
        if iterations is None and min_time is None:  # not PERF_RUN_DURATION: one test, not the run
            iterations, min_time = DEFAULT_ROUND_ITERATIONS, DEFAULT_ROUND_MIN_TIME
        return label, [
            Benchmark(
                label, iterations, warmup if i == 0 else 0, min_time, loops=loops, report=False
            )
            for i in range(count)
        ]

    def _keep(self, label: str, parts: list[Result]) -> Result:
        result = merge_rounds(label, parts)
        self._results.append(result)
        return result

    def __call__(
        self,
        fn: Callable[..., object],
        *args: object,
        iterations: int | None = None,
        rounds: int | None = None,
        loops: int = 1,
        warmup: int = DEFAULT_WARMUP,
        min_time: float | None = None,
        name: str | None = None,
        **kwargs: object,
    ) -> Result:
        """``rounds`` timed rounds of ``iterations`` samples of ``loops`` calls each."""
        label, benches = self._plan(iterations, rounds, loops, warmup, min_time, name)
        return self._keep(label, [bench.run(fn, *args, **kwargs) for bench in benches])

    def arun(
        self,
        coro_fn: Callable[..., Awaitable[object]],
        *args: object,
        iterations: int | None = None,
        rounds: int | None = None,
        loops: int = 1,
        warmup: int = DEFAULT_WARMUP,
        min_time: float | None = None,
        name: str | None = None,
        **kwargs: object,
    ) -> Result:
        """Benchmark an async function in a fresh event loop (the test itself is sync)."""
        label, benches = self._plan(iterations, rounds, loops, warmup, min_time, name)

        async def all_rounds() -> list[Result]:
            return [await bench.arun(coro_fn, *args, **kwargs) for bench in benches]

        return self._keep(label, asyncio.run(all_rounds()))


@pytest.fixture
def perf(request: pytest.FixtureRequest) -> Perf:
    """Benchmark callables from a test; results join the session's report."""
    results = request.config.stash.setdefault(_RESULTS, [])
    return Perf(request.node.name, results)


class _Outcome:
    """What ``pytest_sessionfinish`` decided, for the summary to print."""

    def __init__(self) -> None:
        self.report: str | None = None
        self.error: str | None = None
        self.failures: list[str] = []
        self.warnings: list[str] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Compare (before the terminal summary) so a shown regression can set exit status 1."""
    config = session.config
    compare = config.getoption("--perfinvest-compare")
    results = config.stash.get(_RESULTS, [])
    if not compare or not results:
        return
    from perfinvest.harness.report import (
        BaselineError,
        check_fail,
        load_baseline,
        markdown,
        parse_fail,
        parse_threshold,
    )

    outcome = config.stash.setdefault(_OUTCOME, _Outcome())
    rules = [parse_fail(e) for e in config.getoption("--perfinvest-compare-fail") or []]
    try:
        baseline = load_baseline(compare)
    except BaselineError as exc:
        outcome.error = str(exc)
        if rules:
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
        return
    floor = parse_threshold(config.getoption("--perfinvest-threshold"))
    stat = config.getoption("--perfinvest-compare-stat")
    outcome.report = markdown(results, baseline, stat=stat, min_threshold=floor)
    outcome.failures, outcome.warnings = check_fail(results, baseline, rules)
    if outcome.failures and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    results = config.stash.get(_RESULTS, [])
    show = config.getoption("--perfinvest")
    save = config.getoption("--perfinvest-save")
    compare = config.getoption("--perfinvest-compare")
    if not results or not (show or save or compare):
        return
    from perfinvest.harness.report import Row, table

    out = terminalreporter
    out.section("perfinvest")
    for result in results:
        out.write_line(result.describe())
    if show:
        for result in results:
            out.write(result.block())
    if save:
        from perfinvest.harness._save import save as save_results

        out.write_line(f"results saved to {save_results(save, results)}")
    outcome = config.stash.get(_OUTCOME, None)
    if outcome is None or outcome.report is None:
        out.write(table([Row(r, None) for r in results], compared=False))
        if outcome is not None and outcome.error:
            out.write_line(f"perfinvest: {outcome.error}", red=True)
        return
    target = config.getoption("--perfinvest-report")
    if target:
        Path(target).write_text(outcome.report, encoding="utf-8")
        out.write_line(f"report written to {target}")
    else:
        out.write(outcome.report)
    for line in outcome.warnings:
        out.write_line(f"perfinvest: {line}", yellow=True)
    for line in outcome.failures:
        out.write_line(f"perfinvest: FAIL {line}", red=True)
