"""Metrics, runs and baselines: what one measurement is and what a version's baseline keeps."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, model_validator

from perfinvest.core.models.base import FORMAT_VERSION, Direction, Model, NonEmptyStr, RunMode


class MetricSpec(Model):
    """The primary metric of an investigation: what is measured and which way is better."""

    name: NonEmptyStr
    direction: Direction
    unit: str = ""


class Metric(Model):
    """One measured value with its unit, which way is better, and raw samples if any."""

    name: NonEmptyStr
    value: float
    unit: str = ""
    direction: Direction | None = None
    samples: list[float] = Field(default_factory=list)
    scenario: str | None = None

    @property
    def key(self) -> str:
        """``scenario:name`` when the metric belongs to a scenario, else ``name``."""
        return f"{self.scenario}:{self.name}" if self.scenario else self.name


def _is_mean_of(value: float, samples: list[float]) -> bool:
    try:
        return math.isclose(value, math.fsum(samples) / len(samples), rel_tol=1e-9)
    except (OverflowError, ValueError):
        return False


def drop_copied_samples(metrics: list[Metric]) -> list[Metric]:
    """Samples shared by several metrics of one scenario stay only on the one they are of.

    Files written before the formats stored samples once (hyperfine, pytest-benchmark,
    pyperf, criterion) attached the same list to every time statistic; read as samples of
    ``max_s`` they showed its mean. The list stays on the metric whose value is its mean
    (``mean_s``; else the metric named ``mean*``), the others become plain values.
    Metrics that are each the mean of the same list (coinciding counts) all keep it.
    Constant lists (error counts of 0) can coincide honestly and are left alone.
    """
    groups: dict[tuple[str | None, tuple[float, ...]], list[int]] = {}
    for index, metric in enumerate(metrics):
        if len(metric.samples) >= 2 and min(metric.samples) != max(metric.samples):
            groups.setdefault((metric.scenario, tuple(metric.samples)), []).append(index)
    drop: set[int] = set()
    for indices in groups.values():
        if len(indices) < 2:
            continue
        samples = metrics[indices[0]].samples
        keep = [i for i in indices if _is_mean_of(metrics[i].value, samples)]
        # Every metric the list is the mean of keeps it (wrk's errors and errors_read can
        # honestly share [0, 1]); without one, a metric named mean* does.
        keep = keep or [i for i in indices if metrics[i].name.startswith("mean")][:1]
        if keep:  # no metric the samples are of: leave the file as it is rather than guess
            drop.update(i for i in indices if i not in keep)
    if not drop:
        return metrics
    return [m.model_copy(update={"samples": []}) if i in drop else m for i, m in enumerate(metrics)]


class EnvironmentFingerprint(Model):
    """Where and how a run happened; runs with different fingerprints are not comparable."""

    host: str = ""
    cpu_model: str = ""
    cpu_count: int = 0
    kernel: str = ""
    python: str = ""
    load_avg_1m: float | None = None
    busy_processes: list[str] = Field(default_factory=list)  # rule 6: what was busy
    git_commit: str | None = None
    git_dirty: bool | None = None
    command: list[str] = Field(default_factory=list)
    env_overrides: dict[str, str] = Field(default_factory=dict)
    config_hash: str = ""


class ArtifactRef(Model):
    """A file under ``artifacts/<id>/`` with its checksum, path relative to the perf dir."""

    path: NonEmptyStr
    sha256: str = ""
    size_bytes: int = 0
    description: str = ""


class Run(Model):
    """One benchmark run: its metrics, validity and compliance with the duration policy."""

    kind: Literal["perfinvest.run"] = "perfinvest.run"
    format_version: int = FORMAT_VERSION
    run_id: NonEmptyStr
    started_at: datetime
    ended_at: datetime | None = None
    mode: RunMode = "duration"
    requested_duration_s: float = 0.0
    duration_s: float = 0.0
    exit_code: int | None = None
    valid: bool = True
    invalid_reason: str | None = None
    compliant: bool = True
    compliance_note: str | None = None
    metrics: list[Metric] = Field(default_factory=list)
    environment: EnvironmentFingerprint = Field(default_factory=EnvironmentFingerprint)
    artifacts: list[ArtifactRef] = Field(default_factory=list)
    #: Processes still running after the command exited, killed so they load no later run.
    survivors_killed: int = 0
    #: A load tool exited non-zero because requests failed: kept, the errors are metrics.
    load_errors: str | None = None
    #: ``instructions``: the command ran once under cachegrind and ``instructions`` is its
    #: count (docs/measuring.md); ``None``: timed as ``mode`` says.
    meter: str | None = None

    @model_validator(mode="after")
    def _samples_once(self) -> Run:
        """Old files: samples copied onto every statistic are kept once (see above)."""
        self.metrics = drop_copied_samples(self.metrics)
        return self

    def metric(self, name: str) -> Metric | None:
        """The metric keyed ``name`` (``scenario:name`` for a scenario's), else the only one
        called ``name`` in any scenario (wrk, hyperfine and k6 name a scenario per URL/command)."""
        exact = [m for m in self.metrics if m.key == name]
        if exact:
            return exact[0]
        bare = [m for m in self.metrics if m.name == name]
        return bare[0] if len(bare) == 1 else None


class Baseline(Model):
    """``baselines/<version>.json``: every run of a version's baseline, never destroyed."""

    kind: Literal["perfinvest.baseline"] = "perfinvest.baseline"
    format_version: int = FORMAT_VERSION
    version: NonEmptyStr
    investigation_id: NonEmptyStr
    created_at: datetime
    command: list[str] = Field(default_factory=list)
    config_hash: str = ""
    primary_metric: MetricSpec
    runs: list[Run] = Field(min_length=1)
    summaries: dict[str, dict[str, Any]] = Field(default_factory=dict)
    environment: EnvironmentFingerprint = Field(default_factory=EnvironmentFingerprint)
    consolidated: bool = False
    supersedes: str | None = None  # path of the archived baseline this one replaced
    flags: list[str] = Field(default_factory=list)  # e.g. rule 5 high variance
    merged_from: list[str] = Field(default_factory=list)  # consolidation: archived inputs


class BaselineRef(Model):
    """What an investigation remembers of a baseline file it wrote or adopted."""

    version: NonEmptyStr
    path: NonEmptyStr
    created_at: datetime
    runs: int = 0
    primary_value: float | None = None
