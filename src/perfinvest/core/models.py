"""The persisted domain: an investigation, its phase records, runs, metrics, baselines.

Every persisted top-level document carries ``kind`` and ``format_version`` so a loader can
refuse a file of the wrong kind or from a newer perfinvest with a clear message. Models
validate themselves (pydantic); they build their validators lazily (``defer_build``) so a
cold ``perfinvest status`` pays only for what it loads.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from perfinvest.core.errors import usage_error
from perfinvest.core.phases import PHASE_ORDER, Phase

#: The format version this perfinvest writes and the newest it reads, per document kind.
FORMAT_VERSION = 1

Direction = Literal["lower", "higher"]
RunMode = Literal["duration", "repeat", "tool"]  # tool: hyperfine, pyperf... fill it
InvestigationStatus = Literal["in_progress", "blocked", "complete"]
AttemptOutcome = Literal["completed", "skipped", "progress", "failed"]
Confidence = Literal["low", "medium", "high"]
HypothesisStatus = Literal["untested", "confirmed", "refuted", "inconclusive"]
DecisionVerdict = Literal["continue", "stop", "abandon"]
ComparisonVerdict = Literal["improved", "regressed", "unchanged", "inconclusive"]

_M = TypeVar("_M", bound=BaseModel)

NonEmptyStr = Annotated[str, Field(min_length=1)]


class Model(BaseModel):
    """Base for every record: strict about unknown fields, validators built on first use."""

    model_config = ConfigDict(extra="forbid", defer_build=True, validate_assignment=False)


# --- metrics and runs ---------------------------------------------------------------------


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


# --- phase records ------------------------------------------------------------------------


class ShortRunPolicy(Model):
    """Rule 2's escape hatch, set only at setup and with a written reason."""

    reason: NonEmptyStr
    set_at: datetime


class Setup(Model):
    """Phase 1: everything needed to measure, stated by the user, never guessed."""

    scenario: NonEmptyStr
    command: list[str] = Field(min_length=1)
    shell: bool = False
    metric: MetricSpec
    success_criteria: list[NonEmptyStr] = Field(min_length=1)
    version: NonEmptyStr
    mode: RunMode = "duration"
    param_env: str = "PERF_PARAM_VALUE"
    quotes: list[str] = Field(default_factory=list)
    short_run_policy: ShortRunPolicy | None = None
    workdir: str = "."  # relative to the repository root
    metrics_format: str | None = None  # None: detected from the output
    metrics_file: str | None = None  # relative to workdir; read instead of stdout
    tool: str | None = None  # tool-driven mode forced for this tool (core/tools.py)


class Probe(Model):
    """One breaking-point probe: a measured run at one parameter value and its verdict."""

    value: float
    passed: bool | None = None  # None: invalid probe (too short, interrupted): not a failure
    reason: str = ""  # why it failed (thresholds crossed, exit code) or was invalid
    stage: str = ""  # upper, bisect, confirm_low, confirm_high, confirm_max, recheck_min, reconfirm
    run_id: str | None = None
    duration_s: float | None = None
    exit_code: int | None = None
    metrics: dict[str, float] = Field(default_factory=dict)


class BreakingPointResult(Model):
    """Phase 3: the first failing parameter value and the history that found it."""

    parameter: str = "PERF_PARAM_VALUE"
    minimum: float
    maximum: float
    resolution: float = 1.0
    resolution_rule: str = ""  # "given" or how the default was chosen (1 % of the range)
    breaking_point: float | None = None  # the interval's upper end: lowest value that always failed
    last_passing: float | None = None  # its lower end: highest value that always passed
    verdict: (
        Literal["found", "passes_everywhere", "fails_everywhere", "non_monotonic", "uncertain"]
        | None
    ) = None
    confidence: str = ""  # how sure each end is (re-confirmed or measured once), why it stopped
    widened: bool = False  # a re-check disagreed: an interval is reported, not a point
    stopped_by: Literal["resolution", "noise"] | None = None  # what ended the bisection
    noise_cv: dict[str, float] = Field(default_factory=dict)  # baseline CV per threshold metric
    thresholds: list[str] = Field(default_factory=list)  # failure conditions, e.g. p95_ms>150
    probes: list[Probe] = Field(default_factory=list)  # every probe, invalid ones included
    probes_used: int = 0  # probes with a verdict (what the bound applies to)
    probe_bound: int | None = None  # ceil(log2((max - min) / resolution)) + 5
    probe_duration_s: float | None = None
    compliant: bool = True
    compliance_note: str | None = None
    expansion_reason: str | None = None  # rule 4: why a wider range than before was approved
    monotonic: bool = True
    note: str = ""


class LimitEffect(Model):
    """Phase 4: what a limit did to one metric, an effect of the condition, not a verdict.

    ``effect`` is one of the labels of :mod:`perfinvest.core.limit_effects` ("slower under
    limit", "capped by limit", ...); the change and CI are fractions of the baseline mean.
    """

    baseline: float
    constrained: float
    relative_change: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    basis: Literal["runs", "samples", "none"] = "runs"
    threshold: float = 0.0
    effect: NonEmptyStr


class ConstraintResult(Model):
    """Phase 4: one constrained configuration against the unconstrained baseline."""

    backend: str
    backend_reason: str = ""  # why this backend was chosen (auto-detection or the flag)
    approximate: bool = False  # fallback backend: limits are not enforced like a cgroup
    label: str = ""  # e.g. "cpu=0.5 memory=256 MiB"
    cpu: float | None = None
    memory_bytes: int | None = None
    pids: int | None = None
    image: str | None = None  # docker backend
    runs: list[str] = Field(default_factory=list)  # run ids, their files under artifacts/
    valid_runs: int = 0
    metrics: dict[str, float] = Field(default_factory=dict)  # means over the valid runs
    deltas: dict[str, float] = Field(default_factory=dict)  # relative change vs baseline
    effects: dict[str, LimitEffect] = Field(default_factory=dict)  # the limit's effect
    # Records before effects: improved/regressed verdicts; read, no longer written.
    verdicts: dict[str, ComparisonVerdict] = Field(default_factory=dict)
    throttled_periods: int | None = None
    throttled_time_s: float | None = None
    cpu_time_s: float | None = None
    peak_memory_bytes: int | None = None
    oom_killed: bool = False  # from the kernel's counters (or Docker's State.OOMKilled)
    oom_kills: int = 0
    note: str = ""


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


# --- the investigation --------------------------------------------------------------------


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


def first_validation_problem(exc: ValidationError) -> str:
    """The first problem of a validation error as ``location: message``, for one-line errors."""
    error = exc.errors()[0]
    location = ".".join(str(part) for part in error.get("loc", ())) or "document"
    return f"{location}: {error.get('msg', 'invalid')}"


def validate_input(model: type[_M], raw: Any, source: str) -> _M:
    """Validate user-given data (``--record`` files) with a one-line usage error."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise usage_error(
            f"{source} is not a valid {model.__name__}: {first_validation_problem(exc)}"
        ) from None
