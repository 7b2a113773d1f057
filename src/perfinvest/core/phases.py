"""The ten phases, their order and their per-phase preconditions (pure)."""

from __future__ import annotations

from enum import StrEnum


class Phase(StrEnum):
    """A phase of the methodology. The value is the CLI and log spelling."""

    SETUP = "setup"
    BASELINE = "baseline"
    BREAKING_POINT = "breaking-point"
    CONSTRAINTS = "constraints"
    HYPOTHESES = "hypotheses"
    CODE_PATHS = "code-paths"
    PROFILING = "profiling"
    OPTIMIZATION = "optimization"
    DECISION = "decision"
    CONSOLIDATION = "consolidation"

    @property
    def number(self) -> int:
        return PHASE_ORDER.index(self) + 1


PHASE_ORDER: tuple[Phase, ...] = tuple(Phase)

#: The CLI command that runs each phase (``perfinvest <command>``).
PHASE_COMMANDS: dict[Phase, str] = {
    Phase.SETUP: "start",
    Phase.BASELINE: "baseline",
    Phase.BREAKING_POINT: "breaking-point",
    Phase.CONSTRAINTS: "constraints",
    Phase.HYPOTHESES: "hypotheses",
    Phase.CODE_PATHS: "code-paths",
    Phase.PROFILING: "profile",
    Phase.OPTIMIZATION: "experiment",
    Phase.DECISION: "decide",
    Phase.CONSOLIDATION: "consolidate",
}


def parse_phase(text: str) -> Phase | None:
    """Accept the phase's name, its command, its number, or underscores for dashes."""
    cleaned = text.strip().lower().replace("_", "-")
    for phase in PHASE_ORDER:
        if cleaned in (phase.value, PHASE_COMMANDS[phase], str(phase.number)):
            return phase
    return None


def previous_phases(phase: Phase) -> tuple[Phase, ...]:
    return PHASE_ORDER[: PHASE_ORDER.index(phase)]


def next_in_order(phase: Phase) -> Phase | None:
    index = PHASE_ORDER.index(phase) + 1
    return PHASE_ORDER[index] if index < len(PHASE_ORDER) else None
