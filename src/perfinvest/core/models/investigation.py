"""Phases 9 and 10 and the whole: decision, consolidation, attempts and ``investigation.json``."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from perfinvest.core.models.base import (
    FORMAT_VERSION,
    AttemptOutcome,
    DecisionVerdict,
    InvestigationStatus,
    Model,
    NonEmptyStr,
)
from perfinvest.core.models.evidence import CodePath, HistoryEvidence, Hypothesis, ProfilingResult
from perfinvest.core.models.experiments import Experiment
from perfinvest.core.models.measuring import BreakingPointResult, ConstraintResult, Setup
from perfinvest.core.models.runs import Baseline, BaselineRef, Run
from perfinvest.core.phases import PHASE_ORDER, Phase


class CriterionCheck(Model):
    """One success criterion judged against measured values (or why it could not be)."""

    text: NonEmptyStr
    metric: str | None = None
    op: str | None = None
    target: float | None = None
    observed: float | None = None
    source: str = ""
    met: bool | None = None  # None: not parseable or not measured
    note: str = ""


class DecisionRecord(Model):
    verdict: DecisionVerdict
    rationale: NonEmptyStr
    recommendation: DecisionVerdict | None = None
    reasoning: list[str] = Field(default_factory=list)
    goal_met: bool | None = None
    criteria: list[CriterionCheck] = Field(default_factory=list)
    decided_at: datetime | None = None


class Consolidation(Model):
    version: NonEmptyStr
    baseline_path: str | None = None
    completed_at: datetime


class PhaseAttempt(Model):
    """One run of a phase command: what was asked, what came of it, when."""

    phase: Phase
    attempt: int = Field(ge=1)
    outcome: AttemptOutcome
    started_at: datetime
    ended_at: datetime
    summary: str = ""
    quote: str | None = None
    skip_reason: str | None = None
    evidence: list[str] = Field(default_factory=list)
    decision: str | None = None
    non_compliant: bool = False


class Event(Model):
    """Something a reviewer must see that is not a phase attempt (forced compare, takeover)."""

    at: datetime
    kind: NonEmptyStr
    message: NonEmptyStr


class Investigation(Model):
    """``investigation.json``: the full state of one investigation."""

    kind: Literal["perfinvest.investigation"] = "perfinvest.investigation"
    format_version: int = FORMAT_VERSION
    id: NonEmptyStr
    created_at: datetime
    updated_at: datetime
    status: InvestigationStatus = "in_progress"
    setup: Setup
    attempts: list[PhaseAttempt] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    baseline: BaselineRef | None = None
    breaking_point: BreakingPointResult | None = None
    constraints: list[ConstraintResult] = Field(default_factory=list)
    history: HistoryEvidence | None = None
    hypotheses: list[Hypothesis] = Field(default_factory=list)
    code_paths: list[CodePath] = Field(default_factory=list)
    profiling: list[ProfilingResult] = Field(default_factory=list)
    experiments: list[Experiment] = Field(default_factory=list)
    decision: DecisionRecord | None = None
    consolidation: Consolidation | None = None

    @field_validator("attempts")
    @classmethod
    def _attempts_numbered(cls, attempts: list[PhaseAttempt]) -> list[PhaseAttempt]:
        seen: dict[Phase, int] = {}
        for attempt in attempts:
            expected = seen.get(attempt.phase, 0) + 1
            if attempt.attempt != expected:
                raise ValueError(
                    f"attempt {attempt.attempt} of phase {attempt.phase} should be {expected}"
                )
            seen[attempt.phase] = expected
        return attempts

    def attempts_of(self, phase: Phase) -> list[PhaseAttempt]:
        return [a for a in self.attempts if a.phase == phase]

    def is_done(self, phase: Phase) -> bool:
        """A phase is done once an attempt completed it or skipped it with a reason."""
        return any(a.outcome in ("completed", "skipped") for a in self.attempts_of(phase))

    def next_phase(self) -> Phase | None:
        return next((p for p in PHASE_ORDER if not self.is_done(p)), None)

    def last_phase(self) -> Phase | None:
        return self.attempts[-1].phase if self.attempts else None


#: The documents that have a JSON Schema in ``schemas/`` (name → model).
SCHEMA_MODELS: dict[str, type[BaseModel]] = {
    "investigation": Investigation,
    "baseline": Baseline,
    "run": Run,
}
