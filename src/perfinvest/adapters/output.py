"""Writing a file the user named (``-o``): whole or not at all, one-line errors (exit 7)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from perfinvest.core.errors import PerfError, environment_error

if TYPE_CHECKING:
    from perfinvest.store.paths import StatePaths


def write_output(
    path: Path, data: bytes, *, guard: StatePaths | None = None, force: bool = False
) -> Path | None:
    """Atomic (temp file, fsync, rename: store/atomic.py); a reader never sees half a file.

    ``guard``: the state paths of the output guard (store/outputs.py): refuses a path
    inside the state folder and an existing file perfinvest did not write unless ``force``
    (exit 2); returns the backup kept of a forced-over file."""
    from perfinvest.store.atomic import atomic_write_bytes
    from perfinvest.store.outputs import guard_output, record_output

    backup: Path | None = None
    if guard is not None:
        backup = guard_output(guard, path, force=force, create_parents=True).backup
    if path.is_dir():
        raise environment_error(f"cannot write {path}: it is a directory; name a file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise environment_error(
            f"cannot write {path}: cannot create {path.parent}: {exc.strerror or exc}"
        ) from None
    try:
        atomic_write_bytes(path, data)
    except PerfError as exc:
        cause = exc.__cause__
        reason = getattr(cause, "strerror", None) or cause or exc.message
        raise environment_error(f"cannot write {path}: {reason}") from None
    if guard is not None:
        record_output(guard, path, data)
    return backup


def ensure_output_dir(directory: Path) -> Path:
    """``-o DIR`` for files: created if missing; a file in its place or no permission: exit 7."""
    if directory.exists() and not directory.is_dir():
        raise environment_error(f"cannot write into {directory}: it is a file, not a folder")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise environment_error(f"cannot create {directory}: {exc.strerror or exc}") from None
    return directory
