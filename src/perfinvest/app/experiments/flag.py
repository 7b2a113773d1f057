"""``experiment ab``: ``PERF_EXPERIMENT=0`` against ``=1``, nothing touched."""

from __future__ import annotations

from dataclasses import dataclass

from perfinvest.app.context import AppContext
from perfinvest.app.experiments.common import MIN_RUNS, _resolve_hypothesis, experiments_table
from perfinvest.app.experiments.measuring import (
    _interleave,
    _measured_work,
    _Outcome,
    _Plan,
    _plan_sides,
    _record_measurement,
)
from perfinvest.app.measuring.benchmark import MeasureOptions, duration_for, session_for
from perfinvest.app.result import CommandResult
from perfinvest.app.session import PhaseRequest, PhaseWork, run_phase_steps
from perfinvest.core.errors import ExitCode, PerfError, refused, usage_error
from perfinvest.core.models import Experiment, Investigation
from perfinvest.core.phases import Phase
from perfinvest.store.journal import read_journal

# --------------------------------------------------------------------------- flag A/B


def ab(
    ctx: AppContext,
    request: PhaseRequest,
    hypothesis: str | None,
    change: str | None,
    runs: int,
    options: MeasureOptions,
) -> CommandResult:
    """``PERF_EXPERIMENT=0`` against ``=1`` on the working tree, interleaved; nothing touched."""
    if runs < MIN_RUNS:
        raise usage_error(f"--runs must be at least {MIN_RUNS} per side")
    if not change or not change.strip():
        raise usage_error('--change is required: say what PERF_EXPERIMENT=1 switches on ("...")')
    holder: list[tuple[int, str | None]] = []
    steps = AbSteps(ctx, hypothesis, change, runs, options, holder)
    return run_phase_steps(
        ctx,
        "experiment ab",
        Phase.OPTIMIZATION,
        request,
        prepare=steps.prepare,
        execute=steps.execute,
        apply=steps.apply,
    )


@dataclass(frozen=True)
class AbSteps:
    """``experiment ab``'s steps (see :func:`run_phase_steps`), each callable alone."""

    ctx: AppContext
    hypothesis: str | None
    change: str | None
    runs: int
    options: MeasureOptions
    holder: list[tuple[int, str | None]]

    def prepare(self, inv: Investigation) -> _Plan:
        ctx, hypothesis, runs, options, holder = (
            self.ctx,
            self.hypothesis,
            self.runs,
            self.options,
            self.holder,
        )
        journal = read_journal(ctx.paths.perf_dir)
        if journal is not None:
            raise refused(
                f"experiment {journal.experiment} is open ({journal.stage}): its change is in the "
                "working tree; run or abort it before a flag A/B"
            )
        linked = _resolve_hypothesis(inv, hypothesis)
        number = len(inv.experiments) + 1
        holder.append((number, linked))
        duration = duration_for(ctx, inv, options)
        return _Plan(
            inv_id=inv.id,
            number=number,
            session=session_for(ctx, inv, options, duration),
            runs=runs,
            metric=inv.setup.metric.name,
            sides=_plan_sides(ctx, inv, number, None, flag=True),
        )

    def execute(self, plan: _Plan) -> _Outcome:
        ctx = self.ctx
        outcome = _Outcome()
        try:
            _interleave(ctx, plan, outcome)
        except KeyboardInterrupt:
            outcome.interrupted = True
        except PerfError as error:
            outcome.error = error
        return outcome

    def apply(self, inv: Investigation, outcome: _Outcome) -> PhaseWork:
        ctx, change, holder = self.ctx, self.change, self.holder
        number, linked = holder[0]
        if any(e.number == number for e in inv.experiments):
            number = len(inv.experiments) + 1
        exp = Experiment(
            number=number,
            kind="flag",
            hypothesis=linked,
            change=(change or "").strip(),
            state="measured",
            started_at=ctx.now(),
        )
        inv.experiments.append(exp)
        inv.events.extend(outcome.events)
        exp.ended_at = ctx.now()
        if outcome.interrupted:
            exp.state = "interrupted"
            return PhaseWork(
                summary=f"flag experiment {number} interrupted",
                outcome="failed",
                error=PerfError(
                    "interrupted: the runs were stopped, the lock released",
                    ExitCode.INTERRUPTED,
                    kind="interrupted",
                ),
            )
        if outcome.error is not None:
            exp.state = "failed"
            return PhaseWork(
                summary=f"flag experiment {number} failed: {outcome.error.message}",
                outcome="failed",
                error=outcome.error,
            )
        work, evidence = _record_measurement(
            ctx, inv, exp, outcome, ("PERF_EXPERIMENT=0", "PERF_EXPERIMENT=1")
        )
        if work is None:
            work = _measured_work(inv, exp, outcome, evidence)
        work.evidence = [*work.evidence, *(f"experiment {row}" for row in experiments_table(inv))]
        work.data.update(
            {"experiment": exp.model_dump(mode="json"), "experiments": experiments_table(inv)}
        )
        return work
