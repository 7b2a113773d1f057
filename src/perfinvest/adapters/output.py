"""Writing a file the user named (``-o``): whole or not at all, one-line errors (exit 7)."""

from __future__ import annotations

from pathlib import Path

from perfinvest.core.errors import PerfError, environment_error


def write_output(path: Path, data: bytes) -> None:
    """Atomic (temp file, fsync, rename: store/atomic.py); a reader never sees half a file."""
    from perfinvest.store.atomic import atomic_write_bytes

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


def ensure_output_dir(directory: Path) -> Path:
    """``-o DIR`` for files: created if missing; a file in its place or no permission: exit 7."""
    if directory.exists() and not directory.is_dir():
        raise environment_error(f"cannot write into {directory}: it is a file, not a folder")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise environment_error(f"cannot create {directory}: {exc.strerror or exc}") from None
    return directory
