"""perfinvest's temporary folders: named after their process, so a SIGKILLed one's are found.

``perfinvest-<kind>-<pid>-<random>`` in ``$TMPDIR``. :func:`stale_temp_folders` lists those
whose process is gone (and, in the older ``perfinvest-<kind>-<random>`` form, those untouched
for a day); ``perfinvest recover`` removes them.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

#: The kinds of temporary folders perfinvest makes (a killed process leaves them).
KINDS = ("index", "run", "merge", "tree")
_NAME = re.compile(r"perfinvest-(" + "|".join(KINDS) + r")-(?:(\d+)-)?[A-Za-z0-9_]+")
#: An old-format folder (no pid in its name) untouched this long is abandoned.
OLD_FORMAT_AGE_S = 86400.0


def temp_dir(kind: str) -> tempfile.TemporaryDirectory[str]:
    """A ``TemporaryDirectory`` named ``perfinvest-<kind>-<pid>-...``."""
    return tempfile.TemporaryDirectory(prefix=f"perfinvest-{kind}-{os.getpid()}-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_temp_folders(root: Path | None = None, now: float | None = None) -> list[Path]:
    """This user's perfinvest temporary folders whose process is gone."""
    folder = Path(root or tempfile.gettempdir())
    now = time.time() if now is None else now
    uid = os.getuid()
    found = []
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    for entry in entries:
        match = _NAME.fullmatch(entry.name)
        if match is None:
            continue
        try:
            info = entry.lstat()
        except OSError:
            continue
        if not entry.is_dir() or entry.is_symlink() or info.st_uid != uid:
            continue
        pid = match.group(2)
        if pid is not None:
            if int(pid) != os.getpid() and not _alive(int(pid)):
                found.append(entry)
        elif now - info.st_mtime > OLD_FORMAT_AGE_S:
            found.append(entry)
    return found


def remove_stale_temp_folders(root: Path | None = None) -> list[str]:
    """Remove :func:`stale_temp_folders`; one line per folder removed."""
    done = []
    for entry in stale_temp_folders(root):
        with contextlib.suppress(OSError):
            shutil.rmtree(entry)
            done.append(f"removed {entry}, left by a killed perfinvest")
    return done
