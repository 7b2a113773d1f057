"""What ``status`` adds beyond the investigation's state: live facts of the host."""

from __future__ import annotations

from perfinvest.app.context import AppContext


def live_notes(ctx: AppContext) -> list[str]:
    """Findings read fresh at each ``status`` (never cached): a dead holder's live benchmark."""
    from perfinvest.adapters.orphan_status import orphaned_benchmark

    notes = []
    orphaned = orphaned_benchmark()
    if orphaned is not None:
        notes.append(orphaned)
    return notes
