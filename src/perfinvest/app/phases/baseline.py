"""Phase 2, baseline: sequential measured runs of the current version, kept forever."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from perfinvest.app.context import AppContext
from perfinvest.app.measuring.benchmark import (
    MeasureOptions,
    benchmark_lock,
    benchmark_of,
    duration_for,
    session_for,
)
from perfinvest.app.measuring.measure import (
    Benchmark,
    Measurement,
    Session,
    measure,
    primary_values,
)
from perfinvest.app.result import CommandResult
from perfinvest.app.session import PhaseRequest, PhaseWork, run_phase_steps
from perfinvest.core.errors import ExitCode, PerfError, benchmark_failed, usage_error
from perfinvest.core.models import Baseline, BaselineRef, Event, Investigation, MetricSpec, Run
from perfinvest.core.phases import Phase
from perfinvest.core.quantities import format_quantity
from perfinvest.core.stats.baselines import resolve_key, summarize_runs

MIN_RUNS = 2


@dataclass
class _Plan:
    benchmark: Benchmark
    session: Session
    runs: int
    metric: str


@dataclass
class _Outcome:
    measurement: Measurement
    events: list[Event] = field(default_factory=list)
    interrupted: bool = False
    reported: list[str] | None = None  # set when a valid run lacked the primary metric


class _PrimaryMissingError(Exception):
    """A valid run reported metrics, but not the primary one: stop before the next run."""

    def __init__(self, reported: list[str]) -> None:
        super().__init__(", ".join(reported))
        self.reported = reported


def _describe_invalid(measurement: Measurement) -> str:
    reasons = [f"{r.run_id}: {r.invalid_reason}" for r in measurement.runs if not r.valid]
    return "; ".join(reasons[:3]) + (f" (+{len(reasons) - 3} more)" if len(reasons) > 3 else "")


def baseline(
    ctx: AppContext, request: PhaseRequest, runs: int, options: MeasureOptions
) -> CommandResult:
    """Measure ``runs`` sequential runs and write ``baselines/<version>.json``."""
    if runs < MIN_RUNS:
        raise usage_error(f"--runs must be at least {MIN_RUNS} (a baseline needs a spread)")
    from perfinvest.adapters.meters import require_meter

    require_meter(options.meter)
    steps = BaselinePhase(ctx, runs, options)
    return run_phase_steps(
        ctx,
        "baseline",
        Phase.BASELINE,
        request,
        prepare=steps.prepare,
        execute=steps.execute,
        apply=steps.apply,
    )


@dataclass(frozen=True)
class BaselinePhase:
    """The baseline's three steps (see :func:`run_phase_steps`), each callable alone."""

    ctx: AppContext
    runs: int
    options: MeasureOptions

    def primary_spec(self, inv: Investigation) -> MetricSpec:
        """Under the instruction meter the baseline is of instructions, whatever the setup."""
        options = self.options
        if options.meter is None:
            return inv.setup.metric
        return MetricSpec(name=options.meter, direction="lower", unit="count")

    def prepare(self, inv: Investigation) -> _Plan:
        ctx, options, runs = self.ctx, self.options, self.runs
        duration = duration_for(ctx, inv, options)
        return _Plan(
            replace(benchmark_of(ctx, inv), meter=options.meter),
            session_for(ctx, inv, options, duration),
            runs,
            self.primary_spec(inv).name,
        )

    def execute(self, plan: _Plan) -> _Outcome:
        ctx = self.ctx
        outcome = _Outcome(Measurement(runs=[]))

        def on_run(run: Run) -> None:
            outcome.measurement.runs.append(run)
            if run.valid and run.metric(plan.metric) is None:  # a typo costs one run, not all
                raise _PrimaryMissingError([m.key for m in run.metrics])

        try:
            with benchmark_lock(ctx, plan.session.investigation_id, "baseline", outcome.events):
                outcome.measurement = measure(
                    plan.benchmark,
                    plan.session,
                    label="baseline",
                    runs=plan.runs,
                    primary_metric=plan.metric,
                    on_run=on_run,
                )
        except _PrimaryMissingError as missing:
            outcome.reported = missing.reported
        except KeyboardInterrupt:
            outcome.interrupted = True
        return outcome

    def apply(self, inv: Investigation, outcome: _Outcome) -> PhaseWork:
        ctx = self.ctx
        inv.events.extend(outcome.events)
        measurement = outcome.measurement
        metric = self.primary_spec(inv)
        values = primary_values(measurement.runs, metric.name)
        compliant = all(r.compliant for r in measurement.runs)
        failed = _failed_work(outcome, metric.name, len(values), compliant)
        if failed is not None:
            return failed
        now = ctx.now()
        document = Baseline(
            version=inv.setup.version,
            investigation_id=inv.id,
            created_at=now,
            command=inv.setup.command,
            config_hash=measurement.runs[-1].environment.config_hash,
            primary_metric=metric,
            runs=measurement.runs,
            summaries=summarize_runs(measurement.runs),
            environment=measurement.runs[-1].environment,
            flags=measurement.flags,
        )
        path = ctx.store.write_baseline(document, now)
        primary = document.summaries[resolve_key(measurement.runs, metric.name) or metric.name][
            "runs"
        ]
        inv.baseline = BaselineRef(
            version=inv.setup.version,
            path=ctx.paths.relative(path),
            created_at=now,
            runs=len(measurement.runs),
            primary_value=primary["mean"],
        )
        cv = primary["cv"]
        findings = [*measurement.warnings, *measurement.flags]
        findings.extend(event.message for event in outcome.events)  # e.g. a lock takeover
        findings.extend(
            f"{r.run_id} invalid: {r.invalid_reason}" for r in measurement.runs if not r.valid
        )
        if not compliant:
            findings.append(f"non-compliant runs: {measurement.runs[0].compliance_note}")
        return PhaseWork(
            summary=(
                f"baseline {inv.setup.version}: {metric.name} "
                f"{format_quantity(primary['mean'], metric.unit)} "
                f"± {format_quantity(primary['stddev'], metric.unit, 2)} "
                f"(CV {cv:.1%} over {len(values)} runs)"
                if cv is not None
                else f"baseline {inv.setup.version}: {metric.name} "
                f"{format_quantity(primary['mean'], metric.unit)}"
            ),
            evidence=[ctx.paths.relative(path), " ".join(inv.setup.command)],
            findings=findings,
            non_compliant=not compliant,
            data={
                "baseline_path": str(path),
                "runs": [
                    r.model_dump(mode="json", exclude={"environment"}) for r in measurement.runs
                ],
                "summaries": document.summaries,
                "flags": measurement.flags,
            },
        )


