"""The life of one phase command: check, change the state, log it, checkpoint it.

Every phase use case supplies only its own work (a function that changes the
investigation and says what happened); ordering, attempts, the reviewer's log and the
checkpoint commit are the same for all ten and live here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from perfinvest.app.checkpoint import checkpoint, checkpoint_data
from perfinvest.app.context import AppContext
from perfinvest.app.result import CommandResult
from perfinvest.core import machine
from perfinvest.core.errors import PerfError
from perfinvest.core.logrender import render_attempt, render_header
from perfinvest.core.models import AttemptOutcome, Investigation
from perfinvest.core.phases import PHASE_COMMANDS, Phase


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


@dataclass(frozen=True)
class PhaseRequest:
    """Options every phase command accepts."""

    quote: str | None = None
    skip_reason: str | None = None


def next_step(inv: Investigation) -> tuple[str | None, str | None]:
    """The next phase and the command that runs it (None when complete)."""
    if inv.status == "complete":
        return None, None
    phase = inv.next_phase()
    if phase is None:
        return None, None
    return phase.value, f"perfinvest {PHASE_COMMANDS[phase]}"


def base_result(command: str, inv: Investigation, phase: Phase | None) -> CommandResult:
    next_phase, next_command = next_step(inv)
    result = CommandResult(
        command=command,
        investigation=inv.id,
        phase=phase.value if phase else None,
        status=inv.status,
        baseline=inv.baseline.version if inv.baseline else None,
        next=next_phase,
    )
    result.data["next_command"] = next_command
    if inv.setup.short_run_policy is not None:
        result.data["short_run_policy"] = inv.setup.short_run_policy.reason
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
    """Run ``work`` as an attempt of ``phase`` under the state lock, then log and commit."""
    store = ctx.store
    with store.locked():
        inv = store.load_active()
        started = ctx.now()
        try:
            if request.skip_reason is not None:
                machine.require_skippable(inv, phase)
                done = PhaseWork(summary=f"phase skipped: {request.skip_reason}", outcome="skipped")
            else:
                machine.require_runnable(inv, phase, step_exempt=step_exempt)
                done = work(inv)
        except PerfError as error:
            error.context = {
                "investigation": inv.id,
                "phase": phase.value,
                "baseline": inv.baseline.version if inv.baseline else None,
            }
            raise
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
        log_path = store.append_log(inv.id, render_header(inv), render_attempt(inv, attempt))
        committed = checkpoint(ctx, inv, phase, done.delta)
    result = base_result(command, inv, phase)
    result.findings = [done.summary, *done.findings]
    result.data.update(done.data)
    result.data["attempt"] = attempt.attempt
    result.data["outcome"] = attempt.outcome
    result.data["log"] = str(log_path)
    result.data["checkpoint"] = checkpoint_data(committed)
    return result


def skip_phase(ctx: AppContext, command: str, phase: Phase, request: PhaseRequest) -> CommandResult:
    """Skip ``phase`` with the request's reason (for phases made of several steps)."""

    def no_work(_: Investigation) -> PhaseWork:  # pragma: no cover - never called for a skip
        raise AssertionError("a skip runs no phase work")

    return run_phase(ctx, command, phase, request, no_work)
