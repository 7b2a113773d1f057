"""The common shape of answers about an investigation (status, phases, resume)."""

from __future__ import annotations

from perfinvest.app.result import CommandResult
from perfinvest.core.models import Investigation
from perfinvest.core.phases import PHASE_COMMANDS, Phase


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
