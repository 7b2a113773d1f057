"""What the exports (OpenMetrics, Grafana, CSV) read: runs with the context they belong to.

Pure and read-only: the app layer gathers these from the state (baselines, current and
archived, and load runs under the investigation's artifacts); every exporter renders the
same :class:`ExportData`, so the formats never disagree on what was measured. Superseded
results (archived baselines) are kept and marked, never dropped (docs/architecture.md: nothing is
deleted). Experiment runs (both sides of phase 8) are runs too; breaking-point searches
and constrained configurations (core/export/phase_data.py) come with the investigation.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from perfinvest.core.export.phase_data import ExportBreakingPoint, ExportConstraint
from perfinvest.core.models import Baseline, EnvironmentFingerprint, Run

ExportPhase = Literal["baseline", "load", "experiment"]

#: The machine-fingerprint fields whose hash is the ``environment`` label.
ENVIRONMENT_FIELDS = ("host", "cpu_model", "cpu_count", "kernel")


def environment_id(env: EnvironmentFingerprint) -> str:
    """A short stable id of the machine (host, CPU, kernel): the ``environment`` label.

    The same fields :mod:`perfinvest.core.stats.comparability` matches (less the config hash,
    which is a label of its own), so two results with one id were measured on one machine.
    """
    text = "\x1f".join(str(getattr(env, name)) for name in ENVIRONMENT_FIELDS)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class ExportRun:
    """One run and where it belongs: investigation, version, phase, file, superseded."""

    investigation: str
    version: str
    phase: ExportPhase
    run: Run
    source: str  # the file it was read from, relative to perf/
    superseded: bool = False  # its baseline was replaced (archived), kept as history
    profile: str = ""  # load runs: the load profile (smoke, ramp, ...)
    experiment: str = ""  # experiment runs: its number
    side: str = ""  # experiment runs: baseline or candidate
    fallback_environment: EnvironmentFingerprint | None = None  # the baseline's
    fallback_config_hash: str = ""

    @property
    def environment(self) -> EnvironmentFingerprint:
        """The run's fingerprint, or its baseline's when the run carries none."""
        own = self.run.environment
        if own.host or self.fallback_environment is None:
            return own
        return self.fallback_environment

    @property
    def config_hash(self) -> str:
        return self.run.environment.config_hash or self.fallback_config_hash

    @property
    def at(self) -> datetime:
        """When it was measured: the run's end (its start when no end was recorded)."""
        return self.run.ended_at or self.run.started_at


@dataclass(frozen=True)
class ExportBaseline:
    """One baseline file (current or archived) of a version."""

    baseline: Baseline
    source: str  # relative to perf/
    superseded: bool

    @property
    def investigation(self) -> str:
        return self.baseline.investigation_id

    @property
    def version(self) -> str:
        return self.baseline.version

    @property
    def config_hash(self) -> str:
        return self.baseline.config_hash or self.baseline.environment.config_hash


def scenario_route(er: ExportRun, metric_scenario: str | None) -> tuple[str, str]:
    """``scenario`` and ``route`` labels: a load run's profile and route (``all`` for the
    aggregate); a benchmark's own scenario (hyperfine command, wrk URL...) and no route."""
    if er.phase == "load":
        return er.profile, metric_scenario or "all"
    return metric_scenario or "", ""


#: load_latencies.csv's columns after the run's: the load run's own latency.csv header.
LATENCY_COLUMNS = ("second", "route", "users", "requests", "failures")
LATENCY_VALUES = ("p50_ms", "p95_ms", "p99_ms", "max_ms")


@dataclass(frozen=True)
class LatencyRow:
    """One second of one route of a load run (its ``latency.csv``), with the run's id."""

    investigation: str
    run_id: str
    profile: str
    second: int
    route: str
    users: int | None  # empty in latency.csv for a second without a users count
    requests: int
    failures: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None


@dataclass(frozen=True)
class ExportData:
    """Everything one export renders; ``label`` names what was asked (id or version)."""

    label: str
    baselines: list[ExportBaseline] = field(default_factory=list)
    runs: list[ExportRun] = field(default_factory=list)
    latencies: list[LatencyRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # files skipped, with why
    breaking_points: list[ExportBreakingPoint] = field(default_factory=list)  # phase 3
    constraints: list[ExportConstraint] = field(default_factory=list)  # phase 4
    #: the one investigation exported (none for a version across investigations): its last
    #: phase, its status and its baseline, for the answer's output contract
    phase: str | None = None
    status: str | None = None
    baseline: str | None = None

    @property
    def investigations(self) -> list[str]:
        return sorted({r.investigation for r in self.runs})

    @property
    def versions(self) -> list[str]:
        return sorted({r.version for r in self.runs})


def baseline_runs(kept: ExportBaseline) -> list[ExportRun]:
    """Each run of a baseline file as an :class:`ExportRun` (invalid runs included)."""
    return [
        ExportRun(
            investigation=kept.investigation,
            version=kept.version,
            phase="baseline",
            run=run,
            source=kept.source,
            superseded=kept.superseded,
            fallback_environment=kept.baseline.environment,
            fallback_config_hash=kept.config_hash,
        )
        for run in kept.baseline.runs
    ]
