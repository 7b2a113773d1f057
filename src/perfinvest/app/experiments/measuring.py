"""Both sides measured interleaved A B A B, and the comparison recorded."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace
from pathlib import Path

from perfinvest.adapters import worktree as wt
from perfinvest.app.context import AppContext
from perfinvest.app.experiments.common import (
    HYPOTHESIS_FOR,
    MAX_EXTRA_PAIRS,
    MIN_RUNS,
    _artifact,
    experiment_dir,
)
from perfinvest.app.measuring.benchmark import benchmark_lock, benchmark_of
from perfinvest.app.measuring.measure import (
    CV_THRESHOLD,
    Benchmark,
    Session,
    primary_values,
    resolve_tool_mode,
    run_once,
    with_env,
)
from perfinvest.app.session import PhaseWork
from perfinvest.core.errors import PerfError, benchmark_failed
from perfinvest.core.models import (
    ArtifactRef,
    Event,
    Experiment,
    HypothesisStatus,
    Investigation,
    RestoreCheck,
    Run,
)
from perfinvest.core.stats.baselines import resolve_key
from perfinvest.store.experiment_runs import write_experiment_runs
from perfinvest.store.journal import Journal

# --------------------------------------------------------------------------- measuring


@dataclass
class _Sides:
    baseline: Benchmark
    candidate: Benchmark
    baseline_git: tuple[str | None, bool | None] | None
    candidate_git: tuple[str | None, bool | None] | None


@dataclass
class _Plan:
    inv_id: str
    number: int
    session: Session
    runs: int
    metric: str
    sides: _Sides
    # tree experiments only
    info: wt.RepoInfo | None = None
    snapshot: wt.Snapshot | None = None
    journal: Journal | None = None
    worktree: Path | None = None
    change: wt.Change | None = None
    patch: ArtifactRef | None = None


@dataclass
class _Outcome:
    baseline: list[Run] = field(default_factory=list)
    candidate: list[Run] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    interrupted: bool = False
    error: PerfError | None = None
    check: RestoreCheck | None = None


def _interleave(ctx: AppContext, plan: _Plan, outcome: _Outcome) -> None:
    """A B A B ... under one host lock; rule 5 adds up to two pairs when a side is noisy."""
    total = plan.runs
    index = 0
    label = f"exp{plan.number}"
    # each side's tool mode, resolved once (its tree is its own): every pair reuses it
    baseline = resolve_tool_mode(plan.sides.baseline, plan.session.progress)
    candidate = resolve_tool_mode(plan.sides.candidate)
    with benchmark_lock(ctx, plan.inv_id, f"experiment {plan.number}", outcome.events):
        while index < total:
            index += 1
            for side, bench, git, runs in (
                ("baseline", baseline, plan.sides.baseline_git, outcome.baseline),
                ("candidate", candidate, plan.sides.candidate_git, outcome.candidate),
            ):
                runs.append(run_once(bench, plan.session, f"{label}-{side}", index, total, git))
            if index == 1 and not (outcome.baseline[0].valid and outcome.candidate[0].valid):
                return  # a side that cannot build or run once will not do better: stop early
            if index == total and total < plan.runs + MAX_EXTRA_PAIRS:
                for side, runs in (
                    ("baseline", outcome.baseline),
                    ("candidate", outcome.candidate),
                ):
                    values = primary_values(runs, plan.metric)
                    if len(values) >= 2:
                        from perfinvest.core.stats.verdicts import summarize

                        cv = summarize(values).cv
                        if cv is not None and cv > CV_THRESHOLD:
                            total += 1
                            message = (
                                f"rule 5: CV of {plan.metric} on the {side} side is {cv:.1%} > "
                                f"{CV_THRESHOLD:.0%}; one more A/B pair"
                            )
                            outcome.warnings.append(message)
                            plan.session.progress.note(message)
                            break


def _side_failure(side: str, runs: list[Run], metric: str, where: str) -> PerfError | None:
    values = primary_values(runs, metric)
    if len(values) >= MIN_RUNS:
        return None
    reasons = [f"{r.run_id}: {r.invalid_reason}" for r in runs if not r.valid]
    detail = "; ".join(reasons[:2]) or f"no run reported {metric!r}"
    return benchmark_failed(
        f"the {side} side ({where}) failed to build or run: {len(values)} of {len(runs)} run(s) "
        f"valid with {metric}: {detail}"
    )


def _record_measurement(
    ctx: AppContext, inv: Investigation, exp: Experiment, outcome: _Outcome, where: tuple[str, str]
) -> tuple[PhaseWork | None, list[str]]:
    """Compare the sides into ``exp``; a PhaseWork when the measurement failed."""
    from perfinvest.core.stats.comparing import compare_runs, metric_effects

    metric = inv.setup.metric.name
    store = experiment_dir(ctx, inv.id, exp.number)
    runs_path = store / "runs.json"
    write_experiment_runs(runs_path, outcome.baseline, outcome.candidate)
    exp.runs = _artifact(ctx, runs_path, "every run of both sides")
    exp.runs_per_side = min(len(outcome.baseline), len(outcome.candidate))
    exp.compliant = all(r.compliant for r in [*outcome.baseline, *outcome.candidate])
    exp.metric = metric
    evidence = [r.run_id for r in [*outcome.baseline, *outcome.candidate]]
    for side, runs, place in (
        ("baseline", outcome.baseline, where[0]),
        ("candidate", outcome.candidate, where[1]),
    ):
        failure = _side_failure(side, runs, metric, place)
        if failure is not None:
            exp.state = "failed"
            exp.note = failure.message
            return (
                PhaseWork(
                    summary=f"experiment {exp.number} failed: {failure.message}",
                    outcome="failed",
                    evidence=evidence,
                    non_compliant=not exp.compliant,
                    error=failure,
                ),
                evidence,
            )
    base = [r for r in outcome.baseline if r.valid]
    cand = [r for r in outcome.candidate if r.valid]
    try:
        table = compare_runs(
            base,
            cand,
            baseline_label=f"experiment {exp.number} baseline side",
            candidate_label=f"experiment {exp.number} candidate",
            primary=resolve_key([*base, *cand], metric) or metric,
        )
    except PerfError as error:
        exp.state = "failed"
        exp.note = error.message
        return (
            PhaseWork(
                summary=f"experiment {exp.number} failed: {error.message}",
                outcome="failed",
                evidence=evidence,
                error=error,
            ),
            evidence,
        )
    exp.effects = metric_effects(table)
    key = resolve_key([*base, *cand], metric) or metric  # checkout:p95_ms for a scenario's
    primary = next((e for e in exp.effects if e.metric == key), None)
    if primary is None:
        missing = benchmark_failed(f"the sides do not both report {metric!r}")
        exp.state = "failed"
        exp.note = missing.message
        return (
            PhaseWork(
                summary=f"experiment {exp.number} failed: {missing.message}",
                outcome="failed",
                evidence=evidence,
                error=missing,
            ),
            evidence,
        )
    exp.state = "measured"
    exp.verdict = primary.verdict
    exp.relative_change = primary.relative_change
    exp.ci_low, exp.ci_high = primary.ci_low, primary.ci_high
    exp.p_value = primary.p_welch
    exp.p_mannwhitney = primary.p_mannwhitney
    exp.baseline_mean, exp.candidate_mean = primary.baseline_mean, primary.candidate_mean
    if exp.hypothesis is not None:
        _set_hypothesis(inv, exp.hypothesis, HYPOTHESIS_FOR[primary.verdict])
    return None, evidence


def _set_hypothesis(inv: Investigation, hypothesis_id: str, status: HypothesisStatus) -> None:
    from perfinvest.app.phases import hypotheses

    set_status = getattr(hypotheses, "set_status", None)
    if set_status is not None:
        with contextlib.suppress(PerfError):
            set_status(inv, hypothesis_id, status)
            return
    for h in inv.hypotheses:
        if h.id == hypothesis_id:
            h.status = status


def _measured_work(
    inv: Investigation, exp: Experiment, outcome: _Outcome, evidence: list[str]
) -> PhaseWork:
    unit = inv.setup.metric.unit
    change = (
        f"{exp.relative_change:+.2%}"
        if exp.relative_change is not None
        else "the change cannot be expressed as a percentage: the baseline mean is zero or "
        "too close to zero"
    )
    ci = (
        f", 95 % CI [{exp.ci_low:+.2%}, {exp.ci_high:+.2%}]"
        if exp.ci_low is not None and exp.ci_high is not None
        else ""
    )
    p = f", p={exp.p_value:.3g}" if exp.p_value is not None else ""
    summary = (
        f"experiment {exp.number} ({exp.change}): {exp.metric} {exp.baseline_mean:.6g} → "
        f"{exp.candidate_mean:.6g}{(' ' + unit) if unit else ''} ({change}{ci}{p}): "
        f"**{exp.verdict}**"
    )
    findings = [*outcome.warnings]
    if exp.hypothesis is not None:
        status = next((h.status for h in inv.hypotheses if h.id == exp.hypothesis), None)
        if status is not None:
            findings.append(f"hypothesis {exp.hypothesis}: {status}")
    findings.extend(e.message for e in outcome.events)
    if not exp.compliant:
        findings.append("non-compliant: runs shorter than the duration policy (short-run policy)")
    return PhaseWork(
        summary=summary.replace("**", ""),
        evidence=evidence,
        findings=findings,
        non_compliant=not exp.compliant,
        delta=change if exp.relative_change is not None else None,
    )


def _plan_sides(
    ctx: AppContext, inv: Investigation, number: int, baseline_cwd: Path | None, flag: bool
) -> _Sides:
    bench = benchmark_of(ctx, inv)
    if flag:  # one tree, the flag decides
        base, candidate_flag = bench, "1"
    else:  # two trees, the flag is off on both sides: only the tree change differs
        assert baseline_cwd is not None
        base = replace(bench, cwd=(baseline_cwd / inv.setup.workdir).resolve())
        candidate_flag = "0"
    tag = {"PERF_EXPERIMENT_NUMBER": str(number)}
    return _Sides(
        baseline=with_env(
            base, {**tag, "PERF_EXPERIMENT": "0", "PERF_EXPERIMENT_SIDE": "baseline"}
        ),
        candidate=with_env(
            bench,
            {**tag, "PERF_EXPERIMENT": candidate_flag, "PERF_EXPERIMENT_SIDE": "candidate"},
        ),
        baseline_git=None,
        candidate_git=None,
    )
