"""Phase 10: consolidation."""

from __future__ import annotations

from typing import Any

from perfinvest.cli.group import cli
from perfinvest.cli.options import (
    PhaseInput,
    phase_command,
)


@cli.command()
@phase_command("consolidate")
def consolidate(phase: PhaseInput, as_json: bool) -> Any:
    """Phase 10: one baseline per version; marks the investigation complete."""
    from perfinvest.app.phases import consolidation as phases

    return phases.consolidate(phase.context(), phase.request())
