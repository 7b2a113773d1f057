"""``go test -bench`` result lines (Go's benchmark format), custom metrics included.

A result line is ``BenchmarkName-P  N  value unit  value unit ...``. The scenario is
the benchmark name without the ``-P`` GOMAXPROCS suffix (so results compare across
machines), kept when one name ran with several ``-cpu`` values; names get the package
prefix when the output covers several packages. ``-count`` repeats become samples.
Other lines (logs, ``PASS``, ``ok``) are ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from perfinvest.adapters.formats._helpers import (
    TIME_UNITS,
    Accumulator,
    excerpt,
    iter_lines,
    parse_number,
    snake,
)
from perfinvest.adapters.formats.base import Direction, FormatError, ParseResult

NAME = "go-bench"

_RESULT = re.compile(r"(Benchmark(?![a-z])\S*)\s+(\d+)(?:\s+(.*))?")
_CONFIG = re.compile(r"([a-z][^\s:]*):\s*(.*)")
_PROCS = re.compile(r"(.*)-(\d+)")
_SNIFF = re.compile(r"^Benchmark(?![a-z])\S*\s+\d+\s+\S+\s+ns/op\b", re.MULTILINE)

#: Go's standard units and how perfinvest names them.
_KNOWN_UNITS: dict[str, tuple[str, str, Direction | None]] = {
    "ns/op": ("time_per_op_ns", "ns", "lower"),
    "B/op": ("bytes_per_op", "bytes", "lower"),
    "allocs/op": ("allocs_per_op", "", "lower"),
    "MB/s": ("throughput_mb_per_s", "MB/s", "higher"),
}


def sniff(text: str) -> bool:
    """A ``Benchmark...`` line reporting ``ns/op``, which every Go benchmark prints."""
    return _SNIFF.search(text) is not None


@dataclass(frozen=True)
class _Result:
    line: int
    pkg: str | None
    name: str
    procs: str | None
    pairs: tuple[tuple[float, str], ...]


def parse(text: str) -> ParseResult:
    """Parse every benchmark result line in ``text``."""
    results: list[_Result] = []
    pkg: str | None = None
    for number, line in iter_lines(text):
        match = _RESULT.fullmatch(line.strip())
        if match is None:
            config = _CONFIG.fullmatch(line.strip())
            if config is not None and config.group(1) == "pkg":
                pkg = config.group(2).strip() or None
            continue
        name, procs = match.group(1), None
        suffix = _PROCS.fullmatch(name)
        if suffix is not None:
            name, procs = suffix.group(1), suffix.group(2)
        results.append(_Result(number, pkg, name, procs, _pairs(match.group(3) or "", number)))
    if not results:
        raise FormatError(NAME, 'expected "BenchmarkName-P N value unit ..." result lines')
    return ParseResult(NAME, tuple(_accumulate(results).metrics()))


def _pairs(rest: str, line: int) -> tuple[tuple[float, str], ...]:
    fields = rest.split()
    if not fields or len(fields) % 2:
        raise FormatError(
            NAME,
            f'expected "value unit" pairs after the iteration count, got {excerpt(rest)}',
            line=line,
        )
    pairs: list[tuple[float, str]] = []
    for value_text, unit in zip(fields[::2], fields[1::2], strict=True):
        value = parse_number(value_text)
        if value is None:
            raise FormatError(
                NAME,
                f"expected a number before unit {excerpt(unit)}, got {excerpt(value_text)}",
                line=line,
            )
        pairs.append((value, unit))
    return tuple(pairs)


def _accumulate(results: list[_Result]) -> Accumulator:
    packages = {result.pkg for result in results}
    procs_by_name: dict[tuple[str | None, str], set[str | None]] = {}
    for result in results:
        procs_by_name.setdefault((result.pkg, result.name), set()).add(result.procs)
    acc = Accumulator(NAME)
    for result in results:
        scenario = result.name
        if len(procs_by_name[(result.pkg, result.name)]) > 1 and result.procs is not None:
            scenario = f"{scenario}-{result.procs}"
        if len(packages) > 1 and result.pkg is not None:
            scenario = f"{result.pkg}.{scenario}"
        for value, unit in result.pairs:
            name, metric_unit, direction = _describe_unit(unit)
            acc.add(scenario, name, value, metric_unit, direction, line=result.line)
    return acc


def _describe_unit(unit: str) -> tuple[str, str, Direction | None]:
    """Name, unit and direction for a Go unit, custom ``b.ReportMetric`` units included."""
    if unit in _KNOWN_UNITS:
        return _KNOWN_UNITS[unit]
    name = snake(unit.replace("%", " pct ").replace("/", " per ")) or "value"
    head, _, tail = unit.partition("/")
    direction: Direction | None = None
    if tail == "s":
        direction = "higher"  # a rate: items/s, req/s
    elif head in TIME_UNITS and tail:
        direction = "lower"  # a time per something: ns/item
    return name, unit, direction
