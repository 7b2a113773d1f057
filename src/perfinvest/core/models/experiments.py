"""Phase 8: one change, the tree recorded before it and the check that it was restored."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from perfinvest.core.models.base import ComparisonVerdict, Model, NonEmptyStr
from perfinvest.core.models.runs import ArtifactRef

ExperimentState = Literal["open", "measured", "aborted", "interrupted", "failed"]
ExperimentKind = Literal["tree", "flag"]


class RecordedTree(Model):
    """What ``experiment start`` recorded of the user's tree, to restore it exactly."""

    head: NonEmptyStr
    branch: NonEmptyStr
    snapshot_commit: NonEmptyStr  # kept alive by a refs/perfinvest/snapshots/ ref until verified
    tree: NonEmptyStr
    index_tree: str | None = None
    files: int = 0
    staged: list[str] = Field(default_factory=list)
    modified: list[str] = Field(default_factory=list)
    untracked: list[str] = Field(default_factory=list)


class RestoreCheck(Model):
    """The restore's verification: HEAD, index, every file, untracked files."""

    verified: bool
    head_same: bool
    index_same: bool
    files_identical: bool
    untracked_back: bool
    checkpoint_commits: int = 0  # perfinvest checkpoint commits (perf files only) on top of HEAD
    actions: list[str] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)
    at: datetime | None = None
    #: files the experiment did not change that differ from the recording: the user's, kept
    kept: list[str] = Field(default_factory=list)
    #: files the user edited after the change was captured: the change taken out, edits kept
    merged: list[str] = Field(default_factory=list)
    #: files whose version as found was saved (under ``saved_dir``) before being restored
    saved: list[str] = Field(default_factory=list)
    saved_dir: str | None = None


class MetricEffect(Model):
    """One metric of an experiment: baseline side against candidate."""

    metric: NonEmptyStr
    unit: str = ""
    baseline_mean: float
    candidate_mean: float
    relative_change: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_welch: float | None = None
    p_mannwhitney: float | None = None
    verdict: ComparisonVerdict


class Experiment(Model):
    """Phase 8: exactly one change, measured against the baseline, then reverted."""

    number: int = Field(ge=1)
    kind: ExperimentKind = "tree"
    hypothesis: str | None = None
    change: NonEmptyStr
    files: list[str] = Field(default_factory=list)  # declared with --files (empty: any)
    state: ExperimentState = "measured"
    started_at: datetime | None = None
    ended_at: datetime | None = None
    metric: str | None = None
    verdict: ComparisonVerdict | None = None
    relative_change: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    p_mannwhitney: float | None = None
    baseline_mean: float | None = None
    candidate_mean: float | None = None
    runs_per_side: int = 0
    compliant: bool = True
    effects: list[MetricEffect] = Field(default_factory=list)
    changed_files: list[str] = Field(default_factory=list)  # "M path", "A path", "D path"
    diffstat: str = ""
    patch: ArtifactRef | None = None
    runs: ArtifactRef | None = None  # every run of both sides, JSON
    recorded: RecordedTree | None = None
    restore: RestoreCheck | None = None
    restore_verified: bool | None = None
    note: str = ""
