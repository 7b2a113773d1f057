"""For ``status``: is a dead holder's benchmark still running? (Reads only, takes no lock.)"""

from __future__ import annotations

import os
from pathlib import Path

from perfinvest.adapters.hostlock import HolderInfo, lock_path
from perfinvest.adapters.processes import find_marked, pid_alive


def _group_alive(pgid: int | None) -> bool:
    if not pgid:
        return False
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def orphaned_benchmark(path: Path | None = None) -> str | None:
    """A sentence when the lock's holder is dead but processes of its benchmark live on."""
    path = path or lock_path()
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    holder = HolderInfo.from_json(text) if text.strip() else None
    if holder is None or pid_alive(holder.pid):
        return None
    marked = find_marked(holder.run_token) if holder.run_token else []
    pids = sorted({o.proc.pid for o in marked})
    if not pids and not _group_alive(holder.benchmark_pgid):
        return None
    shown = ", ".join(map(str, pids[:5])) + (" ..." if len(pids) > 5 else "")
    who = f"pid(s) {shown}" if pids else f"process group {holder.benchmark_pgid}"
    return (
        f"the benchmark of a dead holder of the benchmark lock, {holder.describe()}, is still "
        f"running ({who}); stop it with `perfinvest recover` (or kill it) before measuring"
    )
