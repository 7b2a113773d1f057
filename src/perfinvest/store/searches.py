"""``artifacts/<id>/breaking-point-<time>.json``: every breaking-point search, kept.

One writer and one reader, so the phase that searches, the report that draws the earlier
searches and the exports that label them superseded agree on the files' names and order.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from perfinvest.core.models import BreakingPointResult
from perfinvest.store.atomic import atomic_write_text

#: Every search's file name; the stamp sorts in the order the searches were made.
PATTERN = "breaking-point-*.json"


def keep_search(folder: Path, result: BreakingPointResult, at: datetime) -> Path:
    """Write ``result`` as ``breaking-point-<at, to the µs>.json``, atomically.

    Every search stays (a later one supersedes, never deletes, it): a name already taken
    (a clock that did not move) moves the stamp on by 1 µs, so names stay unique and sort
    in the order the searches were made."""
    folder.mkdir(parents=True, exist_ok=True)
    while (path := folder / f"breaking-point-{at:%Y%m%dT%H%M%S%f}.json").exists():
        at += timedelta(microseconds=1)
    atomic_write_text(path, result.model_dump_json(indent=2) + "\n")
    return path


def read_searches(
    folder: Path,
) -> tuple[list[tuple[Path, BreakingPointResult]], list[tuple[Path, Exception]]]:
    """Every kept search, oldest first, and the files that could not be read (each with
    its error; left as they are)."""
    found: list[tuple[Path, BreakingPointResult]] = []
    unreadable: list[tuple[Path, Exception]] = []
    for path in sorted(folder.glob(PATTERN)) if folder.is_dir() else []:
        try:
            found.append(
                (path, BreakingPointResult.model_validate_json(path.read_text(encoding="utf-8")))
            )
        except (OSError, ValueError) as exc:
            unreadable.append((path, exc))
    return found, unreadable
