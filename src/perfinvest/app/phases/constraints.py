"""Phase 4, constraints: the benchmark under real CPU / memory / pids limits.

Each configuration (one value of each limit; repeated flags make a matrix) is measured
now, ``runs`` times, each run in a fresh cgroup or container that the process joins before
it does any work, and compared with the version's unconstrained baseline runs (statistics
of ``core/comparing``: the environments differ on purpose, so runs are compared directly,
not through the fingerprint refusal). A limit is a condition, not a candidate: each metric
gets the limit's effect (change, CI, p-value, "slower under limit", "capped by limit"; see
``core/limit_effects``), never an improved/regressed verdict. OOM kills come from the
kernel's counters.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from perfinvest.app.context import AppContext
from perfinvest.app.measuring.benchmark import (
    MeasureOptions,
    benchmark_lock,
    benchmark_of,
    duration_for,
    session_for,
)
from perfinvest.app.measuring.measure import Benchmark, Session, run_once, with_env
from perfinvest.app.result import CommandResult
from perfinvest.app.session import PhaseRequest, PhaseWork, run_phase_steps, skip_phase
from perfinvest.core.errors import ExitCode, PerfError, refused, usage_error
from perfinvest.core.models import ConstraintResult, Event, Investigation, LimitEffect, Run
from perfinvest.core.phases import Phase
from perfinvest.core.quantities import pct
from perfinvest.core.sizes import format_size, parse_size

if TYPE_CHECKING:
    from perfinvest.adapters.constraints.base import Limits, Usage
    from perfinvest.adapters.constraints.detect import Choice


@dataclass(frozen=True)
class ConstraintOptions:
    cpus: tuple[float, ...] = ()
    memories: tuple[str, ...] = ()
    pids: tuple[int, ...] = ()
    runs: int = 2
    backend: str = "auto"
    image: str | None = None
    measure: MeasureOptions = field(default_factory=MeasureOptions)


def configurations(options: ConstraintOptions, cpu_count: int) -> list[Limits]:
    """Every combination of the given limits, validated (usage errors name the bad value)."""
    from perfinvest.adapters.constraints.base import Limits

    if not (options.cpus or options.memories or options.pids):
        raise usage_error(
            "give at least one limit: --cpu N, --memory SIZE or --pids N "
            "(repeat a flag for a matrix, e.g. --cpu 0.5 --cpu 1 --memory 256MB)"
        )
    for cpu in options.cpus:
        if not cpu > 0 or cpu > cpu_count:
            raise usage_error(
                f"--cpu {cpu:g} is outside (0, {cpu_count}]: this machine has {cpu_count} "
                "CPU(s); give a share like 0.5 or a count up to that"
            )
    memories = [parse_size(text) for text in options.memories]
    for size in memories:
        if size < 4 * 2**20:
            raise usage_error(
                f"--memory {format_size(size)} is too small to start a process: give 4 MiB or more"
            )
    for pids in options.pids:
        if pids < 1:
            raise usage_error(f"--pids must be at least 1, not {pids}")
    if options.runs < 1:
        raise usage_error("--runs must be at least 1")
    combos = itertools.product(
        options.cpus or (None,), memories or (None,), options.pids or (None,)
    )
    return [Limits(cpu, memory, pids) for cpu, memory, pids in combos]


@dataclass
class _Plan:
    benchmark: Benchmark
    session: Session
    baseline_runs: list[Run]
    baseline_version: str
    primary: str
    choice: Choice
    configs: list[Limits]


@dataclass
class _Measured:
    limits: Limits
    runs: list[Run] = field(default_factory=list)
    usages: list[Usage] = field(default_factory=list)


@dataclass
class _Outcome:
    plan: _Plan
    measured: list[_Measured] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    interrupted: bool = False


def _wrapped(benchmark: Benchmark, placement_prefix: tuple[str, ...]) -> Benchmark:
    """The command under a wrapper (docker, taskset/prlimit): no shell around the wrapper."""
    if not placement_prefix:
        return benchmark
    command = ["/bin/sh", "-c", *benchmark.command] if benchmark.shell else list(benchmark.command)
    wrapped = len(placement_prefix) if not benchmark.shell else 0  # a tool stays recognisable
    return replace(
        benchmark, command=[*placement_prefix, *command], shell=False, tool_prefix=wrapped
    )


@dataclass(frozen=True)
class _Counters:
    throttled_periods: int | None
    throttled_time_s: float | None
    cpu_time_s: float | None
    peak_memory_bytes: int | None
    oom_kills: int
    oom_killed: bool


def _aggregate(usages: list[Usage]) -> _Counters:
    def total(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return sum(known) if known else None

    peaks = [u.peak_memory_bytes for u in usages if u.peak_memory_bytes is not None]
    periods = total([u.throttled_periods for u in usages])
    return _Counters(
        throttled_periods=None if periods is None else int(periods),
        throttled_time_s=total([u.throttled_time_s for u in usages]),
        cpu_time_s=total([u.cpu_time_s for u in usages]),
        peak_memory_bytes=max(peaks) if peaks else None,
        oom_kills=sum(u.oom_kills for u in usages),
        oom_killed=any(u.oom_killed for u in usages),
    )


def _result(plan: _Plan, measured: _Measured) -> tuple[ConstraintResult, list[str]]:
    """The record for one configuration and its rows of the comparison table."""
    from perfinvest.core.stats.comparing import compare_runs
    from perfinvest.core.stats.limit_effects import limit_effect

    limits = measured.limits
    backend = plan.choice.backend
    approximate = backend.approximate
    valid = [r for r in measured.runs if r.valid]
    counters = _aggregate(measured.usages)
    notes = list(dict.fromkeys(n for u in measured.usages for n in u.notes))
    notes += [f"{r.run_id} invalid: {r.invalid_reason}" for r in measured.runs if not r.valid]
    metrics: dict[str, float] = {}
    deltas: dict[str, float] = {}
    effects: dict[str, LimitEffect] = {}
    rows: list[str] = []
    if valid:
        table = compare_runs(
            plan.baseline_runs,
            valid,
            baseline_label=f"baseline {plan.baseline_version}",
            candidate_label=limits.label,
            primary=plan.primary,
        )
        for row in table.rows:
            c = row.comparison
            effect = limit_effect(
                row.key,
                row.unit,
                c.direction if row.direction_known else None,
                c,
                cpu=limits.cpu,
                memory=limits.memory_bytes,
            )
            metrics[row.key] = c.candidate_mean
            if c.relative_change is not None:
                deltas[row.key] = c.relative_change
            effects[row.key] = effect
            rows.append(_row(limits.label, row.key, effect))
    else:
        notes.append("no valid run: nothing to compare with the baseline")
    peak = counters.peak_memory_bytes
    if peak is None:  # the fallback: the sampled RSS of the tree is the best there is
        sampled = [
            m.value for r in measured.runs for m in r.metrics if m.name == "resource_peak_rss_bytes"
        ]
        peak = int(max(sampled)) if sampled else None
    oom = counters.oom_killed
    rows.append(
        f"{limits.label:<28} throttled {counters.throttled_periods} periods "
        f"({_secs(counters.throttled_time_s)}), peak memory "
        f"{format_size(peak) if peak is not None else 'n/a'}, "
        f"OOM kills {counters.oom_kills}{' (approximate)' if approximate else ''}"
    )
    result = ConstraintResult(
        backend=backend.name,
        backend_reason=plan.choice.reason,
        approximate=approximate,
        label=limits.label,
        cpu=limits.cpu,
        memory_bytes=limits.memory_bytes,
        pids=limits.pids,
        image=getattr(plan.choice.backend, "image", None),
        runs=[r.run_id for r in measured.runs],
        valid_runs=len(valid),
        metrics=metrics,
        deltas=deltas,
        effects=effects,
        throttled_periods=counters.throttled_periods,
        throttled_time_s=counters.throttled_time_s,
        cpu_time_s=counters.cpu_time_s,
        peak_memory_bytes=peak,
        oom_killed=oom,
        oom_kills=counters.oom_kills,
        note="; ".join(notes),
    )
    return result, rows


def _row(label: str, key: str, effect: LimitEffect) -> str:
    ci = f"[{pct(effect.ci_low)}, {pct(effect.ci_high)}]"
    p = "n/a" if effect.p_value is None else f"{effect.p_value:.2g}"
    return (
        f"{label:<28} {key:<24} {effect.baseline:>12.5g} {effect.constrained:>12.5g} "
        f"{pct(effect.relative_change):>8} {ci:>18} {p:>7}  {effect.effect}"
    )


def _secs(value: object) -> str:
    return f"{value:.3g} s" if isinstance(value, float) else "n/a"


def constraints(
    ctx: AppContext, request: PhaseRequest, options: ConstraintOptions
) -> CommandResult:
    """Measure every configuration under its limits and compare it with the baseline."""
    if request.skip_reason is not None:
        return skip_phase(ctx, "constraints", Phase.CONSTRAINTS, request)
    steps = ConstraintsPhase(ctx, options)
    return run_phase_steps(
        ctx,
        "constraints",
        Phase.CONSTRAINTS,
        request,
        prepare=steps.prepare,
        execute=steps.execute,
        apply=steps.apply,
    )


@dataclass(frozen=True)
class ConstraintsPhase:
    """The constraints phase's steps (see :func:`run_phase_steps`), each callable alone."""

    ctx: AppContext
    options: ConstraintOptions

    def prepare(self, inv: Investigation) -> _Plan:
        ctx, options = self.ctx, self.options
        from perfinvest.adapters.constraints.detect import choose

        configs = configurations(options, os.cpu_count() or 1)  # after the preconditions
        if inv.baseline is None:
            raise refused("constraints need a baseline: run `perfinvest baseline` first")
        document = ctx.store.load_baseline(inv.baseline.version)
        duration = duration_for(ctx, inv, options.measure)
        choice = choose(options.backend, options.image, ctx.repo_root)
        return _Plan(
            benchmark_of(ctx, inv),
            session_for(ctx, inv, options.measure, duration),
            [r for r in document.runs if r.valid],
            document.version,
            inv.setup.metric.name,
            choice,
            configs,
        )

    def execute(self, plan: _Plan) -> _Outcome:
        ctx, options = self.ctx, self.options
        from perfinvest.adapters import fingerprint

        outcome = _Outcome(plan)
        session = plan.session
        backend = plan.choice.backend
        try:
            with benchmark_lock(ctx, session.investigation_id, "constraints", outcome.events):
                git = fingerprint.git_state(session.repo_root, session.state_dir)
                total = len(plan.configs) * options.runs
                for limits in plan.configs:
                    measured = _Measured(limits)
                    outcome.measured.append(measured)
                    for _ in range(options.runs):
                        with backend.slot(limits, "run") as slot:
                            placement = slot.placement
                            benchmark = _wrapped(
                                with_env(
                                    plan.benchmark, {**limits.contract_env(), **placement.env}
                                ),
                                placement.argv_prefix,
                            )
                            benchmark = replace(benchmark, cgroup_procs=placement.cgroup_procs)
                            # resolved by run_once per run: the wrapper is the slot's own
                            index = sum(len(m.runs) for m in outcome.measured) + 1
                            run = run_once(benchmark, session, "constrained", index, total, git)
                            measured.runs.append(run)
                            measured.usages.append(slot.usage())
                        if run.invalid_reason and run.invalid_reason.startswith("interrupted"):
                            raise KeyboardInterrupt
        except KeyboardInterrupt:
            outcome.interrupted = True
        return outcome

    def apply(self, inv: Investigation, outcome: _Outcome) -> PhaseWork:
        ctx, options = self.ctx, self.options
        from perfinvest.core.stats.limit_effects import describe

        inv.events.extend(outcome.events)
        plan = outcome.plan
        results: list[ConstraintResult] = []
        rows: list[str] = [
            f"{'configuration':<28} {'metric':<24} {'baseline':>12} {'constrained':>12} "
            f"{'change':>8} {'95% CI':>18} {'p':>7}  effect of the limit"
        ]
        findings: list[str] = []
        for measured in outcome.measured:
            result, table_rows = _result(plan, measured)
            results.append(result)
            rows.extend(table_rows)
            if result.oom_killed:
                findings.append(
                    f"{result.label}: OOM-killed ({result.oom_kills} kill(s), kernel counter)"
                )
            findings.extend(
                f"{result.label}: {describe(key, effect)}"
                for key, effect in result.effects.items()
                if effect.effect not in ("no effect of limit", "unclear effect of limit")
            )
        duration = duration_for(ctx, inv, options.measure)
        runs = [r for m in outcome.measured for r in m.runs]
        non_compliant = any(not r.compliant for r in runs)
        choice = plan.choice
        backend_line = f"backend {choice.backend.name}: {choice.reason}"
        if choice.backend.approximate:
            findings.append("approximate backend: limits are not enforced like cgroups")
        data = {
            "backend": choice.backend.name,
            "backend_reason": choice.reason,
            "approximate": choice.backend.approximate,
            "constraints": [r.model_dump(mode="json") for r in results],
            "table": rows,
        }
        if outcome.interrupted:
            return PhaseWork(
                summary=f"constraints interrupted after {len(runs)} run(s); nothing recorded",
                outcome="failed",
                evidence=[backend_line, *rows],
                non_compliant=non_compliant,
                data=data,
                error=PerfError(
                    "interrupted: the run was stopped, its processes killed, its cgroup or "
                    "container removed, the lock released",
                    ExitCode.INTERRUPTED,
                    kind="interrupted",
                ),
            )
        inv.constraints.extend(results)
        if non_compliant:
            findings.append(f"non-compliant runs: {duration.note}")
        ooms = sum(1 for r in results if r.oom_killed)
        return PhaseWork(
            summary=(
                f"{len(results)} constrained configuration(s) measured with {choice.backend.name}"
                f"{' (approximate)' if choice.backend.approximate else ''} against baseline "
                f"{plan.baseline_version}, {ooms} OOM-killed"
            ),
            evidence=[backend_line, *rows],
            findings=findings,
            non_compliant=non_compliant,
            data=data,
        )
