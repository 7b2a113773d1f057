"""wrk's text report (best with ``--latency``), including wrk2's percentile lines.

wrk prints human units (``689.29us``, ``1.39MB``, ``6.42k``), so every value is converted:
latencies to milliseconds, sizes to bytes. Error lines are printed only when non-zero, so
their absence means zero and the error metrics are always reported. The scenario is the
URL of the ``Running ... test @ <url>`` line; several runs in one output are grouped by
URL, repeats of one URL becoming samples.
"""

from __future__ import annotations

import math
import re

from perfinvest.adapters.formats._helpers import (
    Accumulator,
    excerpt,
    iter_lines,
    stat_name,
    to_float,
)
from perfinvest.adapters.formats.base import Direction, FormatError, ParseResult

NAME = "wrk"

_TIME = r"(\d+(?:\.\d+)?)(us|ms|s|m|h)"
_SIZE = r"(\d+(?:\.\d+)?)([KMGTP]?)B"
_MS_PER = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_BYTES_PER = {"": 1.0, "K": 1024.0, "M": 1024.0**2, "G": 1024.0**3, "T": 1024.0**4, "P": 1024.0**5}

_RUNNING = re.compile(r"\s*Running (\S+) test @ (\S+)")
_LATENCY = re.compile(rf"\s*Latency\s+{_TIME}\s+(\S+)\s+{_TIME}(?:\s|$)")
_PERCENTILE = re.compile(rf"\s*(\d+(?:\.\d+)?)%\s+{_TIME}\s*")
_REQUESTS = re.compile(rf"\s*(\d+) requests in {_TIME}, {_SIZE} read\s*")
_SOCKET = re.compile(r"\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)\s*")
_NON_2XX = re.compile(r"\s*Non-2xx or 3xx responses: (\d+)\s*")
_RPS = re.compile(r"Requests/sec:\s+(\d+(?:\.\d+)?)\s*")
_TRANSFER = re.compile(rf"Transfer/sec:\s+{_SIZE}\s*")
_SNIFF = re.compile(r"^Requests/sec:\s+\d", re.MULTILINE)

_SOCKET_KINDS = ("connect", "read", "write", "timeout")


def sniff(text: str) -> bool:
    """wrk's closing ``Requests/sec:`` line is unique to it."""
    return _SNIFF.search(text) is not None


