"""Phases 1 to 4: the setup that says how to measure, breaking-point probes, limits."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from perfinvest.core.models.base import ComparisonVerdict, Model, NonEmptyStr, RunMode
from perfinvest.core.models.runs import MetricSpec


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
    tool: str | None = None  # tool-driven mode forced for this tool (core/tools/recognise.py)


class Probe(Model):
    """One breaking-point probe: a measured run at one parameter value and its verdict."""

    value: float
    passed: bool | None = None  # None: invalid probe (too short, interrupted): not a failure
    reason: str = ""  # why it failed (thresholds crossed, exit code) or was invalid
    # upper, bisect, confirm_low, confirm_high, confirm_max, recheck_min, refine, secure
    stage: str = ""
    run_id: str | None = None
    duration_s: float | None = None
    exit_code: int | None = None
    metrics: dict[str, float] = Field(default_factory=dict)


class ProbeCount(Model):
    """One probed value's verdicts: how often it passed and failed (ties re-measured)."""

    value: float
    passes: int = 0
    fails: int = 0


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
    probe_bound: int | None = None  # ceil(log2((max - min) / resolution)) + 5, + repeats
    bound_note: str = ""  # why the bound grew: a re-check disagreed, the bisection re-opened
    crossing: float | None = None  # lowest value where failures are more likely than passes
    counts: list[ProbeCount] = Field(default_factory=list)  # per value: passes and failures
    probe_duration_s: float | None = None
    compliant: bool = True
    compliance_note: str | None = None
    expansion_reason: str | None = None  # rule 4: why a wider range than before was approved
    monotonic: bool = True
    note: str = ""


class LimitEffect(Model):
    """Phase 4: what a limit did to one metric, an effect of the condition, not a verdict.

    ``effect`` is one of the labels of :mod:`perfinvest.core.stats.limit_effects` ("slower under
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
