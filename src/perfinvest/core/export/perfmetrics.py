"""PerfMetrics v0.1 (pure): the versioned, tool-neutral file CI keeps as its baseline artifact.

``schemas/perf/PerfMetrics.v0.1.json`` is :data:`SCHEMA` (a test keeps them equal). Any
result perfinvest reads (a baseline, a ``run --export`` file, so every tool format) converts
to it: every metric with its unit, direction and value, and p50/p95/p99/p99.9 where raw
samples exist; ``latency``, ``error_rate`` and ``throughput`` lifted to the top when a metric
of that kind is there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
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


def problems(doc: Any) -> list[str]:
    """Every schema violation, one line each (``path: message``), in a stable order.

    A list is a history export: each item must be a v0.1 document (paths start ``i/``)."""
    if isinstance(doc, list):
        if not doc:
            return ["(top level): an empty list (a history export holds at least one document)"]
        return [f"{i}/{line}" for i, item in enumerate(doc) for line in problems(item)]
    from jsonschema import Draft202012Validator

    errors = Draft202012Validator(SCHEMA).iter_errors(doc)
    lines = []
    for e in errors:
        path = "/".join(str(p) for p in e.absolute_path) or "(top level)"
        lines.append(f"{path}: {e.message}")
    return sorted(lines)
