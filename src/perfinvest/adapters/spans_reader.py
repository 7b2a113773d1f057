"""Span artifacts (``perfinvest.spans``) in a run's folder, read as metrics of the run.

Every process of the run that recorded spans left ``spans-<pid>.json`` in
``PERF_ARTIFACT_DIR``; their samples are merged per span name and become
``span:<name>:count``, ``span:<name>:mean_ms``, ``span:<name>:p50_ms``, ``p95_ms``,
``p99_ms`` and ``max_ms``. Spans a process never ended are reported, not measured.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from perfinvest.core.models import Metric
from perfinvest.core.stats.summaries import percentile

FORMAT_PREFIX = "perfinvest.spans/"
GLOB = "spans-*.json"


@dataclass
class SpanReading:
    """The metrics, the files they came from, and what was wrong with any of them."""

    metrics: list[Metric] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    traces: list[Path] = field(default_factory=list)  # the Chrome traces beside them
    problems: list[str] = field(default_factory=list)
    unclosed: dict[str, int] = field(default_factory=dict)


def _numbers(value: object) -> list[float] | None:
    if not isinstance(value, list):
        return None
    out: list[float] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
            return None
        out.append(float(item))
    return out


def read_span_metrics(run_dir: Path) -> SpanReading:
    """Merge every span summary in ``run_dir`` into run metrics."""
    reading = SpanReading()
    samples: dict[str, list[float]] = {}
    counts: dict[str, int] = {}
    maxima: dict[str, float] = {}
    totals: dict[str, float] = {}
    for path in sorted(run_dir.glob(GLOB)):
        if path.name.endswith(".trace.json"):
            continue
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            reading.problems.append(f"{path.name}: not a readable span summary ({exc})")
            continue
        spans = doc.get("spans") if isinstance(doc, dict) else None
        fmt = doc.get("format") if isinstance(doc, dict) else None
        if (
            not isinstance(fmt, str)
            or not fmt.startswith(FORMAT_PREFIX)
            or not isinstance(spans, dict)
        ):
            reading.problems.append(
                f"{path.name}: expected a {FORMAT_PREFIX}* summary with a spans object"
            )
            continue
        reading.files.append(path)
        trace = path.with_name(path.name.removesuffix(".json") + ".trace.json")
        if trace.is_file():
            reading.traces.append(trace)
        unclosed = doc.get("unclosed")
        if isinstance(unclosed, dict):
            for name, count in unclosed.items():
                if isinstance(count, int):
                    reading.unclosed[name] = reading.unclosed.get(name, 0) + count
        for name, entry in spans.items():
            values = _numbers(entry.get("samples_ms")) if isinstance(entry, dict) else None
            count = entry.get("count") if isinstance(entry, dict) else None
            if not values or not isinstance(count, int) or count < 1:
                reading.problems.append(f"{path.name}: span {name!r} has no count or samples")
                continue
            samples.setdefault(name, []).extend(values)
            counts[name] = counts.get(name, 0) + count
            maxima[name] = max(maxima.get(name, 0.0), float(entry.get("max_ms", max(values))))
            totals[name] = totals.get(name, 0.0) + float(entry.get("total_ms", sum(values)))
    for name in sorted(samples):
        ordered = sorted(samples[name])
        prefix = f"span:{name}:"

        def ms(metric: str, value: float, prefix: str = prefix) -> Metric:
            return Metric(name=prefix + metric, value=value, unit="ms", direction="lower")

        reading.metrics.extend(
            [
                Metric(name=prefix + "count", value=float(counts[name]), unit="", direction=None),
                ms("mean_ms", totals[name] / counts[name]),
                ms("p50_ms", percentile(ordered, 50)),
                ms("p95_ms", percentile(ordered, 95)),
                ms("p99_ms", percentile(ordered, 99)),
                ms("max_ms", maxima[name]),
            ]
        )
    return reading
