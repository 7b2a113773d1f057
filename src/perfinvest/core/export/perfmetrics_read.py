"""A PerfMetrics v0.1 document read back as one :class:`Run` (pure).

So ``diff``, ``budget check`` and ``metrics export`` take a PerfMetrics file (a CI artifact,
a ``perfinvest simulate -o`` result) as they take a ``run --export`` file. The document
holds each metric's mean over runs, so it reads as a single run; raw samples come back
where the file kept them; percentiles are recomputed from them, not read.
"""

from __future__ import annotations

from typing import Any

from perfinvest.core.errors import usage_error
from perfinvest.core.export.perfmetrics import VERSION, parse_date_time, problems
from perfinvest.core.models import EnvironmentFingerprint, Metric, Run


def is_perfmetrics(doc: Any) -> bool:
    """A PerfMetrics document: a ``schema_version`` and a ``metrics`` list."""
    return isinstance(doc, dict) and "schema_version" in doc and "metrics" in doc


def run_from_perfmetrics(doc: dict[str, Any], source: str) -> Run:
    """One valid run; an invalid document is one usage error naming its first problem."""
    if doc.get("schema_version") != VERSION:
        raise usage_error(
            f"{source}: PerfMetrics schema_version {doc.get('schema_version')!r} is not "
            f"supported (this perfinvest reads {VERSION})"
        )
    found = problems(doc)
    if found:
        raise usage_error(f"{source}: not valid PerfMetrics {VERSION}: {found[0]}")
    started = parse_date_time(doc["timestamp"])
    assert started is not None  # problems() checked the format
    env = doc["environment"]
    metrics = [
        Metric(
            name=row["name"],
            value=float(row["value"]),
            unit=row.get("unit", ""),
            direction=row.get("direction"),
            samples=[float(x) for x in row.get("samples", [])],
            scenario=row.get("scenario"),
        )
        for row in doc["metrics"]
    ]
    duration = doc["scenario"].get("duration_s") or 0.0
    return Run(
        run_id=f"perfmetrics-{doc['scenario']['name']}",
        started_at=started,
        duration_s=float(duration),
        requested_duration_s=float(duration),
        metrics=metrics,
        environment=EnvironmentFingerprint(
            host=env["machine"], git_commit=env["commit"], config_hash=env["config_hash"]
        ),
    )
