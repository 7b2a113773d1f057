"""Phases 5 to 7: git history, hypotheses, ranked code paths and profiles."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from perfinvest.core.models.base import Confidence, HypothesisStatus, Model, NonEmptyStr
from perfinvest.core.models.runs import ArtifactRef


class CommitEvidence(Model):
    """One commit of the history window (rule 8), with why it may matter."""

    sha: NonEmptyStr
    author: str = ""
    date: str = ""
    subject: str = ""
    files: list[str] = Field(default_factory=list)
    insertions: int = 0
    deletions: int = 0
    #: e.g. "mentions performance: slow", "touches hot file: src/app.py"
    flags: list[str] = Field(default_factory=list)
    hot_files: list[str] = Field(default_factory=list)  # files also in the profile's hotspots


class HistoryEvidence(Model):
    """Rule 8: git history read before any hypothesis is written."""

    gathered_at: datetime
    since: str | None = None
    since_source: str = ""  # "--since", "baseline commit", "root commit"
    until: str = "HEAD"
    head_commit: str | None = None
    paths: list[str] = Field(default_factory=list)
    commits: list[CommitEvidence] = Field(default_factory=list)
    files_changed: dict[str, int] = Field(default_factory=dict)  # path -> commits touching it
    hot_files: list[str] = Field(default_factory=list)  # from the latest profile, if any


class Hypothesis(Model):
    id: NonEmptyStr
    statement: NonEmptyStr
    evidence: list[str] = Field(default_factory=list)
    confidence: Confidence = "medium"
    status: HypothesisStatus = "untested"
    created_at: datetime
    status_changed_at: datetime | None = None
    status_note: str = ""  # e.g. "experiment 2: improved 12 %"


class CodePath(Model):
    """A ranked file or function on the scenario's path, with why it was ranked."""

    file: NonEmptyStr
    line: int | None = None
    function: str | None = None
    score: float = 0.0
    reason: str = ""
    reasons: list[str] = Field(default_factory=list)
    hot_line: str | None = None  # "file:line" of the measured hottest line, when profiled


class HotLine(Model):
    """One source line of a hotspot's function: the samples spent executing it."""

    line: int
    self_pct: float = 0.0  # share of all samples with this line executing in the leaf frame
    total_pct: float = 0.0  # share of all samples with this line on the stack (a call site)
    samples: int = 0  # self samples on this line
    total_samples: int = 0


class Hotspot(Model):
    """One function of a profile: its own (self) and inclusive (total) share of the samples.

    ``line`` is the function's definition line (when known); ``lines`` are the lines the
    samples were executing, hottest first, and ``hot_line`` names the hottest as file:line.
    """

    function: NonEmptyStr
    file: str | None = None  # relative to the repository when inside it
    line: int | None = None  # where the function is defined (def line)
    self_pct: float = 0.0
    total_pct: float = 0.0
    samples: int = 0  # samples with this frame on the stack (total)
    self_samples: int = 0
    lines: list[HotLine] = Field(default_factory=list)  # hottest first; empty: no line data
    hot_line: str | None = None  # "file:line" of lines[0]


class ProfilingResult(Model):
    """Phase 7: one profiled run, its artifacts (with sha256) and its hotspots."""

    number: int = 0  # profile-<number>/ under artifacts/<id>/; 0 for recorded results
    profiler: NonEmptyStr
    reason: str = ""  # why this profiler (auto-selection or --profiler)
    command: list[str] = Field(default_factory=list)  # the profiled command line as run
    created_at: datetime | None = None
    duration_s: float = 0.0
    rate_hz: float | None = None
    total_samples: int = 0
    exit_code: int | None = None
    run_valid: bool | None = None
    note: str = ""
    artifacts: list[ArtifactRef] = Field(default_factory=list)
    hotspots: list[Hotspot] = Field(default_factory=list)
