"""PerfMetrics v0.1 (pure): the versioned, tool-neutral file CI keeps as its baseline artifact.

``schemas/perf/PerfMetrics.v0.1.json`` is :data:`SCHEMA` (a test keeps them equal). Any
result perfinvest reads (a baseline, a ``run --export`` file, so every tool format) converts
to it: every metric with its unit, direction and value, and p50/p95/p99/p99.9 where raw
samples exist; ``latency``, ``error_rate`` and ``throughput`` lifted to the top when a metric
of that kind is there.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from perfinvest.core.models import Run
from perfinvest.core.stats.baselines import run_samples, run_values

VERSION = "0.1"
_NUM = {"type": "number"}
_NUM_OR_NULL = {"type": ["number", "null"]}
_PCTS = {"p50": _NUM, "p95": _NUM, "p99": _NUM, "p99_9": _NUM}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://perfinvest.dev/schemas/perf/PerfMetrics.v0.1.json",
    "title": "PerfMetrics v0.1",
    "type": "object",
    "required": ["schema_version", "timestamp", "scenario", "environment", "metrics"],
    "additionalProperties": False,
    "properties": {
        "schema_version": {"const": VERSION},
        "timestamp": {"type": "string", "format": "date-time"},
        "scenario": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "route": {"type": ["string", "null"]},
                "concurrency": {"type": ["integer", "null"], "minimum": 1},
                "duration_s": _NUM_OR_NULL,
            },
        },
        "environment": {
            "type": "object",
            "required": ["machine", "commit", "config_hash"],
            "additionalProperties": False,
            "properties": {
                "machine": {"type": "string"},
                "commit": {"type": ["string", "null"]},
                "config_hash": {"type": "string"},
            },
        },
        "latency": {
            "type": "object",
            "required": ["metric", "unit", "p50", "p95", "p99"],
            "additionalProperties": False,
            "properties": {"metric": {"type": "string"}, "unit": {"type": "string"}, **_PCTS},
        },
        "error_rate": _NUM_OR_NULL,
        "throughput": _NUM_OR_NULL,
        "metrics": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["name", "value", "unit"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "scenario": {"type": ["string", "null"]},
                    "value": _NUM,
                    "unit": {"type": "string"},
                    "direction": {"enum": ["lower", "higher", None]},
                    "runs": {"type": "integer", "minimum": 1},
                    "samples": {"type": "array", "items": _NUM},
                    **_PCTS,
                },
            },
        },
    },
}


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    pos = (len(sorted_values) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def _pcts(samples: Sequence[float]) -> dict[str, float]:
    s = sorted(samples)
    return {
        "p50": percentile(s, 0.5),
        "p95": percentile(s, 0.95),
        "p99": percentile(s, 0.99),
        "p99_9": percentile(s, 0.999),
    }


def to_perfmetrics(
    runs: Sequence[Run],
    *,
    name: str,
    primary: str | None = None,
    with_samples: bool = True,
    route: str | None = None,
    concurrency: int | None = None,
) -> dict[str, Any]:
    """One PerfMetrics document from the valid runs of a result (means across runs);
    ``route`` and ``concurrency`` when the caller knows them (a load run's route, users)."""
    valid = [r for r in runs if r.valid]
    values, samples = run_values(valid), run_samples(valid)
    info = {m.key: m for r in valid for m in r.metrics}
    first = valid[0]
    metrics: list[dict[str, Any]] = []
    for key in sorted(values):
        m = info[key]
        row: dict[str, Any] = {
            "name": m.name,
            "scenario": m.scenario,
            "value": math.fsum(values[key]) / len(values[key]),
            "unit": m.unit,
            "direction": m.direction,
            "runs": len(values[key]),
        }
        if samples.get(key):
            row.update(_pcts(samples[key]))
            if with_samples:
                row["samples"] = list(samples[key])
        metrics.append(row)
    doc: dict[str, Any] = {
        "schema_version": VERSION,
        "timestamp": first.started_at.isoformat().replace("+00:00", "Z"),
        "scenario": {
            "name": name,
            "route": route,
            "concurrency": concurrency,
            "duration_s": math.fsum(r.duration_s for r in valid) / len(valid),
        },
        "environment": {
            "machine": first.environment.host,
            "commit": first.environment.git_commit,
            "config_hash": first.environment.config_hash,
        },
        "metrics": metrics,
    }
    latency = next(
        (r for r in metrics if "p50" in r and (r["name"] == primary or r["unit"] in _TIME)),
        None,
    )
    if latency is not None:
        doc["latency"] = {
            "metric": latency["name"],
            "unit": latency["unit"],
            **{k: latency[k] for k in ("p50", "p95", "p99", "p99_9")},
        }
    doc["error_rate"] = _lift(metrics, ("error_rate", "errors_pct", "error_pct"))
    doc["throughput"] = _lift(metrics, ("throughput", "throughput_rps", "rps", "requests_per_s"))
    return doc


_TIME = {"ns", "us", "ms", "s"}


def _lift(metrics: list[dict[str, Any]], names: tuple[str, ...]) -> float | None:
    found = [m["value"] for m in metrics if m["name"] in names and m["scenario"] is None]
    return float(found[0]) if found else None


LIST_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://perfinvest.dev/schemas/perf/PerfMetricsList.v0.1.json",
    "title": "PerfMetrics v0.1 list (metrics export --history N)",
    "description": "The results of a baselines history window, oldest first; each item is a "
    "PerfMetrics v0.1 document (PerfMetrics.v0.1.json, repeated under $defs).",
    "type": "array",
    "minItems": 1,
    "items": {"$ref": "#/$defs/PerfMetrics"},
    "$defs": {"PerfMetrics": {k: v for k, v in SCHEMA.items() if k not in ("$schema", "$id")}},
}

