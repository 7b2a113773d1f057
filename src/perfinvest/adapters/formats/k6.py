"""k6 end-of-test summaries: ``--summary-export`` files and ``handleSummary`` data.

Both are a ``metrics`` object keyed by k6 metric name; they differ in shape and, above
all, in what a threshold value means:

* ``--summary-export``: ``{"avg": .., "p(95)": .., "thresholds": {"p(95)<500": false}}``,
  where a threshold value of ``true`` means the threshold FAILED (k6 writes ``!ok``);
* ``handleSummary`` data (``JSON.stringify(data)``): ``{"type": "trend", "contains":
  "time", "values": {...}, "thresholds": {"p(95)<500": {"ok": true}}}``, where
  ``ok: false`` means failed.

Names: trends give ``<metric>_<stat>[_<unit>]`` (``http_req_duration_p95_ms``; ``avg`` is
``mean``, ``med`` is ``median``), counters ``<metric>_count`` and ``<metric>_rate`` (per
second), rates ``<metric>`` (the fraction), ``<metric>_passes`` and ``<metric>_fails``,
gauges ``<metric>``, ``<metric>_min`` and ``<metric>_max``. A sub-metric tagged only with
a scenario (``http_req_duration{scenario:checkout}``) becomes that metric in scenario
``checkout``; other tags are folded into the name (``..._expected_response_true``).
A derived name that is also a k6 metric's own name (``vus_max``: the ``vus`` gauge's
maximum, or the ``vus_max`` metric?) goes to the metric itself.
Times are milliseconds (k6 always writes them so); ``--summary-export`` does not say
which custom trends are times, so only k6's built-in time metrics get ``_ms`` there.
"""

from __future__ import annotations

import re

from perfinvest.adapters.formats._helpers import (
    JsonReader,
    direction_from_name,
    load_json,
    snake,
    stat_name,
)
from perfinvest.adapters.formats.base import Direction, ParsedMetric, ParseResult

NAME = "k6-summary"

_TYPES = frozenset({"trend", "counter", "rate", "gauge"})
_SUBMETRIC = re.compile(r"([^{}]+)\{(.*)\}")
#: k6's built-in metrics that hold times (milliseconds).
_TIME_METRICS = frozenset(
    {
        "http_req_duration",
        "http_req_blocked",
        "http_req_connecting",
        "http_req_tls_handshaking",
        "http_req_sending",
        "http_req_waiting",
        "http_req_receiving",
        "iteration_duration",
        "group_duration",
        "ws_connecting",
        "ws_session_duration",
        "ws_ping",
        "grpc_req_duration",
    }
)
_DATA_METRICS = frozenset({"data_received", "data_sent", "ws_msgs_received", "ws_msgs_sent"})
_HIGHER_RATES = frozenset({"http_reqs", "iterations", "grpc_reqs", "checks"})
_LOWER_RATES = frozenset({"http_req_failed", "dropped_iterations"})


def sniff(doc: dict[str, object]) -> bool:
    """A ``metrics`` object next to k6's ``root_group``, or whose entries carry k6 types."""
    metrics = doc.get("metrics")
    if not isinstance(metrics, dict) or not metrics:
        return False
    if "root_group" in doc:
        return True
    return all(
        isinstance(entry, dict)
        and entry.get("type") in _TYPES
        and isinstance(entry.get("values"), dict)
        for entry in metrics.values()
    )


def parse(text: str) -> ParseResult:
    """Parse either k6 summary form; the form is told by the ``values`` objects."""
    doc, line = load_json(text, NAME)
    read = JsonReader(NAME, line)
    top = read.obj(doc, "", 'a JSON object with "metrics"')
    if "metrics" not in top:
        raise read.fail("", 'a JSON object with "metrics"', top)
    entries = read.obj(top["metrics"], "metrics")
    handle_summary = any(
        isinstance(entry, dict) and "values" in entry for entry in entries.values()
    )
    metrics: dict[tuple[str | None, str], ParsedMetric] = {}
    failed: list[str] = []
    for k6_name, raw in entries.items():
        where = f"metrics.{k6_name}"
        entry = read.obj(raw, where)
        if handle_summary:
            kind, contains, values, thresholds = _handle_summary_entry(read, entry, where)
        else:
            kind, contains, values, thresholds = _export_entry(read, entry, where, k6_name)
        failed.extend(f"{k6_name}: {expression}" for expression in thresholds)
        own_name = snake(_split_name(k6_name)[0]) or "metric"
        for metric in _metrics(read, k6_name, kind, contains, values, where):
            key = (metric.scenario, metric.name)
            # ``vus_max`` is both a k6 metric and the max of the ``vus`` gauge: the name
            # belongs to the metric itself; otherwise the first one keeps it.
            if key not in metrics or metric.name == own_name:
                metrics[key] = metric
    result = list(metrics.values())
    if handle_summary:
        result.extend(_state_metrics(read, top))
    if not result:
        raise read.fail("metrics", "at least one metric", entries)
    return ParseResult(NAME, tuple(result), tuple(failed))


