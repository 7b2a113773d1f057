"""The phase machine: may a phase run now, and what recording an attempt does (pure)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from perfinvest.core.errors import refused, usage_error
from perfinvest.core.models import AttemptOutcome, Investigation, PhaseAttempt
from perfinvest.core.phases import PHASE_COMMANDS, Phase, previous_phases


def _needs_baseline(inv: Investigation) -> str | None:
    if inv.baseline is None:
        return "a baseline (run `perfinvest baseline`)"
    return None


def _needs_current_baseline(inv: Investigation) -> str | None:
    if inv.baseline is None or inv.baseline.version != inv.setup.version:
        return (
            f"a baseline for the current version {inv.setup.version!r} (run `perfinvest baseline`)"
        )
    return None


def _needs_history(inv: Investigation) -> str | None:
    if inv.history is None:
        return "git history for the window (rule 8: run `perfinvest hypotheses gather` first)"
    return None


#: Phase-specific preconditions beyond "every earlier phase is done" (docs/architecture.md's table).
PRECONDITIONS: dict[Phase, tuple[Callable[[Investigation], str | None], ...]] = {
    Phase.BREAKING_POINT: (_needs_baseline,),
    Phase.CONSTRAINTS: (_needs_baseline,),
    Phase.HYPOTHESES: (_needs_history,),
    Phase.OPTIMIZATION: (_needs_current_baseline,),
}


def missing_for(inv: Investigation, phase: Phase, *, step_exempt: bool = False) -> list[str]:
    """What must exist before ``phase`` may run; empty when it may.

    ``step_exempt`` skips the phase-specific preconditions for a step that itself
    establishes them (``hypotheses gather`` gathers the history that ``add`` needs).
    """
    missing = [
        f"phase {p.number} {p.value} (run `perfinvest {PHASE_COMMANDS[p]}` "
        "or skip it with --skip-reason)"
        for p in previous_phases(phase)
        if not inv.is_done(p)
    ]
    if not step_exempt:
        for check in PRECONDITIONS.get(phase, ()):
            need = check(inv)
            if need:
                missing.append(need)
    return missing


def require_runnable(inv: Investigation, phase: Phase, *, step_exempt: bool = False) -> None:
    """Refuse with the list of what is missing; the refusal names the phase."""
    if inv.status == "complete":
        raise refused(
            f"investigation {inv.id} is complete; start a new one with `perfinvest start`"
        )
    missing = missing_for(inv, phase, step_exempt=step_exempt)
    if missing:
        raise refused(f"phase {phase.value} cannot run yet: needs {'; '.join(missing)}", missing)


def require_skippable(inv: Investigation, phase: Phase) -> None:
    """A skip needs the earlier phases done (order still holds) but not the preconditions."""
    if phase == Phase.SETUP:
        raise refused("setup cannot be skipped: every later phase depends on it")
    require_runnable(inv, phase, step_exempt=True)


def record_attempt(
    inv: Investigation,
    phase: Phase,
    outcome: AttemptOutcome,
    *,
    started_at: datetime,
    ended_at: datetime,
    summary: str = "",
    quote: str | None = None,
    skip_reason: str | None = None,
    evidence: list[str] | None = None,
    decision: str | None = None,
    non_compliant: bool = False,
) -> PhaseAttempt:
    """Append the next numbered attempt of ``phase``; consolidation completes the whole."""
    if outcome == "skipped" and not (skip_reason and skip_reason.strip()):
        raise usage_error('a skip needs a reason: pass --skip-reason "why"')
    attempt = PhaseAttempt(
        phase=phase,
        attempt=len(inv.attempts_of(phase)) + 1,
        outcome=outcome,
        started_at=started_at,
        ended_at=ended_at,
        summary=summary,
        quote=quote,
        skip_reason=skip_reason,
        evidence=list(evidence or []),
        decision=decision,
        non_compliant=non_compliant,
    )
    inv.attempts.append(attempt)
    inv.updated_at = ended_at
    if phase == Phase.CONSOLIDATION and outcome in ("completed", "skipped"):
        inv.status = "complete"
    return attempt
