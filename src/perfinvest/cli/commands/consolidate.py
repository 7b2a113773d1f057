"""Phase 10: consolidation."""

from __future__ import annotations

from typing import Any

from perfinvest.cli.group import cli
from perfinvest.cli.options import (
    command_runner,
    context,
    phase_options,
    request,
)


@cli.command()
@phase_options
@command_runner("consolidate")
def consolidate(
    quote: str | None, skip_reason: str | None, no_checkpoint: bool, as_json: bool
) -> Any:
    """Phase 10: one baseline per version; marks the investigation complete."""
    from perfinvest.app.phases import consolidation as phases

    return phases.consolidate(context(no_checkpoint), request(quote, skip_reason))