class _Run:
    """Readings of one ``Running ...`` section, flushed into the accumulator at its end."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self.values: list[tuple[str, float, str, Direction | None, int]] = []
        self.errors: dict[str, float] = {"non_2xx_3xx": 0.0, **dict.fromkeys(_SOCKET_KINDS, 0.0)}
        self.requests: float | None = None
        self.has_rps = False
        self.seen_percentiles: set[str] = set()

    def add(
        self, name: str, value: float, unit: str, direction: Direction | None, line: int
    ) -> None:
        self.values.append((name, value, unit, direction, line))


def parse(text: str) -> ParseResult:
    """Parse one or more wrk reports from ``text``."""
    acc = Accumulator(NAME)
    runs: list[_Run] = []
    current: _Run | None = None
    for number, line in iter_lines(text):
        match = _RUNNING.match(line)
        if match:
            current = _Run(match.group(2))
            runs.append(current)
            continue
        if current is None:
            if not _is_report_line(line):
                continue
            current = _Run(None)
            runs.append(current)
        _read_line(current, line, number)
    complete = [run for run in runs if run.has_rps]
    if not complete:
        raise FormatError(NAME, 'expected a "Requests/sec:" line (wrk prints it last)')
    for run in complete:
        for name, value, unit, direction, line_number in run.values:
            acc.add(run.url, name, value, unit, direction, line=line_number)
        _add_errors(acc, run)
    return ParseResult(NAME, tuple(acc.metrics()))


def _is_report_line(line: str) -> bool:
    """A report line seen before any ``Running`` header (output cut at the top)."""
    return any(
        pattern.match(line) for pattern in (_LATENCY, _REQUESTS, _SOCKET, _NON_2XX, _RPS, _TRANSFER)
    )


def _read_line(run: _Run, line: str, number: int) -> None:
    stripped = line.strip()
    if (match := _LATENCY.match(line)) is not None:
        run.add("mean_ms", _ms(match.group(1), match.group(2), number), "ms", "lower", number)
        stdev = re.fullmatch(_TIME, match.group(3))
        if stdev is not None:
            run.add("stddev_ms", _ms(stdev.group(1), stdev.group(2), number), "ms", "lower", number)
        run.add("max_ms", _ms(match.group(4), match.group(5), number), "ms", "lower", number)
    elif (match := _PERCENTILE.fullmatch(line)) is not None:
        name = stat_name(match.group(1) + "%") + "_ms"
        # wrk2 -U repeats the distribution uncorrected: the first one is the real latency.
        if name not in run.seen_percentiles:
            run.seen_percentiles.add(name)
            run.add(name, _ms(match.group(2), match.group(3), number), "ms", "lower", number)
    elif (match := _REQUESTS.fullmatch(line)) is not None:
        run.requests = to_float(match.group(1), NAME, line=number)
        run.add("requests", run.requests, "", None, number)
        run.add("duration_s", _ms(match.group(2), match.group(3), number) / 1e3, "s", None, number)
        run.add("read_bytes", _bytes(match.group(4), match.group(5), number), "bytes", None, number)
    elif (match := _SOCKET.fullmatch(line)) is not None:
        for kind, count in zip(_SOCKET_KINDS, match.groups(), strict=True):
            run.errors[kind] = to_float(count, NAME, line=number)
    elif (match := _NON_2XX.fullmatch(line)) is not None:
        run.errors["non_2xx_3xx"] = to_float(match.group(1), NAME, line=number)
    elif (match := _RPS.fullmatch(line)) is not None:
        run.add(
            "throughput_rps", to_float(match.group(1), NAME, line=number), "rps", "higher", number
        )
        run.has_rps = True
    elif (match := _TRANSFER.fullmatch(line)) is not None:
        value = _bytes(match.group(1), match.group(2), number)
        run.add("transfer_bytes_per_s", value, "bytes/s", "higher", number)
    elif stripped.startswith(("Requests/sec:", "Transfer/sec:", "Socket errors:", "Non-2xx")):
        label = stripped.split(":", 1)[0]
        raise FormatError(
            NAME, f'expected wrk\'s "{label}:" line, got {excerpt(stripped)}', line=number
        )


def _add_errors(acc: Accumulator, run: _Run) -> None:
    """Error counts, their total and the share of attempts that failed."""
    for kind, count in run.errors.items():
        acc.add(run.url, f"errors_{kind}", count, "", "lower")
    total = sum(run.errors.values())
    if not math.isfinite(total):
        raise FormatError(NAME, "expected error counts that add up to a finite number")
    acc.add(run.url, "errors", total, "", "lower")
    if run.requests is not None:
        # Socket errors are attempts that never became a counted response, non-2xx are
        # responses: the denominator counts both, so the rate stays within [0, 1].
        socket_errors = sum(run.errors[kind] for kind in _SOCKET_KINDS)
        attempts = run.requests + socket_errors
        rate = total / attempts if attempts else 0.0
        acc.add(run.url, "error_rate", min(rate, 1.0), "", "lower")


def _ms(value: str, unit: str, line: int) -> float:
    return _finite(to_float(value, NAME, line=line) * _MS_PER[unit], line)


def _bytes(value: str, prefix: str, line: int) -> float:
    return _finite(to_float(value, NAME, line=line) * _BYTES_PER[prefix], line)


def _finite(value: float, line: int) -> float:
    """Unit scaling can overflow a huge but finite reading: refuse it rather than store inf."""
    if not math.isfinite(value):
        raise FormatError(NAME, "expected a finite value after unit conversion", line=line)
    return value
