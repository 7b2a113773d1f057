"""The life of one phase command: check, change the state, log it, checkpoint it.

Every phase use case supplies only its own work (a function that changes the
investigation and says what happened); ordering, attempts, the reviewer's log and the
checkpoint commit are the same for all ten and live here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from perfinvest.app.after_save import append_log_soft
from perfinvest.app.answers import base_result
from perfinvest.app.checkpoint import checkpoint, checkpoint_data, checkpoint_findings
from perfinvest.app.context import AppContext
from perfinvest.app.phases.setup import heal_interrupted_switch
from perfinvest.app.queries import remember_status
from perfinvest.app.result import CommandResult
from perfinvest.app.retries import retried_attempt, state_fingerprint
from perfinvest.core import machine
from perfinvest.core.errors import PerfError, refused
from perfinvest.core.models import AttemptOutcome, Event, Investigation, PhaseAttempt
from perfinvest.core.phases import Phase
from perfinvest.core.report.log import render_attempt, render_event, render_header


@dataclass
class PhaseWork:
    """What a phase's own work reports back to the session."""

    summary: str
    outcome: AttemptOutcome = "completed"
    evidence: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    decision: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    non_compliant: bool = False
    delta: str | None = None
    error: PerfError | None = None  # with outcome "failed": recorded, then answered as failure


@dataclass(frozen=True)
class PhaseRequest:
    """Options every phase command accepts."""

    quote: str | None = None
    skip_reason: str | None = None


P = TypeVar("P")
R = TypeVar("R")


@contextmanager
def _located(inv: Investigation, phase: Phase) -> Iterator[None]:
    """Errors raised inside name the investigation and phase they concern."""
    try:
        yield
    except PerfError as error:
        error.context = {
            "investigation": inv.id,
            "phase": phase.value,
            "baseline": inv.baseline.version if inv.baseline else None,
        }
        raise


def run_phase_steps(
    ctx: AppContext,
    command: str,
    phase: Phase,
    request: PhaseRequest,
    *,
    prepare: Callable[[Investigation], P],
    execute: Callable[[P], R],
    apply: Callable[[Investigation, R], PhaseWork],
    step_exempt: bool = False,
) -> CommandResult:
    """A phase in three steps, so a long measurement never holds the state lock.

    ``prepare`` checks and plans under the lock; ``execute`` measures without it (other
    commands such as ``status`` stay responsive); ``apply`` records the outcome under the
    lock again, on a freshly loaded state, refusing if the active investigation changed.
    """
    store = ctx.store
    started = ctx.now()
    with store.locked():
        inv = store.load_active()  # the one load: the lock's log repair uses it too
        healed = heal_interrupted_switch(ctx, store, inv)
        with _located(inv, phase):
            if request.skip_reason is not None:
                machine.require_skippable(inv, phase)
                skipped = PhaseWork(
                    summary=f"phase skipped: {request.skip_reason}", outcome="skipped"
                )
                skipped.findings.extend(healed)
                before = state_fingerprint(inv)
                return _record(ctx, command, phase, request, inv, skipped, started, before=before)
            machine.require_runnable(inv, phase, step_exempt=step_exempt)
            plan = prepare(inv)
    with _located(inv, phase):
        outcome = execute(plan)
    with store.locked():
        current = store.load_active()
        events_before = len(current.events)
        with _located(current, phase):
            if current.id != inv.id:
                raise refused(
                    f"the active investigation changed from {inv.id} to {current.id} while "
                    f"{command} ran; `perfinvest resume {inv.id}` and run it again"
                )
            before = state_fingerprint(current)
            done = apply(current, outcome)
        done.findings.extend(healed)
        return _record(
            ctx,
            command,
            phase,
            request,
            current,
            done,
            started,
            current.events[events_before:],
            before=before,
        )


