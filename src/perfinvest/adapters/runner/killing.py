"""Killing trees: SIGTERM then SIGKILL after a grace; survivors of an exited command."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Sequence

from perfinvest.adapters.sampler import ProcId, is_alive, send_signal, session_members

#: After SIGTERM, how long a tree gets to exit before SIGKILL.
KILL_GRACE_S = 2.0


def killpg(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def terminate(pgid: int, extras: Sequence[ProcId], leader_gone: Callable[[], bool]) -> None:
    """SIGTERM the group, its session and ``extras``; SIGKILL what is left after the grace."""
    killpg(pgid, signal.SIGTERM)
    targets = {proc for proc in [*session_members(pgid), *extras] if proc.pid != pgid}
    for proc in targets:
        send_signal(proc, signal.SIGTERM)
    deadline = time.monotonic() + KILL_GRACE_S
    while time.monotonic() < deadline:
        targets = {proc for proc in targets if is_alive(proc)}
        if leader_gone() and not targets:
            return
        time.sleep(0.02)
    killpg(pgid, signal.SIGKILL)
    for proc in targets:
        send_signal(proc, signal.SIGKILL)


def kill_survivors(leader: int | None, extras: Sequence[ProcId]) -> int:
    """After the command exited: kill what it left running (its session, ``extras``); count.

    ``leader`` is the exited command's pid, which is also its session and group id.
    """
    seen: set[ProcId] = set()
    for _ in range(3):  # a survivor may fork while dying: look again
        members = session_members(leader) if leader is not None else []
        found = {
            proc
            for proc in [*members, *extras]
            if proc.pid != leader and proc not in seen and is_alive(proc)
        }
        if not found:
            break
        seen |= found
        for proc in found:
            send_signal(proc, signal.SIGTERM)
        deadline = time.monotonic() + KILL_GRACE_S
        while found and time.monotonic() < deadline:
            time.sleep(0.02)
            found = {proc for proc in found if is_alive(proc)}
        for proc in found:
            send_signal(proc, signal.SIGKILL)
        extras = ()
    return len(seen)
