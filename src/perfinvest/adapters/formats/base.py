"""The parsed shape every metric format produces, and the one error they may raise.

Parsers turn a benchmark's output (its whole stdout, or an exported file) into
:class:`ParseResult`. Whatever the input, a parser either returns a result or raises
:class:`FormatError`: the CLI shows its one-line message and exits with
``BENCHMARK_FAILED``, because unreadable output means the benchmark gave no valid result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeAlias

from perfinvest.core.errors import ExitCode, PerfError

Direction: TypeAlias = Literal["lower", "higher"]


@dataclass(frozen=True)
class ParsedMetric:
    """One number read from the output, with enough context to compare it later.

    ``direction`` is set only when the format says so or it is obvious (latency lower,
    throughput higher): a wrong guess would invert a verdict, so unknown stays ``None``.
    ``samples`` keeps the raw measurements the statistics need, when the format has them.
    """

    name: str
    value: float
    unit: str
    direction: Direction | None
    samples: tuple[float, ...] = ()
    scenario: str | None = None


@dataclass(frozen=True)
class ParseResult:
    """Everything one output yielded: its format, its metrics and failed thresholds.

    ``failed_thresholds`` holds the pass/fail checks the tool itself evaluated and
    that failed (k6 thresholds), as ``"<metric>: <expression>"``.
    """

    format: str
    metrics: tuple[ParsedMetric, ...]
    failed_thresholds: tuple[str, ...] = ()

    def get(self, name: str, scenario: str | None = None) -> ParsedMetric | None:
        """The metric called ``name`` in ``scenario``, or ``None``: for callers and tests."""
        for metric in self.metrics:
            if metric.name == name and metric.scenario == scenario:
                return metric
        return None

    @property
    def scenarios(self) -> tuple[str | None, ...]:
        """Scenarios in order of first appearance (``None`` is the unnamed one)."""
        seen: dict[str | None, None] = {}
        for metric in self.metrics:
            seen.setdefault(metric.scenario, None)
        return tuple(seen)


Parser: TypeAlias = Callable[[str], ParseResult]

_MAX_MESSAGE = 300


class FormatError(PerfError):
    """The output is not what the format promises: says which format, where, and what.

    The message is always one line, ``<format>: line <n>: <detail>`` (``line`` only when
    the problem has one), so agents and people can act on it without a traceback.
    """

    def __init__(self, fmt: str, detail: str, *, line: int | None = None) -> None:
        detail = " ".join(detail.split())
        if len(detail) > _MAX_MESSAGE:
            detail = detail[: _MAX_MESSAGE - 1] + "…"
        where = f"line {line}: " if line is not None else ""
        super().__init__(f"{fmt}: {where}{detail}", ExitCode.BENCHMARK_FAILED, kind="format")
        self.format = fmt
        self.line = line
        self.detail = detail
