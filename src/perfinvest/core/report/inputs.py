"""What a report is built from: the investigation and the files it points to, already read.

The app layer reads the files (baselines, experiment runs, load results, flamegraphs, the
history trend); the report model only arranges them, so it stays pure and testable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from perfinvest.core.models import (
    Baseline,
    BreakingPointResult,
    EnvironmentFingerprint,
    Investigation,
    Run,
)
from perfinvest.core.phases import Phase
from perfinvest.core.report.blocks import INVALID, NON_COMPLIANT, Provenance
from perfinvest.core.report.figures import RunPoint
from perfinvest.core.report.phase_figures import LoadSecond


@dataclass(frozen=True)
class KeptBaseline:
    """A baseline file of this investigation; ``archived``: superseded by a newer one."""

    relative: str  # to perf/
    baseline: Baseline
    archived: bool


@dataclass(frozen=True)
class LoadRun:
    """One load run's folder: its ``result.json`` and the all-routes rows of latency.csv."""

    folder: str  # relative to perf/
    result: dict[str, Any]
    seconds: list[LoadSecond]


@dataclass(frozen=True)
class Flamegraph:
    relative: str
    svg: str


@dataclass
class ReportInputs:
    inv: Investigation
    generated_at: str
    baselines: list[KeptBaseline] = field(default_factory=list)
    #: experiment number -> (baseline side, candidate side)
    experiment_runs: dict[int, tuple[list[Run], list[Run]]] = field(default_factory=dict)
    load_runs: list[LoadRun] = field(default_factory=list)
    flamegraphs: dict[int, Flamegraph] = field(default_factory=dict)
    #: profile number -> collapsed stacks (frames root first, count), for profiles without
    #: a flamegraph SVG
    stacks: dict[int, list[tuple[tuple[str, ...], int]]] = field(default_factory=dict)
    #: rows of the baselines history trend (``perfinvest history --json``'s ``rows``)
    history_rows: list[dict[str, Any]] = field(default_factory=list)
    history_metric: str = ""
    #: earlier breaking-point results of this investigation (artifacts), replaced in state
    superseded_breaking_points: list[tuple[str, BreakingPointResult]] = field(default_factory=list)
    #: files that could not be read (named), shown so nothing is silently missing
    problems: list[str] = field(default_factory=list)
    #: experiment number -> its change as a unified diff (``change.patch``)
    patches: dict[int, str] = field(default_factory=dict)
    #: the repository root, to shorten the paths of profiled frames ("": keep them)
    source_root: str = ""

    def current_baseline(self) -> KeptBaseline | None:
        """The baseline in force: the state's reference, else the newest current one."""
        current = [k for k in self.baselines if not k.archived]
        ref = self.inv.baseline
        if ref is not None:
            for kept in current:
                if kept.relative == ref.path:
                    return kept
        return current[-1] if current else None


def environment_text(env: EnvironmentFingerprint) -> str:
    """The machine in one line: host, CPUs, kernel, Python."""
    parts = [env.host or "unknown host"]
    if env.cpu_count or env.cpu_model:
        parts.append(f"{env.cpu_count}x {env.cpu_model}".strip())
    if env.kernel:
        parts.append(f"Linux {env.kernel}")
    if env.python:
        parts.append(f"Python {env.python}")
    return ", ".join(parts)


def run_points(runs: Sequence[Run], metric: str) -> list[RunPoint]:
    """Each run that reports ``metric`` as a plot point, invalid runs included (marked)."""
    points = []
    for run in runs:
        found = run.metric(metric)
        if found is None:
            continue
        points.append(
            RunPoint(
                label=run.run_id,
                value=found.value,
                samples=found.samples,
                compliant=run.compliant,
                valid=run.valid,
                at=run.started_at.isoformat(timespec="seconds"),
                host=run.environment.host,
                config_hash=run.environment.config_hash,
            )
        )
    return points


#: From this magnitude on a number is written whole, with thousands separators.
WHOLE_FROM = 1_000
#: ... up to this one; beyond, scientific notation is the readable form.
WHOLE_UNTIL = 1e15


def num(value: float | None, digits: int = 4) -> str:
    """A number for people: ``16,000`` and ``14,470,123`` rather than ``1.6e+04``; under
    1,000, ``digits`` significant digits (``8.034``, ``0.05095``); ``n/a`` when unknown."""
    if value is None:
        return "n/a"
    if math.isfinite(value) and WHOLE_FROM <= abs(value) < WHOLE_UNTIL:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def phase_status(inv: Investigation, phase: Phase) -> str:
    attempts = inv.attempts_of(phase)
    if not attempts:
        return "not started"
    if any(a.outcome == "completed" for a in attempts):
        return "done"
    if any(a.outcome == "skipped" for a in attempts):
        return "skipped"
    return attempts[-1].outcome.replace("progress", "in progress")


def run_badges(run: Run) -> list[str]:
    return ([] if run.compliant else [NON_COMPLIANT]) + ([] if run.valid else [INVALID])


def phase_provenance(inputs: ReportInputs, phase: Phase, what: str) -> Provenance:
    """The phase's last attempt time, on the machine and configuration of the baseline."""
    attempts = inputs.inv.attempts_of(phase)
    at = attempts[-1].ended_at.isoformat(timespec="seconds") if attempts else "n/a"
    kept = inputs.current_baseline()
    env = environment_text(kept.baseline.environment) if kept else "n/a"
    config = kept.baseline.config_hash if kept else "n/a"
    return Provenance(f"{what} (environment and configuration of the baseline)", at, env, config)
