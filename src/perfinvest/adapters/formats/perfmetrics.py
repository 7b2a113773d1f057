"""The ``/perf`` plugin contract: ``PERF_METRICS`` lines and ``PERF_METRICS_START/END`` blocks.

A benchmark reports metrics in its output in either or both of two ways.

Lines, anywhere in the output, the marker first on the line::

    PERF_METRICS p95_ms=12.5 throughput_rps=840 scenario=checkout

Every ``key=value`` is a metric; ``scenario=NAME`` (optional, quotes allowed:
``scenario="two words"``) names the scenario of every metric on the line.

Blocks, a JSON object between two marker lines::

    PERF_METRICS_START
    {"p95_ms": 12.5,
     "throughput_rps": {"value": 840, "unit": "rps", "direction": "higher"},
     "latency_ms": [12.1, 12.9, 12.4],
     "checkout": {"p95_ms": 14.0, "errors": 0}}
    PERF_METRICS_END

* ``name: number`` is a metric.
* ``name: [numbers]`` is raw samples; the value is their mean.
* ``name: {"value": ..., "unit": ..., "direction": "lower"|"higher", "samples": [...]}``
  is a metric with its details (every key but ``value`` optional, others ignored).
* ``name: {...}`` without a ``value`` key is a scenario holding metrics of the forms
  above; scenarios nest one level only.
* ``"scenario": "NAME"`` at the top level names the scenario of the block's top-level
  metrics.

Names are kept exactly as the user wrote them (success criteria refer to them). The unit
is the declared one or, failing that, read from the name's suffix (``_ms``, ``_s``,
``_ns``, ``_us``, ``_bytes``, ``_rps``, ``_qps``, ``_pct``, ``_per_s``). The direction is
the declared one or an obvious one: time units and latency/duration/error names are
lower-is-better, rates and throughput names higher-is-better; otherwise unknown.

The same metric (name and scenario) reported more than once, by lines or blocks, is a
series of readings: the readings become the samples and the value is their mean.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from perfinvest.adapters.formats._helpers import (
    TIME_UNITS,
    JsonReader,
    direction_from_name,
    excerpt,
    iter_lines,
    mean,
    parse_number,
    snake,
)
from perfinvest.adapters.formats.base import Direction, FormatError, ParsedMetric, ParseResult

NAME = "perf-metrics"

START = "PERF_METRICS_START"
END = "PERF_METRICS_END"
LINE_MARKER = "PERF_METRICS"

_LINE = re.compile(r"PERF_METRICS(?:\s+(.*))?")
_SNIFF = re.compile(r"^[ \t]*PERF_METRICS(?:_START[ \t]*$|[ \t]+\S)", re.MULTILINE)

_T = TypeVar("_T")

_SUFFIX_UNITS = {
    "ns": "ns",
    "us": "us",
    "ms": "ms",
    "s": "s",
    "sec": "s",
    "secs": "s",
    "seconds": "s",
    "bytes": "bytes",
    "rps": "rps",
    "qps": "qps",
    "pct": "%",
    "percent": "%",
}


def sniff(text: str) -> bool:
    """A ``PERF_METRICS_START`` marker line or a ``PERF_METRICS key=value`` line."""
    return _SNIFF.search(text) is not None


@dataclass(frozen=True)
class _Reading:
    scenario: str | None
    name: str
    value: float
    unit: str | None
    direction: Direction | None
    samples: tuple[float, ...]
    line: int


def parse(text: str) -> ParseResult:
    """Collect every block and line in ``text`` into metrics."""
    readings: list[_Reading] = []
    block: list[str] | None = None
    block_start = 0
    for number, line in iter_lines(text):
        stripped = line.strip()
        if block is not None:
            if stripped == END:
                readings.extend(_parse_block("\n".join(block), block_start))
                block = None
            elif stripped == START:
                raise FormatError(
                    NAME,
                    f"expected {END} to close the block of line {block_start}, got another {START}",
                    line=number,
                )
            else:
                block.append(line)
        elif stripped == START:
            block, block_start = [], number
        elif stripped == END:
            raise FormatError(NAME, f"{END} without a {START} before it", line=number)
        elif (match := _LINE.fullmatch(stripped)) is not None:
            readings.extend(_parse_line(match.group(1) or "", number))
    if block is not None:
        raise FormatError(NAME, f"{START} without {END}", line=block_start)
    if not readings:
        raise FormatError(NAME, f"expected a {START}/{END} block or a {LINE_MARKER} key=value line")
    return ParseResult(NAME, tuple(_combine(readings)))


#: The most key=value pairs one line may hold (checked before splitting it: a 400 000-pair
#: line is a dump, not a measurement, and would cost minutes and gigabytes downstream).
MAX_PAIRS_PER_LINE = 2_000


def _parse_line(rest: str, line: int) -> list[_Reading]:
    if rest.count("=") > MAX_PAIRS_PER_LINE:
        raise FormatError(
            NAME,
            f"about {rest.count('='):,} key=value pairs on one line, over the "
            f"{MAX_PAIRS_PER_LINE:,} a run may record; report aggregates, not every value",
            line=line,
        )
    try:
        tokens = shlex.split(rest)
    except ValueError as exc:  # an unbalanced quote
        raise FormatError(NAME, f"expected key=value pairs: {exc}", line=line) from None
    scenario: str | None = None
    pairs: list[tuple[str, str]] = []
    for token in tokens:
        key, sep, value = token.partition("=")
        if not sep or not key:
            raise FormatError(NAME, f"expected key=value, got {excerpt(token)}", line=line)
        if key == "scenario":
            if scenario is not None or not value:
                raise FormatError(NAME, "expected one non-empty scenario=NAME per line", line=line)
            scenario = value
        else:
            pairs.append((key, value))
    if not pairs:
        raise FormatError(NAME, f"expected at least one metric after {LINE_MARKER}", line=line)
    readings: list[_Reading] = []
    for key, value_text in pairs:
        number = parse_number(value_text)
        if number is None:
            raise FormatError(
                NAME, f"{key}: expected a number, got {excerpt(value_text)}", line=line
            )
        readings.append(_Reading(scenario, key, number, None, None, (), line))
    return readings


def _parse_block(body: str, start: int) -> list[_Reading]:
    try:
        doc = json.loads(body) if body.strip() else None
    except json.JSONDecodeError as exc:
        raise FormatError(
            NAME, f"invalid JSON in the {START} block: {exc.msg}", line=start + exc.lineno
        ) from None
    except (ValueError, RecursionError) as exc:
        raise FormatError(NAME, f"invalid JSON in the {START} block: {exc}", line=start) from None
    read = JsonReader(NAME, start)
    top = read.obj(doc, "", f"a JSON object between {START} and {END}")
    keys = _KeyLines(body, start)
    default: str | None = None
    if "scenario" in top:
        default = JsonReader(NAME, keys.find("scenario", start)).text(top["scenario"], "scenario")
    readings: list[_Reading] = []
    for key, value in top.items():
        if key == "scenario":
            continue
        line = keys.find(key, start)
        if isinstance(value, dict) and "value" not in value:
            for inner_key, inner in value.items():
                where = f"{key}.{inner_key}"
                inner_read = JsonReader(NAME, keys.find(inner_key, line))
                if isinstance(inner, dict) and "value" not in inner:
                    raise inner_read.fail(where, "a metric (scenarios nest one level only)", inner)
                readings.append(_block_metric(inner_read, key, inner_key, inner, where))
        else:
            readings.append(_block_metric(JsonReader(NAME, line), default, key, value, key))
    return readings


class _KeyLines:
    """Where each key of a block sits, so errors point at its line, not the block's."""

    _KEY = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:')

    def __init__(self, body: str, start: int) -> None:
        self._found: list[tuple[int, str]] = []
        for offset, text in enumerate(body.split("\n"), start=start + 1):
            for match in self._KEY.finditer(text):
                try:
                    key = json.loads(f'"{match.group(1)}"')
                except ValueError:
                    continue
                self._found.append((offset, key))

    def find(self, key: str, after: int) -> int:
        """The first line at or after ``after`` that holds ``key``; ``after`` if none does."""
        for line, found in self._found:
            if line >= after and found == key:
                return line
        return after


