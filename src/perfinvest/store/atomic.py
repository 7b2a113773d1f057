"""Crash-safe writes: a reader sees the old file or the new one, never a torn one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from perfinvest.core.errors import environment_error


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_dir(directory: Path) -> Path:
    """Create ``directory`` (and parents); a permission problem becomes a clear error."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise environment_error(
            f"cannot create state folder {directory}: {exc.strerror or exc}; "
            "make it writable or point AI_STATE_DIR elsewhere"
        ) from exc
    return directory


def _file_mode(path: Path) -> int:
    """Keep an existing file's mode; a new file gets 0666 less the umask, like ``open()``."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process umask, read without changing it (os.umask would race other threads)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temp file in the same folder, fsync it, rename over ``path``, fsync the folder."""
    ensure_dir(path.parent)
    tmp_name: str | None = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.fchmod(fd, _file_mode(path))
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp_name).replace(path)
        tmp_name = None
        _fsync_dir(path.parent)
    except OSError as exc:
        raise environment_error(
            f"cannot write {path}: {exc.strerror or exc}; make the state folder writable "
            "or point AI_STATE_DIR elsewhere"
        ) from exc
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                Path(tmp_name).unlink()


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def append_text(path: Path, text: str) -> None:
    """Append to an append-only file (the reviewer's log) and fsync it."""
    ensure_dir(path.parent)
    try:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise environment_error(f"cannot append to {path}: {exc.strerror or exc}") from exc
