"""The persisted domain: an investigation, its phase records, runs, metrics, baselines.

Every persisted top-level document carries ``kind`` and ``format_version`` so a loader can
refuse a file of the wrong kind or from a newer perfinvest with a clear message. Models
validate themselves (pydantic); they build their validators lazily (``defer_build``) so a
cold ``perfinvest status`` pays only for what it loads.

The models live in one module per seam (``base``, ``runs``, ``measuring``, ``evidence``,
``experiments``, ``investigation``); ``from perfinvest.core.models import X`` is the import
path callers use, and it stays stable whatever module ``X`` lives in.
"""

from __future__ import annotations

from perfinvest.core.models.base import (
    FORMAT_VERSION,
    AttemptOutcome,
    ComparisonVerdict,
    Confidence,
    DecisionVerdict,
    Direction,
    HypothesisStatus,
    InvestigationStatus,
    Model,
    NonEmptyStr,
    RunMode,
    first_validation_problem,
    validate_input,
)
from perfinvest.core.models.evidence import (
    CodePath,
    CommitEvidence,
    HistoryEvidence,
    HotLine,
    Hotspot,
    Hypothesis,
    ProfilingResult,
)
from perfinvest.core.models.experiments import (
    Experiment,
    ExperimentKind,
    ExperimentState,
    MetricEffect,
    RecordedTree,
    RestoreCheck,
)
from perfinvest.core.models.investigation import (
    SCHEMA_MODELS,
    Consolidation,
    CriterionCheck,
    DecisionRecord,
    Event,
    Investigation,
    PhaseAttempt,
)
from perfinvest.core.models.measuring import (
    BreakingPointResult,
    ConstraintResult,
    LimitEffect,
    Probe,
    ProbeCount,
    Setup,
    ShortRunPolicy,
)
from perfinvest.core.models.runs import (
    ArtifactRef,
    Baseline,
    BaselineRef,
    EnvironmentFingerprint,
    Metric,
    MetricSpec,
    Run,
    drop_copied_samples,
)

__all__ = [
    "FORMAT_VERSION",
    "SCHEMA_MODELS",
    "ArtifactRef",
    "AttemptOutcome",
    "Baseline",
    "BaselineRef",
    "BreakingPointResult",
    "CodePath",
    "CommitEvidence",
    "ComparisonVerdict",
    "Confidence",
    "Consolidation",
    "ConstraintResult",
    "CriterionCheck",
    "DecisionRecord",
    "DecisionVerdict",
    "Direction",
    "EnvironmentFingerprint",
    "Event",
    "Experiment",
    "ExperimentKind",
    "ExperimentState",
    "HistoryEvidence",
    "HotLine",
    "Hotspot",
    "Hypothesis",
    "HypothesisStatus",
    "Investigation",
    "InvestigationStatus",
    "LimitEffect",
    "Metric",
    "MetricEffect",
    "MetricSpec",
    "Model",
    "NonEmptyStr",
    "PhaseAttempt",
    "Probe",
    "ProbeCount",
    "ProfilingResult",
    "RecordedTree",
    "RestoreCheck",
    "Run",
    "RunMode",
    "Setup",
    "ShortRunPolicy",
    "drop_copied_samples",
    "first_validation_problem",
    "validate_input",
]
