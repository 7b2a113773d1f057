"""Repeat-mode spawners: glibc posix_spawn prepared once per run, or Popen."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
from typing import TYPE_CHECKING

from perfinvest.adapters import deathsig
from perfinvest.adapters.runner.launch import Prepared, popen, spawn_error

if TYPE_CHECKING:
    import ctypes


_POSIX_SPAWN_SETSIGDEF = 0x04
_POSIX_SPAWN_SETSIGMASK = 0x08
_POSIX_SPAWN_SETSID = 0x80
_OPAQUE_SIZE = 1024  # >= sizeof(posix_spawn_file_actions_t) (80) and posix_spawnattr_t (336)


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """glibc with ``posix_spawn_file_actions_addchdir_np`` (2.29+), loaded on first use.

    Without it a working directory would need a process-wide chdir; then Popen is used.
    """
    if sys.platform != "linux":
        return None
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return None
    except (ValueError, OSError):
        return None  # not glibc (musl has no such confstr): other flag values
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return None
    return libc if hasattr(libc, "posix_spawn_file_actions_addchdir_np") else None


class _LibcSpawner:
    """``posix_spawn(3)`` through ctypes, everything prepared once per run.

    Why: an iteration must cost no more than hyperfine's. ``subprocess.Popen`` spends ~0.1 ms
    more per spawn in Python (error pipe, fd closing, object set-up) -- 10 % of a ``true``
    iteration -- and ``os.posix_spawn`` cannot set the working directory, which experiments
    need (the baseline side runs in another worktree). glibc's posix_spawn is a
    ``clone(CLONE_VM | CLONE_VFORK)``: no page-table copy, whatever the parent's size.
    """

    def __init__(self, libc: ctypes.CDLL, prep: Prepared) -> None:
        import ctypes

        self._libc = libc
        self._path = os.fsencode(prep.executable)
        self._argv = self._strings([os.fsencode(arg) for arg in prep.argv])
        self._envp = self._strings([os.fsencode(f"{k}={v}") for k, v in prep.env.items()])
        self._actions = ctypes.create_string_buffer(_OPAQUE_SIZE)
        self._attr = ctypes.create_string_buffer(_OPAQUE_SIZE)
        self._sigdef = ctypes.create_string_buffer(128)  # sigset_t
        self._sigmask = ctypes.create_string_buffer(128)
        self._pid = ctypes.c_int()
        self._pid_ref = ctypes.byref(self._pid)  # made once: nothing allocated per spawn
        self._devnull = os.open(os.devnull, os.O_RDWR)  # close-on-exec; dup2 clears it on 0-2
        check = self._check
        check(libc.posix_spawn_file_actions_init(self._actions))
        check(libc.posix_spawnattr_init(self._attr))
        for fd in (0, 1, 2):
            check(libc.posix_spawn_file_actions_adddup2(self._actions, self._devnull, fd))
        check(libc.posix_spawn_file_actions_addchdir_np(self._actions, os.fsencode(prep.cwd)))
        # Like Popen(restore_signals=True): Python ignores SIGPIPE and SIGXFSZ, the child must not.
        libc.sigemptyset(self._sigdef)
        for sig in (signal.SIGPIPE, signal.SIGXFSZ):
            libc.sigaddset(self._sigdef, int(sig))
        libc.sigemptyset(self._sigmask)
        check(libc.posix_spawnattr_setsigdefault(self._attr, self._sigdef))
        check(libc.posix_spawnattr_setsigmask(self._attr, self._sigmask))
        flags = _POSIX_SPAWN_SETSIGDEF | _POSIX_SPAWN_SETSIGMASK | _POSIX_SPAWN_SETSID
        check(libc.posix_spawnattr_setflags(self._attr, ctypes.c_short(flags)))
        self._spawn = libc.posix_spawn
        self._prep = prep
        self._track = deathsig.sender()

    @staticmethod
    def _strings(items: list[bytes]) -> ctypes.Array[ctypes.c_char_p]:
        import ctypes

        return (ctypes.c_char_p * (len(items) + 1))(*items, None)

    @staticmethod
    def _check(rc: int) -> None:
        if rc != 0:
            raise OSError(rc, os.strerror(rc))

    def spawn(self) -> int:
        rc = self._spawn(
            self._pid_ref, self._path, self._actions, self._attr, self._argv, self._envp
        )
        if rc != 0:
            raise spawn_error(self._prep, OSError(rc, os.strerror(rc)))
        pid = int(self._pid.value)
        self._track(b"+%d\n" % pid)  # one write(2): the watchdog kills it if we die
        return pid

    def reaped(self, pid: int, code: int) -> None:
        """No Python object stands for the child: only the watchdog forgets it."""
        self._track(b"-%d\n" % pid)

    def close(self) -> None:
        self._libc.posix_spawn_file_actions_destroy(self._actions)
        self._libc.posix_spawnattr_destroy(self._attr)
        os.close(self._devnull)


class _PopenSpawner:
    """The portable path (and the cgroup path, which needs a ``preexec_fn``)."""

    def __init__(self, prep: Prepared) -> None:
        self._prep = prep
        self._live: dict[int, subprocess.Popen[bytes]] = {}

    def spawn(self) -> int:
        proc = popen(self._prep, subprocess.DEVNULL, subprocess.DEVNULL)
        # Kept until reaped: a collected running Popen would be reaped by subprocess itself.
        self._live[proc.pid] = proc
        return proc.pid

    def reaped(self, pid: int, code: int) -> None:
        deathsig.untrack(pid)  # popen tracked it
        proc = self._live.pop(pid, None)
        if proc is not None:
            proc.returncode = code

    def close(self) -> None:
        self._live.clear()


def make_spawner(prep: Prepared) -> _LibcSpawner | _PopenSpawner:
    libc = _libc()
    if libc is not None and not prep.cgroup_procs:
        return _LibcSpawner(libc, prep)
    return _PopenSpawner(prep)