_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
)


def parse_date_time(text: str) -> datetime | None:
    """An RFC 3339 date-time (JSON Schema's ``date-time``) as an aware datetime, else None.

    A leap second (``:60``) is valid RFC 3339 and reads as ``:59``."""
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, zone = match.group(7) or "", match.group(8).upper()
    try:
        offset = (
            timedelta(0) if zone == "Z" else timedelta(hours=int(zone[1:3]), minutes=int(zone[4:]))
        )
        if offset >= timedelta(hours=24):
            return None
        tz = timezone(-offset if zone.startswith("-") else offset)
        micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
        return datetime(year, month, day, hour, minute, min(second, 59), micro, tzinfo=tz)
    except ValueError:
        return None


def _is_date_time(value: object) -> bool:
    return not isinstance(value, str) or parse_date_time(value) is not None


def _non_finite(value: Any, path: list[str]) -> list[str]:
    """``path: NaN is not a finite number`` for every NaN or Infinity nested in ``value``."""
    if isinstance(value, float) and not math.isfinite(value):
        name = "NaN" if math.isnan(value) else ("-Infinity" if value < 0 else "Infinity")
        where = "/".join(path) or "(top level)"
        return [f"{where}: {name} is not a finite number (JSON has no NaN or Infinity)"]
    if isinstance(value, dict):
        return [line for k, v in value.items() for line in _non_finite(v, [*path, str(k)])]
    if isinstance(value, list):
        return [line for i, v in enumerate(value) for line in _non_finite(v, [*path, str(i)])]
    return []


def problems(doc: Any) -> list[str]:
    """Every violation of :data:`SCHEMA` (a list: of :data:`LIST_SCHEMA`), one line each
    (``path: message``), in a stable order; formats are checked (``date-time``), and a NaN
    or Infinity (which Python's json reads) is a problem too.

    A list is a history export: each item must be a v0.1 document (paths start ``i/``)."""
    if isinstance(doc, list) and not doc:
        return ["(top level): an empty list (a history export holds at least one document)"]
    from jsonschema import Draft202012Validator, FormatChecker

    # jsonschema checks date-time only with the optional rfc3339-validator installed: ours.
    formats = FormatChecker()
    formats.checks("date-time")(_is_date_time)
    schema = LIST_SCHEMA if isinstance(doc, list) else SCHEMA
    lines = _non_finite(doc, [])
    for e in Draft202012Validator(schema, format_checker=formats).iter_errors(doc):
        parts = [str(p) for p in e.absolute_path]
        if isinstance(doc, list) and len(parts) == 1:
            parts.append("(top level)")  # the item itself: "1/(top level): ..."
        path = "/".join(parts) or "(top level)"
        if e.validator == "format":
            lines.append(
                f"{path}: {e.instance!r} is not an RFC 3339 {e.validator_value} "
                "(e.g. 2024-05-01T12:00:00Z)"
            )
        else:
            lines.append(f"{path}: {e.message}")
    return sorted(lines)
