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

#: The CLI command that starts each phase (``perfinvest <command>``).
PHASE_COMMANDS: dict[Phase, str] = {
    Phase.SETUP: "start",
    Phase.BASELINE: "baseline",
    Phase.BREAKING_POINT: "breaking-point",
    Phase.CONSTRAINTS: "constraints",
    Phase.HYPOTHESES: "hypotheses gather",
    Phase.CODE_PATHS: "code-paths",
    Phase.PROFILING: "profile",
    Phase.OPTIMIZATION: "experiment start",
    Phase.DECISION: "decide",
    Phase.CONSOLIDATION: "consolidate",
}


def previous_phases(phase: Phase) -> tuple[Phase, ...]:
    return PHASE_ORDER[: PHASE_ORDER.index(phase)]
