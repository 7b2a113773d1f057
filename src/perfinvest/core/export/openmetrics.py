"""The metric families of ``perfinvest export openmetrics``, built from :class:`ExportData`.

Pure: families are plain data (name, type, unit, samples with labels and timestamps); the
adapter (``adapters/export/openmetrics.py``) hands them to ``prometheus_client``, whose
exposition writers do the escaping, ``# UNIT``, ``_info``/``_total`` suffixes and ``# EOF``
exactly as its own parser expects. Keeping the numbers here keeps them testable without it.

Metric names do not vary with what a benchmark reports: a perfinvest metric (``p95_ms``,
``requests``...) is the ``metric`` label of a few fixed families, so a dashboard can be
written once (``core/export/grafana.py``) for every investigation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from perfinvest.core.export.data import (
    ExportBaseline,
    ExportData,
    ExportRun,
    environment_id,
    scenario_route,
)
from perfinvest.core.export.families import PREFIX, Family, Sample, flag
from perfinvest.core.export.openmetrics_phases import PHASE_FAMILIES, add_phases
from perfinvest.core.stats.baselines import metric_key, run_samples, run_values
from perfinvest.core.stats.summaries import summarize

#: Quantile label values and the summary field each comes from.
QUANTILES = (("0.5", "p50"), ("0.9", "p90"), ("0.95", "p95"), ("0.99", "p99"), ("0.999", "p999"))
#: Load run metrics (core/load/results.py) that are latency quantiles, by quantile.
LOAD_QUANTILES = (
    ("0.5", "p50_ms"),
    ("0.9", "p90_ms"),
    ("0.95", "p95_ms"),
    ("0.99", "p99_ms"),
    ("0.999", "p999_ms"),
)
BASELINE_STATS = ("mean", "stddev", "cv", "min", "max", "median", "n")


#: name → (type, unit, help); the order of the exposition.
FAMILIES: dict[str, tuple[str, str, str]] = {
    f"{PREFIX}_environment": (
        "info",
        "",
        "The machine a result was measured on; environment is the id every result carries.",
    ),
    f"{PREFIX}_baseline": (
        "info",
        "",
        "A baseline file of a version (superseded ones are archived, kept as history).",
    ),
    f"{PREFIX}_run_value": (
        "gauge",
        "",
        "One metric of one run as the benchmark reported it (metric, unit as labels).",
    ),
    f"{PREFIX}_run_timestamp_seconds": (
        "gauge",
        "seconds",
        "When a run started (Unix time), for stores that drop sample timestamps.",
    ),
    f"{PREFIX}_run_duration_seconds": ("gauge", "seconds", "How long a run measured."),
    f"{PREFIX}_baseline_value": (
        "gauge",
        "",
        "A statistic (stat label) of a metric across the valid runs of a baseline.",
    ),
    f"{PREFIX}_baseline_samples": (
        "summary",
        "",
        "Quantiles of a baseline metric's raw samples (basis=samples) or run values (runs).",
    ),
    f"{PREFIX}_load_latency_milliseconds": (
        "summary",
        "milliseconds",
        "Response-time quantiles of a load run per route, from Locust's full histogram.",
    ),
    f"{PREFIX}_load_requests_per_second": (
        "gauge",
        "",
        "Requests per second a load run sustained over its steady window, per route.",
    ),
    f"{PREFIX}_load_error_ratio": (
        "gauge",
        "ratio",
        "Failed requests over all requests of a load run, per route.",
    ),
    f"{PREFIX}_load_requests": ("counter", "", "Requests a load run made, per route."),
    f"{PREFIX}_load_failures": ("counter", "", "Requests of a load run that failed, per route."),
    # breaking-point probes and constrained runs (core/export/openmetrics_phases.py)
    **PHASE_FAMILIES,
}


def _common(er: ExportRun) -> dict[str, str]:
    return {
        "investigation": er.investigation,
        "version": er.version,
        "environment": environment_id(er.environment),
        "config_hash": er.config_hash,
        "superseded": flag(er.superseded),
    }


def run_labels(er: ExportRun) -> dict[str, str]:
    """The labels every sample of a run carries (its metrics add metric, unit, route...)."""
    return {
        **_common(er),
        "phase": er.phase,
        "run_id": er.run.run_id,
        "source": er.source,
        "compliant": flag(er.run.compliant),
        "valid": flag(er.run.valid),
        "experiment": er.experiment,
        "side": er.side,
    }


def _environments(families: dict[str, Family], runs: list[ExportRun]) -> None:
    latest: dict[str, ExportRun] = {}
    for er in runs:
        key = environment_id(er.environment)
        if key not in latest or er.at > latest[key].at:
            latest[key] = er
    for key, er in sorted(latest.items()):
        env = er.environment
        labels = {
            "environment": key,
            "host": env.host,
            "cpu_model": env.cpu_model,
            "cpu_count": str(env.cpu_count),
            "kernel": env.kernel,
            "python": env.python,
        }
        families[f"{PREFIX}_environment"].add("_info", labels, 1.0, er.at)


def _run(families: dict[str, Family], er: ExportRun) -> None:
    labels = run_labels(er)
    run = er.run
    for metric in run.metrics:
        scenario, route = scenario_route(er, metric.scenario)
        values = {**labels, "scenario": scenario, "route": route}
        values |= {"metric": metric.name, "unit": metric.unit}
        families[f"{PREFIX}_run_value"].add("", values, metric.value, er.at)
    families[f"{PREFIX}_run_timestamp_seconds"].add("", labels, run.started_at.timestamp(), er.at)
    families[f"{PREFIX}_run_duration_seconds"].add("", labels, run.duration_s, er.at)
    if er.phase == "load":
        _load(families, er, labels)


def _load(families: dict[str, Family], er: ExportRun, labels: dict[str, str]) -> None:
    by_route: dict[str, dict[str, float]] = {}
    for metric in er.run.metrics:
        by_route.setdefault(metric.scenario or "all", {})[metric.name] = metric.value
    for route, values in sorted(by_route.items()):
        route_labels = {**labels, "scenario": er.profile, "route": route}
        latency = families[f"{PREFIX}_load_latency_milliseconds"]
        quantiles = [(q, values[name]) for q, name in LOAD_QUANTILES if name in values]
        for q, value in quantiles:
            latency.add("", {**route_labels, "quantile": q}, value, er.at)
        count = values.get("requests")
        if quantiles and count is not None:
            latency.add("_count", route_labels, count, er.at)
            mean = values.get("mean_ms")
            if mean is not None and math.isfinite(mean):
                latency.add("_sum", route_labels, mean * count, er.at)
        for family, name, suffix in (
            ("load_requests_per_second", "throughput_rps", ""),
            ("load_error_ratio", "error_rate", ""),
            ("load_requests", "requests", "_total"),
            ("load_failures", "failures", "_total"),
        ):
            if name in values:
                families[f"{PREFIX}_{family}"].add(suffix, route_labels, values[name], er.at)


def _baseline(families: dict[str, Family], kept: ExportBaseline) -> None:
    baseline = kept.baseline
    at = baseline.created_at
    env = environment_id(baseline.environment)
    common = {
        "investigation": kept.investigation,
        "version": kept.version,
        "source": kept.source,
        "superseded": flag(kept.superseded),
        "environment": env,
        "config_hash": kept.config_hash,
    }
    info = {
        **common,
        "primary_metric": baseline.primary_metric.name,
        "direction": baseline.primary_metric.direction,
        "consolidated": flag(baseline.consolidated),
        "supersedes": baseline.supersedes or "",
        "runs": str(len(baseline.runs)),
        "command": " ".join(baseline.command),
    }
    families[f"{PREFIX}_baseline"].add("_info", info, 1.0, at)
    runs = list(baseline.runs)
    units = {metric_key(m): (m.unit, m.scenario, m.name) for r in runs for m in r.metrics}
    pooled = run_samples(runs)
    for key, all_values in sorted(run_values(runs).items()):
        values = [v for v in all_values if math.isfinite(v)]  # a NaN run value: no statistic
        if not values:
            continue
        unit, scenario, name = units[key]
        labels = {**common, "scenario": scenario or "", "metric": name, "unit": unit}
        summary = summarize(values, key)
        for stat in BASELINE_STATS:
            value = getattr(summary, stat)
            if value is not None:
                unit_of = {"cv": "ratio", "n": ""}.get(stat, unit)
                families[f"{PREFIX}_baseline_value"].add(
                    "", {**labels, "stat": stat, "unit": unit_of}, float(value), at
                )
        finite = [v for v in pooled.get(key, []) if math.isfinite(v)]
        basis, data = ("samples", finite) if finite else ("runs", values)
        spread = summarize(data, key) if basis == "samples" else summary
        labels["basis"] = basis
        samples = families[f"{PREFIX}_baseline_samples"]
        for q, stat in QUANTILES:
            samples.add("", {**labels, "quantile": q}, getattr(spread, stat), at)
        samples.add("_count", labels, float(spread.n), at)
        samples.add("_sum", labels, math.fsum(data), at)


def build_families(data: ExportData) -> list[Family]:
    """Every family, in :data:`FAMILIES` order; empty families are left out."""
    families = {name: Family(name, typ, text, unit) for name, (typ, unit, text) in FAMILIES.items()}
    _environments(families, data.runs)
    for kept in data.baselines:
        _baseline(families, kept)
    for er in data.runs:
        _run(families, er)
    add_phases(families, data.breaking_points, data.constraints)
    return [_unique(f) for f in families.values() if f.samples]


def _unique(family: Family) -> Family:
    """One sample per name and label set (a run kept in two archived files stays distinct
    by its ``source``; anything still equal is the same measurement)."""
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    kept = []
    for sample in family.samples:
        key = (sample.name, tuple(sorted(sample.labels.items())))
        if key not in seen:
            seen.add(key)
            kept.append(sample)
    family.samples = kept
    return family


def sample_count(families: Iterable[Family]) -> int:
    return sum(len(f.samples) for f in families)


def without_timestamps(families: Iterable[Family]) -> list[Family]:
    """The same families with no sample timestamps: a Pushgateway refuses them (the time
    stays in ``perfinvest_run_timestamp_seconds``)."""
    return [
        Family(
            f.name,
            f.type,
            f.help,
            f.unit,
            [Sample(s.name, s.labels, s.value, None) for s in f.samples],
        )
        for f in families
    ]
