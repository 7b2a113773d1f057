"""Locust ``--csv`` statistics (the ``<prefix>_stats.csv`` file).

Each request row is a scenario named ``"<Type> <Name>"`` (``GET /``); the
``Aggregated`` row (``Total`` in old Locust) holds the whole test and has no scenario.
Response times are milliseconds. ``N/A`` cells (no requests yet) are skipped. Old
headers (``Method``, ``# requests``) are understood too.
"""

from __future__ import annotations

import csv
import io
import re

from perfinvest.adapters.formats._helpers import excerpt, parse_number, stat_name
from perfinvest.adapters.formats.base import Direction, FormatError, ParsedMetric, ParseResult

NAME = "locust-csv"

#: Header (lower-cased) → (metric name, unit, direction); ``type``/``name`` are labels.
_COLUMNS: dict[str, tuple[str, str, Direction | None]] = {
    "request count": ("requests", "", None),
    "# requests": ("requests", "", None),
    "failure count": ("failures", "", "lower"),
    "# failures": ("failures", "", "lower"),
    "median response time": ("median_ms", "ms", "lower"),
    "average response time": ("mean_ms", "ms", "lower"),
    "min response time": ("min_ms", "ms", "lower"),
    "max response time": ("max_ms", "ms", "lower"),
    "average content size": ("avg_content_size_bytes", "bytes", None),
    "requests/s": ("throughput_rps", "rps", "higher"),
    "failures/s": ("failures_per_s", "/s", "lower"),
}
_LABELS = {"type": "type", "method": "type", "name": "name"}
_PERCENTILE = re.compile(r"\d+(?:\.\d+)?%")
_AGGREGATE_NAMES = frozenset({"Aggregated", "Total"})


def _header_key(cell: str) -> str:
    return cell.strip().lower()


def sniff(text: str) -> bool:
    """The first line is a Locust stats header: ``Name``, a request count and ``Requests/s``."""
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    try:
        header = {_header_key(cell) for cell in next(csv.reader([first]), [])}
    except csv.Error:
        return False
    return (
        "name" in header
        and bool(header & {"request count", "# requests"})
        and "requests/s" in header
    )


def parse(text: str) -> ParseResult:
    """Parse the stats CSV; rows that are not the header's width are errors."""
    try:
        rows = list(_rows(text))
    except csv.Error as exc:
        raise FormatError(NAME, f"expected CSV: {exc}") from None
    if not rows:
        raise FormatError(NAME, "expected a Locust _stats.csv header, got empty output")
    header_line, header = rows[0]
    keys = [_header_key(cell) for cell in header]
    if "timestamp" in keys:
        raise FormatError(
            NAME,
            "expected the _stats.csv file, got _stats_history.csv (one row per second)",
            line=header_line,
        )
    if "name" not in keys or not set(keys) & {"request count", "# requests"}:
        raise FormatError(
            NAME,
            f'expected a Locust _stats.csv header with "Name" and "Request Count", got '
            f"{excerpt(','.join(header))}",
            line=header_line,
        )
    metrics: list[ParsedMetric] = []
    for number, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(keys):
            raise FormatError(
                NAME, f"expected {len(keys)} columns like the header, got {len(row)}", line=number
            )
        metrics.extend(_row_metrics(keys, header, row, number))
    if not metrics:
        raise FormatError(NAME, "expected at least one stats row after the header")
    return ParseResult(NAME, tuple(metrics))


def _rows(text: str) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    return [(reader.line_num, row) for row in reader if row]


def _row_metrics(
    keys: list[str], header: list[str], row: list[str], line: int
) -> list[ParsedMetric]:
    labels = {
        _LABELS[key]: cell.strip() for key, cell in zip(keys, row, strict=True) if key in _LABELS
    }
    name, kind = labels.get("name", ""), labels.get("type", "")
    if name in _AGGREGATE_NAMES and kind in {"", "None"}:
        scenario: str | None = None
    else:
        scenario = f"{kind} {name}".strip() or f"row {line}"
    values: dict[str, tuple[float, str, Direction | None]] = {}
    for key, title, cell in zip(keys, header, row, strict=True):
        if key in _LABELS:
            continue
        if key in _COLUMNS:
            metric, unit, direction = _COLUMNS[key]
        elif _PERCENTILE.fullmatch(key):
            metric, unit, direction = f"{stat_name(key)}_ms", "ms", "lower"
        else:
            continue  # a column this parser does not know: new Locust versions add some
        text = cell.strip()
        if text in {"", "N/A"}:
            continue
        value = parse_number(text)
        if value is None:
            raise FormatError(
                NAME,
                f"column {excerpt(title.strip())}: expected a number, got {excerpt(text)}",
                line=line,
            )
        values.setdefault(metric, (value, unit, direction))
    metrics = [
        ParsedMetric(metric, value, unit, direction, (), scenario)
        for metric, (value, unit, direction) in values.items()
    ]
    if "requests" in values and "failures" in values and values["requests"][0] > 0:
        rate = min(values["failures"][0] / values["requests"][0], 1.0)
        metrics.append(ParsedMetric("error_rate", rate, "", "lower", (), scenario))
    return metrics
