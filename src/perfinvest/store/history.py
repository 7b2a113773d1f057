"""The baselines history: every baseline kept, current and archived, oldest first.

``baselines/<version>.json`` is each version's current baseline; a baseline it replaced
is kept as ``baselines/archive/<version>.<UTC stamp>.json`` (nothing is deleted). Together
they are the results a history threshold learns the machine's noise from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from perfinvest.core.errors import PerfError
from perfinvest.core.models import Baseline
from perfinvest.store.documents import read_document
from perfinvest.store.paths import StatePaths


@dataclass(frozen=True)
class Kept:
    """One baseline file of the history."""

    path: Path
    relative: str  # to perf/
    baseline: Baseline
    archived: bool


@dataclass(frozen=True)
class History:
    entries: list[Kept]  # oldest first by the time each was measured
    unreadable: list[str]  # one line per file skipped (named, never modified)


def read_history(paths: StatePaths) -> History:
    """Every readable baseline, current and archived, ordered by ``created_at``."""
    entries: list[Kept] = []
    unreadable: list[str] = []
    folders = ((paths.baselines_dir, False), (paths.baseline_archive_dir, True))
    for folder, archived in folders:
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            if path.name.startswith("."):
                continue
            try:
                document = read_document(path, Baseline)
            except PerfError as error:
                unreadable.append(error.message)
                continue
            entries.append(Kept(path, paths.relative(path), document, archived))
    entries.sort(key=lambda kept: (kept.baseline.created_at, kept.relative))
    return History(entries, unreadable)