def _block_metric(
    read: JsonReader, scenario: str | None, name: str, value: object, where: str
) -> _Reading:
    if not name:
        raise read.fail(where, "a non-empty metric name", name)
    if isinstance(value, list):
        samples = read.nums(value, where)
        if not samples:
            raise read.fail(where, "a non-empty list of samples", value)
        return _Reading(scenario, name, mean(samples), None, None, samples, read.line or 0)
    if not isinstance(value, dict):
        return _Reading(scenario, name, read.num(value, where), None, None, (), read.line or 0)
    number = read.num(value["value"], f"{where}.value")
    unit = read.text(value["unit"], f"{where}.unit") if "unit" in value else None
    direction: Direction | None = None
    if value.get("direction") is not None:
        raw = value["direction"]
        if raw == "lower":
            direction = "lower"
        elif raw == "higher":
            direction = "higher"
        else:
            raise read.fail(f"{where}.direction", '"lower" or "higher"', raw)
    samples = read.nums(value["samples"], f"{where}.samples") if "samples" in value else ()
    return _Reading(scenario, name, number, unit, direction, samples, read.line or 0)


def _combine(readings: list[_Reading]) -> list[ParsedMetric]:
    """One metric per (scenario, name): repeats are samples, declared details must agree."""
    groups: dict[tuple[str | None, str], list[_Reading]] = {}
    for reading in readings:
        groups.setdefault((reading.scenario, reading.name), []).append(reading)
    metrics: list[ParsedMetric] = []
    for (scenario, name), group in groups.items():
        unit = _agreed(group, "unit", lambda r: r.unit)
        direction: Direction | None = _agreed(group, "direction", _direction_of)
        if unit is None:
            unit = infer_unit(name)
        if direction is None:
            direction = infer_direction(name, unit)
        if len(group) == 1:
            value, samples = group[0].value, group[0].samples
        else:
            samples = tuple(reading.value for reading in group)
            value = mean(samples)
        metrics.append(ParsedMetric(name, value, unit, direction, samples, scenario))
    return metrics


