"""Children die with perfinvest: ``PR_SET_PDEATHSIG`` and a watchdog process.

A benchmark or a load generator runs in its own session (so a Ctrl-C in the terminal reaches
perfinvest, which stops it cleanly). A perfinvest killed with SIGKILL cannot stop it, and
the child, reparented to PID 1, would run on, loading the target or the host. Two guards:

* :func:`preexec`: a ``preexec_fn`` that asks the kernel to SIGKILL the child when the thread
  that forked it exits (``prctl(PR_SET_PDEATHSIG)``), and exits at once when perfinvest died
  between the fork and the ``prctl``. It kills the direct child only, and needs a fork
  (glibc ``posix_spawn`` cannot run code in the child).
* :func:`guard` / :func:`track`: one small watchdog process per perfinvest process, in its
  own session, reading a pipe only perfinvest holds. When perfinvest dies the pipe reaches
  EOF and the watchdog SIGKILLs every process group still registered: the child *and* what
  it forked in its group (Locust's worker processes). Registering is one ``write(2)`` of a
  few bytes, cheap enough for each iteration of repeat mode.

Daemons that leave their group (``setsid`` double-forks) are out of reach of both: the
lock's run token handles those (``hostlock``).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator

PR_SET_PDEATHSIG = 1

#: The watchdog: "+pgid" registers a group, "-pgid" forgets it; at EOF, SIGKILL the rest.
_WATCHDOG = """
import os, signal, sys
live = set()
buf = b""
while True:
    try:
        chunk = os.read(0, 4096)
    except InterruptedError:
        continue
    if not chunk:
        break
    buf += chunk
    *lines, buf = buf.split(b"\\n")
    for line in lines:
        if line[:1] == b"+":
            live.add(int(line[1:]))
        elif line[:1] == b"-":
            live.discard(int(line[1:]))
for pgid in live:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
"""


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


_LIBC = _libc() if sys.platform.startswith("linux") else None


def preexec(then: Callable[[], None] | None = None) -> Callable[[], None]:
    """A ``preexec_fn``: die (SIGKILL) with the forking thread, then run ``then``."""
    parent = os.getpid()
    prctl = _LIBC.prctl if _LIBC is not None else None

    def child() -> None:
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
            if os.getppid() != parent:  # perfinvest died before the prctl took effect
                os._exit(137)
        if then is not None:
            then()

    return child


class _Watchdog:
    def __init__(self) -> None:
        read, self._write = os.pipe()  # both close-on-exec: no child inherits the write end
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-S", "-c", _WATCHDOG],
                stdin=read,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # survives a kill of perfinvest's group, to clean up
                close_fds=True,
            )
        finally:
            os.close(read)
        self.pid = self._proc.pid

    def exited(self) -> bool:
        """It is gone (and now reaped): the caller starts a new one."""
        return self._proc.poll() is not None

    def send(self, line: bytes) -> None:
        with contextlib.suppress(OSError):
            os.write(self._write, line)


_lock = threading.Lock()
_watchdog: _Watchdog | None = None
_owner = 0  # the pid that started it: a forked child must not share it


def _get() -> _Watchdog | None:
    global _watchdog, _owner
    with _lock:
        # a watchdog that died (killed with a run's cgroup, say) is reaped and replaced
        if _watchdog is None or _owner != os.getpid() or _watchdog.exited():
            try:
                _watchdog, _owner = _Watchdog(), os.getpid()
            except OSError:
                return None
        return _watchdog


def ensure_started() -> None:
    """Start the watchdog now, before the caller joins a run's cgroup: it must outlive runs."""
    _get()


def sender() -> Callable[[bytes], None]:
    """The watchdog's raw ``+pgid\\n`` / ``-pgid\\n`` writer, bound once for a hot loop."""
    watchdog = _get()
    return watchdog.send if watchdog is not None else _drop


def _drop(line: bytes) -> None:
    """No watchdog could start: nothing to tell."""


def track(pgid: int) -> None:
    """Register a process group the watchdog kills if perfinvest dies."""
    watchdog = _get()
    if watchdog is not None:
        watchdog.send(b"+%d\n" % pgid)


def untrack(pgid: int) -> None:
    """Forget a group once its leader is reaped (its id may be reused)."""
    watchdog = _watchdog if _owner == os.getpid() else None
    if watchdog is not None:
        watchdog.send(b"-%d\n" % pgid)


@contextlib.contextmanager
def guard(pgid: int) -> Iterator[None]:
    """The group is SIGKILLed by the watchdog if perfinvest dies inside the block."""
    track(pgid)
    try:
        yield
    finally:
        untrack(pgid)


def watchdog_pid() -> int | None:
    """The watchdog's pid in this process, if started (for tests and diagnostics)."""
    return _watchdog.pid if _watchdog is not None and _owner == os.getpid() else None