def _record(
    ctx: AppContext,
    command: str,
    phase: Phase,
    request: PhaseRequest,
    inv: Investigation,
    done: PhaseWork,
    started: datetime,
    new_events: Sequence[Event] = (),
    *,
    before: str | None = None,
) -> CommandResult:
    """Attempt, state, log, checkpoint (caller holds the lock); then the answer.

    ``before``: the state's fingerprint before the work; an identical retry of the last
    attempt on an unchanged state records nothing new (app/retries.py)."""
    store = ctx.store
    retried = None
    if not new_events and done.error is None:
        retried = retried_attempt(
            inv,
            phase,
            before=before,
            outcome=done.outcome,
            summary=done.summary,
            evidence=done.evidence,
            decision=done.decision,
            quote=request.quote,
            skip_reason=request.skip_reason,
        )
    if retried is not None:
        return _answer_retry(ctx, command, phase, inv, done, retried)
    attempt = machine.record_attempt(
        inv,
        phase,
        done.outcome,
        started_at=started,
        ended_at=ctx.now(),
        summary=done.summary,
        quote=request.quote,
        skip_reason=request.skip_reason,
        evidence=done.evidence,
        decision=done.decision,
        non_compliant=done.non_compliant,
    )
    store.save_active(inv)
    remember_status(ctx, inv)
    log_path, log_problems = append_log_soft(
        ctx,
        inv.id,
        render_header(inv),
        [render_attempt(inv, attempt), *(render_event(event) for event in new_events)],
    )
    committed = checkpoint(ctx, inv, phase, done.delta)
    if done.error is not None:
        result = CommandResult.failure(
            command,
            done.error,
            investigation=inv.id,
            phase=phase.value,
            baseline=inv.baseline.version if inv.baseline else None,
        )
    else:
        result = base_result(command, inv, phase)
    result.findings = [
        done.summary,
        *done.findings,
        *log_problems,
        *checkpoint_findings(committed),
    ]
    result.data.update(done.data)
    result.data["attempt"] = attempt.attempt
    result.data["outcome"] = attempt.outcome
    result.data["log"] = str(log_path)
    result.data["checkpoint"] = checkpoint_data(committed)
    return result


def _answer_retry(
    ctx: AppContext,
    command: str,
    phase: Phase,
    inv: Investigation,
    done: PhaseWork,
    retried: PhaseAttempt,
) -> CommandResult:
    """The same input again: nothing recorded; the checkpoint a failure may have missed."""
    committed = checkpoint(ctx, inv, phase, done.delta)
    result = base_result(command, inv, phase)
    result.findings = [
        done.summary,
        *done.findings,
        f"already recorded as attempt {retried.attempt} of {phase.value}: the same input "
        "again adds nothing (a retry)",
        *checkpoint_findings(committed),
    ]
    result.data.update(done.data)
    result.data["attempt"] = retried.attempt
    result.data["outcome"] = retried.outcome
    result.data["retry"] = True
    result.data["log"] = str(ctx.paths.log(inv.id))
    result.data["checkpoint"] = checkpoint_data(committed)
    return result


def run_phase(
    ctx: AppContext,
    command: str,
    phase: Phase,
    request: PhaseRequest,
    work: Callable[[Investigation], PhaseWork],
    *,
    step_exempt: bool = False,
) -> CommandResult:
    """A phase whose work is quick: check, do, record, all on one consistent state."""
    return run_phase_steps(
        ctx,
        command,
        phase,
        request,
        prepare=lambda _inv: None,
        execute=lambda _plan: None,
        apply=lambda inv, _outcome: work(inv),
        step_exempt=step_exempt,
    )


def skip_phase(ctx: AppContext, command: str, phase: Phase, request: PhaseRequest) -> CommandResult:
    """Skip ``phase`` with the request's reason (for phases made of several steps)."""

    def no_work(_: Investigation) -> PhaseWork:  # pragma: no cover - never called for a skip
        raise AssertionError("a skip runs no phase work")

    return run_phase(ctx, command, phase, request, no_work)