def _direction_of(reading: _Reading) -> Direction | None:
    return reading.direction


def _agreed(group: list[_Reading], what: str, get: Callable[[_Reading], _T | None]) -> _T | None:
    """The one declared value of ``what`` across readings; two different ones are an error."""
    found: _T | None = None
    for reading in group:
        value = get(reading)
        if value is None:
            continue
        if found is not None and value != found:
            raise FormatError(
                NAME,
                f"{reading.name}: expected {what} {excerpt(str(found))} as declared before, "
                f"got {excerpt(str(value))}",
                line=reading.line,
            )
        found = value
    return found


def infer_unit(name: str) -> str:
    """The unit a name's suffix states (``p95_ms`` → ``ms``), or ``""``."""
    lowered = name.lower()
    if lowered.endswith(("_per_s", "_per_sec", "_per_second")):
        return "/s"
    words = snake(name).split("_")
    if len(words) < 2:
        return ""
    return _SUFFIX_UNITS.get(words[-1], "")


def infer_direction(name: str, unit: str) -> Direction | None:
    """Lower for times, latencies and errors; higher for rates and throughput; else unknown."""
    if unit in TIME_UNITS:
        return "lower"
    if unit in {"rps", "qps", "/s"} or unit.endswith("/s"):
        return "higher"
    return direction_from_name(name)