def _handle_summary_entry(
    read: JsonReader, entry: dict[str, object], where: str
) -> tuple[str, str, dict[str, object], list[str]]:
    """``handleSummary`` data: explicit type and contents; ``ok: false`` is a failure."""
    kind = read.text(entry.get("type"), f"{where}.type")
    contains = read.text(entry.get("contains", "default"), f"{where}.contains")
    values = read.obj(entry.get("values"), f"{where}.values")
    failed: list[str] = []
    if entry.get("thresholds") is not None:
        thresholds = read.obj(entry["thresholds"], f"{where}.thresholds")
        for expression, result in thresholds.items():
            status = read.obj(result, f"{where}.thresholds.{expression}", 'an object with "ok"')
            ok = status.get("ok")
            if not isinstance(ok, bool):
                raise read.fail(f"{where}.thresholds.{expression}.ok", "true or false", ok)
            if not ok:
                failed.append(expression)
    return kind, contains, values, failed


def _export_entry(
    read: JsonReader, entry: dict[str, object], where: str, k6_name: str
) -> tuple[str, str, dict[str, object], list[str]]:
    """``--summary-export``: type told by the keys; a threshold value ``true`` is a FAILURE."""
    values = {key: value for key, value in entry.items() if key != "thresholds"}
    if "passes" in values or "fails" in values:
        kind = "rate"
        if "value" in values:  # k6 renames a rate's ``rate`` to ``value`` in this form
            values["rate"] = values.pop("value")
    elif "count" in values and "rate" in values:
        kind = "counter"
    elif "value" in values:
        kind = "gauge"
    else:
        kind = "trend"
    base = k6_name.split("{", 1)[0]  # sub-metrics hold what their parent metric holds
    contains = "time" if base in _TIME_METRICS else "data" if base in _DATA_METRICS else "default"
    failed: list[str] = []
    if entry.get("thresholds") is not None:
        thresholds = read.obj(entry["thresholds"], f"{where}.thresholds")
        for expression, result in thresholds.items():
            if not isinstance(result, bool):
                raise read.fail(f"{where}.thresholds.{expression}", "true or false", result)
            if result:
                failed.append(expression)
    return kind, contains, values, failed


def _metrics(
    read: JsonReader,
    k6_name: str,
    kind: str,
    contains: str,
    values: dict[str, object],
    where: str,
) -> list[ParsedMetric]:
    base, scenario = _split_name(k6_name)
    name = snake(base) or "metric"
    unit = {"time": "ms", "data": "bytes"}.get(contains, "")
    out: list[ParsedMetric] = []

    def add(metric: str, key: str, metric_unit: str, direction: Direction | None) -> None:
        if key in values:
            value = read.num(values[key], f"{where}.{key}")
            out.append(ParsedMetric(metric, value, metric_unit, direction, (), scenario))

    if kind == "counter":
        rate_direction = _rate_direction(base)
        add(f"{name}_count", "count", unit, None)
        add(f"{name}_rate", "rate", f"{unit}/s" if unit else "/s", rate_direction)
    elif kind == "rate":
        direction: Direction | None = _rate_direction(base)
        # ``passes`` counts non-zero samples (for http_req_failed: failed requests), so it
        # shares the rate's direction and ``fails`` has the opposite one.
        opposite: Direction | None = {"higher": "lower", "lower": "higher", None: None}[direction]
        add(name, "rate", "", direction)
        add(f"{name}_passes", "passes", "", direction)
        add(f"{name}_fails", "fails", "", opposite)
    elif kind == "gauge":
        add(name, "value", unit, None)
        add(f"{name}_min", "min", unit, None)
        add(f"{name}_max", "max", unit, None)
    else:  # trend, or a type this parser does not know: every value is a statistic
        direction = "lower" if contains == "time" else direction_from_name(base)
        for key in values:
            stat = stat_name(key)
            stat_unit = "" if stat == "count" else unit
            suffix = f"_{stat_unit}" if stat_unit else ""
            add(f"{name}_{stat}{suffix}", key, stat_unit, direction if stat != "count" else None)
    return out


def _rate_direction(base: str) -> Direction | None:
    if base in _HIGHER_RATES:
        return "higher"
    if base in _LOWER_RATES:
        return "lower"
    return direction_from_name(base)


def _split_name(k6_name: str) -> tuple[str, str | None]:
    """``metric{scenario:x}`` → (``metric``, ``x``); other tags stay in the name."""
    match = _SUBMETRIC.fullmatch(k6_name)
    if match is None:
        return k6_name, None
    tags = match.group(2)
    key, sep, value = tags.partition(":")
    if sep and key.strip() == "scenario" and "," not in value and value.strip():
        return match.group(1), value.strip()
    return k6_name, None


def _state_metrics(read: JsonReader, top: dict[str, object]) -> list[ParsedMetric]:
    """The test's wall duration from ``state.testRunDurationMs``, when present."""
    state = top.get("state")
    if not isinstance(state, dict) or state.get("testRunDurationMs") is None:
        return []
    value = read.num(state["testRunDurationMs"], "state.testRunDurationMs")
    return [ParsedMetric("test_run_duration_ms", value, "ms", None)]