def _failed_work(outcome: _Outcome, metric: str, valid: int, compliant: bool) -> PhaseWork | None:
    """The failed phase when the baseline was interrupted, lacked its metric or too many
    runs were invalid; None when it can be written."""
    measurement = outcome.measurement
    if outcome.interrupted:
        return PhaseWork(
            summary=f"baseline interrupted after {len(measurement.runs)} run(s)",
            outcome="failed",
            error=PerfError(
                "interrupted: the run was stopped, its processes killed, the lock released",
                ExitCode.INTERRUPTED,
                kind="interrupted",
            ),
        )
    if outcome.reported is not None:
        same_name = [k for k in outcome.reported if k.rsplit(":", 1)[-1] == metric]
        problem = (
            f"{metric!r} is reported by several scenarios ({', '.join(same_name)})"
            if same_name
            else f"it reported no {metric!r}, only: {', '.join(outcome.reported)}"
        )
        return PhaseWork(
            summary=f"baseline stopped: run 1 did not report {metric}",
            outcome="failed",
            evidence=[r.run_id for r in measurement.runs],
            non_compliant=not compliant,
            error=benchmark_failed(
                f"baseline stopped after the first run: {problem}; start again with "
                "`--metric` set to one of those"
            ),
        )
    if valid < MIN_RUNS:
        detail = _describe_invalid(measurement) or f"no run reported {metric!r}"
        return PhaseWork(
            summary=(
                f"baseline failed: {valid} of {len(measurement.runs)} run(s) valid with {metric}"
            ),
            outcome="failed",
            evidence=[r.run_id for r in measurement.runs],
            non_compliant=not compliant,
            error=benchmark_failed(
                f"baseline needs {MIN_RUNS} valid runs reporting {metric!r}: {detail}"
            ),
        )
    return None
