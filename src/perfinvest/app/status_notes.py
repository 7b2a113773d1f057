"""What ``status`` adds beyond the investigation's state: live facts of the host and of the
investigation's folders (read fresh at each ``status``, never cached)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from perfinvest.app.context import AppContext

#: The newest load runs ``status`` shows.
LOAD_RUNS_SHOWN = 5


def live_notes(ctx: AppContext) -> list[str]:
    """Findings read fresh at each ``status`` (never cached): a dead holder's live benchmark."""
    from perfinvest.adapters.orphan_status import orphaned_benchmark

    notes = []
    orphaned = orphaned_benchmark()
    if orphaned is not None:
        notes.append(orphaned)
    return notes


def load_runs(ctx: AppContext, inv_id: str | None) -> list[dict[str, Any]]:
    """The investigation's newest ``load run``s, newest first: profile, when it ran, its
    verdict (PASS, FAIL or interrupted) and its folder; a folder whose result.json is not
    readable says so (its verdict ``unreadable``)."""
    if not inv_id:
        return []
    root = ctx.paths.artifacts(inv_id)
    try:
        found = [p for p in root.glob("load-*/result.json") if p.is_file()]
    except OSError:
        return []
    found.sort(key=_mtime, reverse=True)
    return [_row(ctx, path) for path in found[:LOAD_RUNS_SHOWN]]


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _row(ctx: AppContext, path: Path) -> dict[str, Any]:
    row: dict[str, Any] = {
        "profile": None,
        "at": None,
        "verdict": "unreadable",
        "folder": ctx.paths.relative(path.parent),
    }
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        run = document["run"]
        row["profile"] = str(document["profile"])
        at = datetime.fromisoformat(str(run.get("ended_at") or run["started_at"]))
        row["at"] = f"{at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return row
    if document.get("interrupted"):
        row["verdict"] = "interrupted"
    elif document.get("passed") is True:
        row["verdict"] = "PASS"
    elif document.get("passed") is False:
        row["verdict"] = "FAIL"
    return row


def load_run_line(row: dict[str, Any]) -> str:
    """One run as ``status`` shows it."""
    return f"load run {row['profile']} at {row['at']}: {row['verdict']} ({row['folder']})"
