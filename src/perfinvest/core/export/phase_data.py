"""Breaking-point searches (phase 3) and constrained runs (phase 4) as exports read them.

Pure. Neither a probe nor a constraint record carries its own fingerprint or time: the
time comes from the run id (``<label>-<%Y%m%dT%H%M%S%f>-<n>``, app/measuring/run_once.py, UTC start)
and the machine and configuration hash from the baseline the phase varied (a probe adds
its parameter value, a constrained run its limits). Superseded results are kept and
marked: an earlier search of the investigation, a configuration measured again later.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from perfinvest.core.models import (
    BreakingPointResult,
    ConstraintResult,
    EnvironmentFingerprint,
    Probe,
)

#: The start stamp run_once puts in a run id, before the run's index.
_RUN_STAMP = re.compile(r"-(\d{8}T\d{12})-\d+$")
#: The stamp of ``breaking-point-<time>.json`` (store/searches.py).
_SEARCH_STAMP = re.compile(r"breaking-point-(\d{8}T\d{6})(\d{6})?\.json$")


def run_started(run_id: str | None) -> datetime | None:
    """When a run started, from its id; None for an id not made by run_once."""
    found = _RUN_STAMP.search(run_id or "")
    if found is None:
        return None
    try:
        return datetime.strptime(found[1], "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
    except ValueError:
        return None


def search_time(source: str) -> datetime | None:
    """When a search was recorded, from its file name ``breaking-point-<time>.json`` (to the
    second in older files, to the microsecond since)."""
    found = _SEARCH_STAMP.search(source)
    if found is None:
        return None
    try:
        at = datetime.strptime(found[1], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    return at.replace(microsecond=int(found[2])) if found[2] else at


def split_key(key: str) -> tuple[str, str]:
    """``scenario:name`` (core/baselines.metric_key) as (scenario, name); a scenario may
    hold colons (a URL), a metric name does not."""
    scenario, _, name = key.rpartition(":")
    return scenario, name


def number_label(value: float) -> str:
    """A parameter value as a label: ``40`` for 40.0, else the shortest exact text."""
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


@dataclass(frozen=True)
class ExportProbe:
    number: int  # its place in the search, from 1
    probe: Probe
    at: datetime  # when it ended (started + duration), the search's time if unknown


@dataclass(frozen=True)
class ExportBreakingPoint:
    """One breaking-point search; ``superseded``: a later search replaced it (kept)."""

    investigation: str
    version: str
    source: str  # breaking-point-<time>.json (or the state file), relative to perf/
    result: BreakingPointResult
    superseded: bool
    at: datetime  # when the search was recorded
    environment: EnvironmentFingerprint  # the baseline's: probes record none of their own
    config_hash: str  # the baseline's configuration, which the probes vary by parameter

    @property
    def probes(self) -> list[ExportProbe]:
        out = []
        for number, probe in enumerate(self.result.probes, 1):
            started = run_started(probe.run_id)
            if started is None:
                at = self.at
            else:
                at = started + timedelta(seconds=probe.duration_s or 0.0)
            out.append(ExportProbe(number, probe, at))
        return out


@dataclass(frozen=True)
class ExportConstraint:
    """One constrained configuration; ``superseded``: measured again later (kept)."""

    investigation: str
    version: str
    source: str  # the state file it is recorded in, relative to perf/
    number: int  # its place in the investigation's constraints, from 1
    result: ConstraintResult
    superseded: bool
    at: datetime  # its last run's start (or the constraints phase's end)
    environment: EnvironmentFingerprint  # the baseline's, the record has none
    config_hash: str  # the baseline's, which the limits constrain


def superseded_constraints(records: Sequence[ConstraintResult]) -> list[bool]:
    """True for a record whose configuration (limits label and backend) was measured
    again later; the report marks the same records (core/report/sections.py)."""
    return [
        any((d.label, d.backend) == (c.label, c.backend) for d in records[i + 1 :])
        for i, c in enumerate(records)
    ]


def constraint_time(record: ConstraintResult, fallback: datetime) -> datetime:
    """The start of the record's last run, from the run ids; ``fallback`` without one."""
    starts = [t for t in (run_started(r) for r in record.runs) if t is not None]
    return max(starts) if starts else fallback
