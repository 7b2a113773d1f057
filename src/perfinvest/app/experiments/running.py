"""``experiment run``: capture the change, measure A/B, restore and verify the tree."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from perfinvest.adapters import worktree as wt
from perfinvest.app.context import AppContext
from perfinvest.app.experiments.common import (
    MIN_RUNS,
    _artifact,
    _declared,
    _few,
    _open_journal,
    _perf_tampering,
    experiment_dir,
    experiments_table,
    find_experiment,
    repo_info,
)
from perfinvest.app.experiments.measuring import (
    _interleave,
    _measured_work,
    _Outcome,
    _Plan,
    _plan_sides,
    _record_measurement,
)
from perfinvest.app.experiments.restoring import (
    SignalHold,
    _restore_and_verify,
    capture_change,
    describe_check,
    held_note,
)
from perfinvest.app.measuring.benchmark import MeasureOptions, duration_for, session_for
from perfinvest.app.result import CommandResult
from perfinvest.app.session import PhaseRequest, PhaseWork, run_phase_steps
from perfinvest.core.errors import ExitCode, PerfError, refused, usage_error
from perfinvest.core.models import Investigation
from perfinvest.core.phases import Phase
from perfinvest.store.atomic import atomic_write_bytes
from perfinvest.store.journal import Journal, remove_journal, write_journal

# --------------------------------------------------------------------------- run


def run(
    ctx: AppContext, request: PhaseRequest, runs: int, options: MeasureOptions
) -> CommandResult:
    """Capture the change, measure both sides interleaved, restore and verify the tree."""
    if runs < MIN_RUNS:
        raise usage_error(
            f"--runs must be at least {MIN_RUNS} per side (a comparison needs a spread)"
        )
    perf = ctx.paths.perf_dir
    hold = SignalHold()
    steps = RunSteps(ctx, runs, options, perf, hold, [])
    try:
        result = run_phase_steps(
            ctx,
            "experiment run",
            Phase.OPTIMIZATION,
            request,
            prepare=steps.prepare_and_keep,
            execute=steps.execute,
            apply=steps.apply,
        )
    finally:
        caught = hold.release()
    if caught:
        result.findings.append(held_note(caught))
        result.data["signals_held"] = caught
    return result


@dataclass(frozen=True)
class RunSteps:
    """``experiment run``'s steps (see :func:`run_phase_steps`), each callable alone.

    ``plan_holder`` keeps the plan :meth:`prepare_and_keep` made for :meth:`apply`; ``hold``
    defers signals from the tree's restore to the end of the record."""

    ctx: AppContext
    runs: int
    options: MeasureOptions
    perf: Path
    hold: SignalHold
    plan_holder: list[_Plan]

    def prepare(self, inv: Investigation) -> _Plan:
        ctx = self.ctx
        return self.plan_for(inv, _open_journal(ctx, inv))

    def plan_for(self, inv: Investigation, journal: Journal) -> _Plan:
        ctx, runs, options, perf = self.ctx, self.runs, self.options, self.perf
        exp = find_experiment(inv, journal.experiment)
        if exp.state != "open":
            raise refused(f"experiment {exp.number} is {exp.state}, not open")
        info = repo_info(ctx)
        assert journal.snapshot is not None
        snap = wt.Snapshot.from_json(journal.snapshot)
        _, moved = wt.head_moved(info, snap)
        if moved:
            raise refused(f"{moved}; nothing was measured or touched")
        tampered = _perf_tampering(ctx, journal)
        if tampered:
            raise refused(
                f"the change touches the perf state ({_few(tampered)}): the measurements are "
                "perfinvest's own; put those files back (or `perfinvest experiment abort`)"
            )
        change = wt.current_change(info, snap)
        if not change.files:
            raise refused(
                "no change to measure: the working tree is exactly as recorded at `experiment "
                "start` (changes under the perf state folder never count); make the one change, "
                "or `perfinvest experiment abort`"
            )
        if exp.files:
            outside = [p for p in change.paths if not _declared(p, exp.files)]
            if outside:
                raise refused(
                    f"the change spans files beyond the declared --files ({', '.join(exp.files)}):"
                    f" {_few(outside)}; one change at a time: undo those, or abort and start an "
                    "experiment that declares them"
                )
        store = experiment_dir(ctx, inv.id, exp.number)
        patch_path = store / "change.patch"
        atomic_write_bytes(patch_path, change.patch)
        patch = _artifact(ctx, patch_path, f"experiment {exp.number}'s change (git diff --binary)")
        duration = duration_for(ctx, inv, options)
        worktree_path = Path(tempfile.gettempdir()) / (
            f"{wt.WORKTREE_PREFIX}{inv.id}-{exp.number}-{os.getpid()}"
        )
        session = session_for(ctx, inv, options, duration)
        sides = _plan_sides(ctx, inv, exp.number, worktree_path, flag=False)
        journal.patch = patch.path
        journal.worktree = str(worktree_path)  # recorded before it exists
        capture_change(ctx, info, snap, journal, change)
        # One write claims the run with all a recovery needs (the captured change, the
        # worktree). A kill before it leaves the experiment open, the tree untouched; a kill
        # after it is a crash `perfinvest recover` finishes.
        journal.claim("measuring")
        write_journal(perf, journal)
        return _Plan(
            inv_id=inv.id,
            number=exp.number,
            session=session,
            runs=runs,
            metric=inv.setup.metric.name,
            sides=sides,
            info=info,
            snapshot=snap,
            journal=journal,
            worktree=worktree_path,
            change=change,
            patch=patch,
        )

    def execute(self, plan: _Plan) -> _Outcome:
        ctx, hold = self.ctx, self.hold
        assert plan.info and plan.snapshot and plan.journal and plan.worktree
        outcome = _Outcome()
        try:
            try:
                wt.add_worktree(plan.info, plan.snapshot, plan.worktree)
                plan.sides.baseline_git = (plan.snapshot.head, None)
                _interleave(ctx, plan, outcome)
            except KeyboardInterrupt:
                outcome.interrupted = True
            except PerfError as error:
                outcome.error = error
        finally:
            # from here to the end of the record a signal waits: the tree is (being) put back
            # and stopping would only discard a finished measurement
            hold.start()
            outcome.check = _restore_and_verify(
                ctx, plan.info, plan.snapshot, plan.journal, plan.worktree
            )
        return outcome

    def apply(self, inv: Investigation, outcome: _Outcome) -> PhaseWork:
        ctx, perf, plan_holder = self.ctx, self.perf, self.plan_holder
        assert plan_holder
        plan = plan_holder[0]
        inv.events.extend(outcome.events)
        exp = find_experiment(inv, plan.number)
        exp.ended_at = ctx.now()
        exp.patch = plan.patch
        assert plan.change is not None
        exp.changed_files = [f"{status} {path}" for status, path in plan.change.files]
        exp.diffstat = plan.change.diffstat
        exp.restore = outcome.check
        exp.restore_verified = outcome.check.verified if outcome.check else False
        restored = describe_check(outcome.check) if outcome.check else "tree restore did not run"
        work: PhaseWork | None
        evidence: list[str] = []
        if outcome.interrupted:
            exp.state = "interrupted"
            work = PhaseWork(
                summary=f"experiment {exp.number} interrupted; {restored}",
                outcome="failed",
                error=PerfError(
                    "interrupted: the runs were stopped, the tree restored, the lock released",
                    ExitCode.INTERRUPTED,
                    kind="interrupted",
                ),
            )
        elif outcome.error is not None:
            exp.state = "failed"
            exp.note = outcome.error.message
            work = PhaseWork(
                summary=f"experiment {exp.number} failed: {outcome.error.message}",
                outcome="failed",
                error=outcome.error,
            )
        else:
            assert plan.snapshot is not None
            work, evidence = _record_measurement(
                ctx,
                inv,
                exp,
                outcome,
                (
                    f"worktree at {plan.snapshot.head[:12]} plus the recorded changes",
                    "working tree",
                ),
            )
            if work is None:
                work = _measured_work(inv, exp, outcome, evidence)
        assert plan.info is not None and plan.snapshot is not None
        if exp.restore_verified:
            wt.drop_ref(plan.info.top, plan.snapshot.ref)
            remove_journal(perf)
        elif work.error is None or work.error.code != ExitCode.INTERRUPTED:
            work = PhaseWork(
                summary=f"experiment {exp.number}: {restored}",
                outcome="failed",
                error=refused(
                    f"{restored}; the recorded tree is kept at {plan.snapshot.ref}: run "
                    "`perfinvest recover`",
                    needs=["perfinvest recover"],
                ),
            )
        work.findings = [
            *work.findings,
            restored,
            f"change kept as {exp.patch.path if exp.patch else 'n/a'} "
            f"(`perfinvest experiment apply {exp.number}` re-applies it)",
        ]
        work.evidence = [*work.evidence, *(f"experiment {row}" for row in experiments_table(inv))]
        work.data.update(
            {
                "experiment": exp.model_dump(mode="json"),
                "diffstat": exp.diffstat,
                "experiments": experiments_table(inv),
            }
        )
        return work

    def prepare_and_keep(self, inv: Investigation) -> _Plan:
        plan_holder = self.plan_holder
        plan = self.prepare(inv)
        plan_holder.append(plan)
        return plan
