"""Summaries of a set of runs and the merge consolidation makes (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from perfinvest.core.models import Baseline, Metric, Run


def metric_key(metric: Metric) -> str:
    """``scenario:name`` when the metric belongs to a scenario, else ``name``."""
    return metric.key


def resolve_key(runs: Sequence[Run], name: str) -> str | None:
    """The summary key of metric ``name`` in these runs (see :meth:`Run.metric`)."""
    for run in runs:
        found = run.metric(name) if run.valid else None
        if found is not None:
            return found.key
    return None


def run_values(runs: Sequence[Run]) -> dict[str, list[float]]:
    """Each metric's per-run value across the valid runs, in run order."""
    values: dict[str, list[float]] = {}
    for run in runs:
        if not run.valid:
            continue
        for metric in run.metrics:
            values.setdefault(metric_key(metric), []).append(metric.value)
    return values


def run_samples(runs: Sequence[Run]) -> dict[str, list[float]]:
    """Each metric's raw samples pooled across the valid runs (where the format has them)."""
    samples: dict[str, list[float]] = {}
    for run in runs:
        if not run.valid:
            continue
        for metric in run.metrics:
            if metric.samples:
                samples.setdefault(metric_key(metric), []).extend(metric.samples)
    return samples


def summarize_runs(runs: Sequence[Run]) -> dict[str, dict[str, Any]]:
    """Per metric: the summary across runs (the unit of comparison) and of the samples."""
    from perfinvest.core.stats.verdicts import summarize

    pooled = run_samples(runs)
    units = {metric_key(m): (m.unit, m.direction) for r in runs for m in r.metrics}
    summaries: dict[str, dict[str, Any]] = {}
    for key, values in sorted(run_values(runs).items()):
        unit, direction = units[key]
        entry: dict[str, Any] = {
            "unit": unit,
            "direction": direction,
            "runs": summarize(values, key).model_dump(),
        }
        if key in pooled:
            entry["samples"] = summarize(pooled[key], f"{key} samples").model_dump()
        summaries[key] = entry
    return summaries


def mergeable(documents: Sequence[Baseline]) -> list[Run]:
    """Valid runs of the same version and configuration, each once, oldest first.

    Consolidation keeps only runs measured with the newest document's configuration
    (command, mode, environment overrides): runs of another setup are not the same
    measurement and would blur the baseline.
    """
    if not documents:
        return []
    newest = documents[-1]
    seen: set[str] = set()
    merged: list[Run] = []
    for document in documents:
        if document.version != newest.version:
            continue
        for run in document.runs:
            same_setup = run.environment.config_hash == newest.runs[-1].environment.config_hash
            if run.valid and same_setup and run.run_id not in seen:
                seen.add(run.run_id)
                merged.append(run)
    return sorted(merged, key=lambda r: r.started_at)
