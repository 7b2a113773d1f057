"""An exclusive advisory lock on a file, so read-modify-write never loses an update."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from perfinvest.core.errors import PerfError, environment_error
from perfinvest.store.atomic import ensure_dir


@contextmanager
def exclusive_lock(path: Path, *, timeout_s: float = 30.0, what: str = "state") -> Iterator[None]:
    """Hold ``flock(LOCK_EX)`` on ``path``; the kernel releases it if the holder dies."""
    ensure_dir(path.parent)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise environment_error(f"cannot open lock file {path}: {exc.strerror or exc}") from exc
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if not isinstance(exc, BlockingIOError):
                    raise environment_error(
                        f"cannot lock {path}: {exc.strerror or exc} (a filesystem without "
                        "flock support? point AI_STATE_DIR at a local disk)"
                    ) from exc
                if time.monotonic() >= deadline:
                    raise PerfError(
                        f"the {what} lock {path} is still held after {timeout_s:.0f} s by another "
                        "perfinvest process; wait for it to finish and retry",
                        kind="locked",
                    ) from None
                time.sleep(0.005)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
