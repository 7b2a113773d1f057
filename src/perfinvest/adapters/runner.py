"""Running a benchmark command and measuring it, in duration mode or hyperfine-style repeat mode.

Policy (minimum durations, short-run compliance) lives in the app layer: this module takes the
numbers it is handed and reports what happened. Failures of the *command* (non-zero exit, too
short, timed out, interrupted) come back as an invalid :class:`RunOutcome` so the caller can
record them; failures to *start* it (not found, not executable) raise :class:`PerfError`.

Both modes start the command in a new session (its own process group), so a timeout or a stop
kills the whole tree: SIGTERM to the group and to every descendant seen while it ran (also
those that left the group), SIGKILL to what is left after a short grace. Processes still
running once the command has exited are killed and counted (``survivors_killed``).

Duration mode: one process, its stdout/stderr pumped by one thread into capped files plus
in-memory tail rings (memory stays bounded whatever the command prints), its tree sampled
by :class:`ResourceSampler`. With ``artifact_dir`` the files are ``stdout.log`` and
``stderr.log``: the first ``capture_limit_bytes``, then (when more came) a
``[perfinvest: N bytes omitted]`` line and the last ``tail_bytes``.

Repeat mode (hyperfine ``-N`` style): each iteration is spawned directly, without a shell,
output to ``/dev/null``, reaped with ``wait4`` for user/sys time and max RSS; wall time is
``perf_counter`` from before the spawn to the child's exit (seen with ``waitid(WNOWAIT)``,
before the reap). Spawning is glibc's ``posix_spawn`` prepared once per run (see
:class:`_LibcSpawner`); with ``preexec_cgroup_procs`` (which needs code in the child before
exec) or without glibc, ``subprocess.Popen`` (slower per iteration). The first warmup
iteration is the exception: it runs like duration mode, output captured, so the outcome shows
what the command prints and why it fails, without capture costing anything in the timed
iterations; with ``warmup=0`` nothing is captured. ``resources`` is None: each iteration's
rusage carries its CPU time and max RSS (see ``RunOutcome.rss_floor_bytes``). The timeout
covers the whole run, warmup included. Timeouts and stops are handled by one watchdog thread
per run, never per iteration. Descendants that leave an iteration's process group are not
followed (checking costs a full process-table scan per iteration).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import selectors
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

from perfinvest.adapters.sampler import (
    ProcessTree,
    ProcId,
    ResourceSampler,
    ResourceSummary,
    is_alive,
    send_signal,
    session_members,
)
from perfinvest.core.errors import PerfError, benchmark_failed, environment_error, usage_error

if TYPE_CHECKING:
    import ctypes

Mode = Literal["duration", "repeat"]
ProgressCallback = Callable[[float, int], None]

STDOUT_NAME = "stdout.log"
STDERR_NAME = "stderr.log"
#: After SIGTERM, how long a tree gets to exit before SIGKILL.
KILL_GRACE_S = 2.0
_PROGRESS_INTERVAL_S = 0.1  # on_progress at most ~10 times per second
_POLL_S = 0.1  # how often the duration-mode loop looks at stop / timeout / progress
_TREE_REFRESH_S = 0.5  # descendant tracking when resource sampling is off
_DRAIN_GRACE_S = 1.0  # after exit, how long output may take to reach end-of-file
_READ_CHUNK = 1 << 16
_CAPTURED_TEXT_LIMIT = 64 * 2**20


@dataclass(frozen=True)
class RunSpec:
    """How to run a benchmark command; see the module docstring for the two modes."""

    argv: Sequence[str]  # with shell=True: argv[0] is run by /bin/sh -c (the rest: $0, $1...)
    shell: bool = False
    cwd: Path = Path()
    env: Mapping[str, str] = field(default_factory=dict)  # on top of os.environ
    mode: Mode = "duration"
    duration_s: float = 60.0  # duration: expected length; repeat: time to fill
    min_duration_s: float = 0.0  # duration mode: exiting sooner makes the run invalid
    timeout_s: float | None = None  # default max(3 * duration_s, duration_s + 30); whole run
    warmup: int = 1  # repeat mode: discarded iterations
    min_iterations: int = 3  # repeat mode
    max_iterations: int | None = None  # repeat mode
    artifact_dir: Path | None = None  # stdout.log / stderr.log here, else only in-memory tails
    capture_limit_bytes: int = 16 * 2**20  # per stream on disk; past it only the tail is kept
    tail_bytes: int = 64 * 1024
    sample_hz: float = 10.0  # resource sampling (duration mode); 0 disables
    preexec_cgroup_procs: Sequence[Path] = ()  # cgroup.procs files the child joins before exec

    def __post_init__(self) -> None:
        if isinstance(self.argv, str):
            raise usage_error(
                "the benchmark command must be a list of arguments; "
                "for a command line, pass it as the only item with shell=True"
            )
        if not self.argv or not all(isinstance(arg, str) for arg in self.argv):
            raise usage_error("the benchmark command is empty: give the command to run")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in self.env.items()):
            raise usage_error("benchmark environment variables must be strings")
        if self.mode not in ("duration", "repeat"):
            raise usage_error(f"unknown run mode {self.mode!r}: use duration or repeat")
        checks = (
            (self.duration_s > 0, "duration_s must be positive"),
            (self.min_duration_s >= 0, "min_duration_s must not be negative"),
            (self.timeout_s is None or self.timeout_s > 0, "timeout_s must be positive"),
            (self.warmup >= 0, "warmup must not be negative"),
            (self.min_iterations >= 1, "min_iterations must be at least 1"),
            (
                self.max_iterations is None or self.max_iterations >= self.min_iterations,
                "max_iterations must be at least min_iterations",
            ),
            (self.capture_limit_bytes >= 0, "capture_limit_bytes must not be negative"),
            (self.tail_bytes >= 0, "tail_bytes must not be negative"),
            (self.sample_hz >= 0, "sample_hz must not be negative"),
        )
        for ok, message in checks:
            if not ok:
                raise usage_error(message)

    @property
    def effective_timeout_s(self) -> float:
        if self.timeout_s is not None:
            return self.timeout_s
        return max(3 * self.duration_s, self.duration_s + 30)


@dataclass(frozen=True)
class Iteration:
    """One timed repeat-mode iteration; user/sys/max RSS from ``wait4``."""

    wall_s: float
    user_s: float
    sys_s: float
    max_rss_bytes: int
    exit_code: int


@dataclass(frozen=True)
class RunOutcome:
    """What happened. ``valid`` is False with a one-line ``invalid_reason`` when it failed."""

    started_at: datetime  # UTC
    ended_at: datetime
    wall_s: float
    exit_code: int | None  # negative: killed by that signal; None: no iteration finished
    timed_out: bool
    interrupted: bool
    valid: bool
    invalid_reason: str | None
    stdout_path: Path | None
    stderr_path: Path | None
    stdout_tail: str
    stderr_tail: str
    stdout_bytes: int
    stderr_bytes: int
    stdout_truncated: bool  # the kept text misses part of the output
    stderr_truncated: bool
    iterations: tuple[Iteration, ...]  # repeat mode, after warmup
    warmup_iterations: int
    resources: ResourceSummary | None
    survivors_killed: int
    #: Repeat mode: iteration ``max_rss_bytes`` at or below this say only "no more than this".
    #: Linux's exec folds the spawning process's peak RSS into the child's ``ru_maxrss``, so
    #: every iteration reports at least perfinvest's own peak (hyperfine and GNU time have
    #: the same floor, at their smaller size). The peak is reset first to keep it low.
    rss_floor_bytes: int | None = None


# --- starting a command -------------------------------------------------------------------


@dataclass(frozen=True)
class _Prepared:
    """A spec resolved once: absolute executable, argv, cwd, environment."""

    name: str  # how the user wrote the command, for messages
    executable: str
    argv: list[str]
    cwd: str
    env: dict[str, str]
    cgroup_procs: tuple[str, ...]


def _prepare(spec: RunSpec) -> _Prepared:
    cwd = spec.cwd.absolute()
    if not cwd.is_dir():
        raise benchmark_failed(
            f"cannot run the benchmark: working directory {cwd} does not exist; "
            "check the benchmark's cwd"
        )
    env = {**os.environ, **spec.env}
    if spec.shell:
        argv = ["/bin/sh", "-c", *spec.argv]
        name = spec.argv[0]
    else:
        argv = list(spec.argv)
        name = argv[0]
    executable = _resolve_executable(argv[0], cwd, env.get("PATH", os.defpath))
    procs = tuple(str(path) for path in spec.preexec_cgroup_procs)
    for procs_file in procs:
        if not os.access(procs_file, os.W_OK):
            raise environment_error(
                f"cannot join the cgroup: {procs_file} is missing or not writable; "
                "check the constraint set-up (and that perfinvest may write to cgroupfs)"
            )
    return _Prepared(name, executable, argv, str(cwd), env, procs)


def _resolve_executable(command: str, cwd: Path, search_path: str) -> str:
    """The absolute program path, like ``execvp`` would find it, or a clear PerfError."""
    if "/" in command:
        found = cwd / command  # an absolute command replaces cwd
        if not found.exists():
            raise benchmark_failed(
                f"command not found: {command} (no such file from {cwd}); "
                "check the benchmark command"
            )
    else:
        which = shutil.which(command, path=search_path)
        if which is None:
            raise benchmark_failed(
                f"command not found: {command} is not on PATH; install it or give its full path"
            )
        found = Path(which)
    if found.is_dir():
        raise benchmark_failed(f"cannot execute {command}: it is a directory")
    if not os.access(found, os.X_OK):
        raise benchmark_failed(
            f"cannot execute {command}: it is not executable; make it executable "
            f"(chmod +x {command}) or run it through its interpreter"
        )
    return str(found.absolute())


def _spawn_error(prep: _Prepared, exc: OSError) -> PerfError:
    if exc.errno == errno.ENOENT:
        return benchmark_failed(f"command not found: {prep.name}; install it or give its full path")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return benchmark_failed(
            f"cannot execute {prep.name}: permission denied; make it executable or run it "
            "through its interpreter"
        )
    if exc.errno == errno.ENOEXEC:
        return benchmark_failed(
            f"cannot execute {prep.name}: not a program, nor a script starting with #!; "
            "run it through its interpreter"
        )
    return benchmark_failed(f"cannot start {prep.name}: {exc.strerror or exc}")


def _cgroup_error(prep: _Prepared) -> PerfError:
    return environment_error(
        f"the benchmark could not join its cgroup ({', '.join(prep.cgroup_procs)}) before "
        "starting; check the constraint set-up"
    )


def _joiner(procs_files: tuple[str, ...]) -> Callable[[], None] | None:
    """A ``preexec_fn`` writing the child's own pid to each cgroup.procs file, before exec.

    Only when needed: any ``preexec_fn`` makes CPython fork instead of vfork.
    """
    if not procs_files:
        return None
    encoded = tuple(os.fsencode(path) for path in procs_files)

    def join() -> None:
        pid = str(os.getpid()).encode()
        for path in encoded:
            fd = os.open(path, os.O_WRONLY)
            try:
                os.write(fd, pid)
            finally:
                os.close(fd)

    return join


def _popen(
    prep: _Prepared, stdout: int, stderr: int, *, close_fds: bool = True
) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            prep.argv,
            executable=prep.executable,
            cwd=prep.cwd,
            env=prep.env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
            preexec_fn=_joiner(prep.cgroup_procs),  # noqa: PLW1509 - cgroup join only
            close_fds=close_fds,
            bufsize=0,
        )
    except OSError as exc:
        raise _spawn_error(prep, exc) from None
    except subprocess.SubprocessError:  # the preexec_fn failed in the child
        raise _cgroup_error(prep) from None


# --- output capture ------------------------------------------------------------------------


class _Sink:
    """One stream: its first ``limit`` bytes to a file (if any), its last ``tail`` in memory.

    When the file was capped, closing appends the tail after a marker line (or just the
    missing end when the tail overlaps the head), so the file alone is what a reviewer or a
    metric parser needs, bounded by ``limit + tail`` bytes.
    """

    def __init__(self, path: Path | None, limit: int, tail: int) -> None:
        self.path = path
        self._file: IO[bytes] | None = path.open("wb") if path is not None else None
        self._limit = limit
        self._tail_max = tail
        self._tail = bytearray()
        self.total = 0
        self._written = 0

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        if self._file is not None and self._written < self._limit:
            part = data[: self._limit - self._written]
            self._file.write(part)
            self._written += len(part)
        if self._tail_max:
            self._tail += data[-self._tail_max :]
            excess = len(self._tail) - self._tail_max
            if excess > 0:
                del self._tail[:excess]

    @property
    def truncated(self) -> bool:
        kept = self._written + len(self._tail) if self.path is not None else len(self._tail)
        return self.total > kept

    def tail_text(self) -> str:
        data = bytes(self._tail)
        if self.total > len(data):  # cut mid-stream: drop a partial UTF-8 sequence at the start
            skip = 0
            while skip < min(3, len(data)) and data[skip] & 0xC0 == 0x80:
                skip += 1
            data = data[skip:]
        return data.decode("utf-8", "replace")

    def close(self) -> None:
        if self._file is None:
            return
        missing = self.total - self._written
        if missing > 0 and self._tail:
            if missing > len(self._tail):
                gap = missing - len(self._tail)
                self._file.write(f"\n[perfinvest: {gap} bytes omitted]\n".encode())
                self._file.write(self._tail)
            else:
                self._file.write(self._tail[len(self._tail) - missing :])
        self._file.close()
        self._file = None


class _Pump(threading.Thread):
    """One thread reading both pipes into their sinks until end-of-file (or abandoned)."""

    def __init__(self, streams: list[tuple[IO[bytes], _Sink]]) -> None:
        super().__init__(name="perfinvest-output", daemon=True)
        self._streams = streams
        self._abandon = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with selectors.DefaultSelector() as selector:
                for stream, sink in self._streams:
                    selector.register(stream.fileno(), selectors.EVENT_READ, sink)
                while selector.get_map() and not self._abandon.is_set():
                    for key, _ in selector.select(0.2):
                        data = os.read(key.fd, _READ_CHUNK)
                        if data:
                            key.data.feed(data)
                        else:
                            selector.unregister(key.fd)
        except BaseException as exc:  # reported by the runner, never lost in a thread
            self.error = exc

    def finish(self, timeout: float | None) -> bool:
        """Wait for end-of-file on both streams; False when something still holds them."""
        self.join(timeout)
        return not self.is_alive()

    def abandon(self) -> None:
        self._abandon.set()
        self.join()


def _sinks(spec: RunSpec) -> tuple[_Sink, _Sink]:
    out_path = err_path = None
    if spec.artifact_dir is not None:
        try:
            spec.artifact_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise environment_error(
                f"cannot create the artifact folder {spec.artifact_dir}: {exc.strerror or exc}"
            ) from exc
        out_path = spec.artifact_dir / STDOUT_NAME
        err_path = spec.artifact_dir / STDERR_NAME
    limit, tail = spec.capture_limit_bytes, spec.tail_bytes
    return _Sink(out_path, limit, tail), _Sink(err_path, limit, tail)


def _pipe_ids(streams: Sequence[IO[bytes]]) -> set[str]:
    return {f"pipe:[{os.fstat(stream.fileno()).st_ino}]" for stream in streams}


def _pipe_holders(pipes: set[str]) -> list[ProcId]:
    """Processes holding one of our pipes open: descendants that escaped the tree (Linux)."""
    holders: list[ProcId] = []
    me = os.getpid()
    proc = Path("/proc")
    try:
        pids = [int(entry.name) for entry in proc.iterdir() if entry.name.isdigit()]
    except OSError:
        return holders
    for pid in pids:
        if pid == me:
            continue
        try:
            fds = (proc / str(pid) / "fd").iterdir()
            if any(str(fd.readlink()) in pipes for fd in fds):
                data = (proc / str(pid) / "stat").read_bytes()
                start = int(data[data.rfind(b")") + 2 :].split()[19])
                holders.append(ProcId(pid, float(start)))
        except (OSError, ValueError, IndexError):
            continue
    return holders


# --- killing trees -------------------------------------------------------------------------


def _killpg(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _terminate(pgid: int, extras: Sequence[ProcId], leader_gone: Callable[[], bool]) -> None:
    """SIGTERM the group, its session and ``extras``; SIGKILL what is left after the grace."""
    _killpg(pgid, signal.SIGTERM)
    targets = {proc for proc in [*session_members(pgid), *extras] if proc.pid != pgid}
    for proc in targets:
        send_signal(proc, signal.SIGTERM)
    deadline = time.monotonic() + KILL_GRACE_S
    while time.monotonic() < deadline:
        targets = {proc for proc in targets if is_alive(proc)}
        if leader_gone() and not targets:
            return
        time.sleep(0.02)
    _killpg(pgid, signal.SIGKILL)
    for proc in targets:
        send_signal(proc, signal.SIGKILL)


def _kill_survivors(leader: int | None, extras: Sequence[ProcId]) -> int:
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


# --- duration mode (and the captured warmup) ---------------------------------------------


@dataclass
class _Supervised:
    started_at: datetime
    wall_s: float
    exit_code: int
    timed_out: bool
    interrupted: bool
    survivors: int
    resources: ResourceSummary | None
    out: _Sink
    err: _Sink


def _supervise(
    prep: _Prepared,
    spec: RunSpec,
    *,
    timeout_s: float,
    sample_hz: float,
    stop: threading.Event | None,
    on_progress: ProgressCallback | None,
) -> _Supervised:
    """Run once with output captured, tree followed, timeout and stop honoured; reap it."""
    out, err = _sinks(spec)
    started_at = datetime.now(UTC)
    t0 = time.perf_counter()
    try:
        proc = _popen(prep, subprocess.PIPE, subprocess.PIPE)
    except BaseException:
        out.close()
        err.close()
        raise
    pid = proc.pid
    assert proc.stdout is not None and proc.stderr is not None
    streams = [proc.stdout, proc.stderr]
    pipes = _pipe_ids(streams)
    exit_time = [0.0]
    exited = threading.Event()

    def wait_exit() -> None:
        # WNOWAIT: the leader stays a zombie until reaped below, so its pid (= the group id)
        # cannot be recycled while the group is being killed.
        with contextlib.suppress(ChildProcessError):
            os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        exit_time[0] = time.perf_counter()
        exited.set()

    waiter = threading.Thread(target=wait_exit, name=f"perfinvest-wait-{pid}", daemon=True)
    waiter.start()
    pump = _Pump([(proc.stdout, out), (proc.stderr, err)])
    pump.start()
    sampler = ResourceSampler(pid, sample_hz).start() if sample_hz > 0 else None
    tree = sampler.tree if sampler is not None else ProcessTree(pid)
    deadline = t0 + timeout_s
    timed_out = interrupted = False
    resources: ResourceSummary | None = None
    survivors = 0
    clean = False
    try:
        last_progress = last_refresh = t0
        while not exited.is_set():
            now = time.perf_counter()
            if stop is not None and stop.is_set():
                interrupted = True
                break
            if now >= deadline:
                timed_out = True
                break
            if on_progress is not None and now - last_progress >= _PROGRESS_INTERVAL_S:
                on_progress(now - t0, 0)
                last_progress = now
            if sampler is None and now - last_refresh >= _TREE_REFRESH_S:
                tree.poll()
                last_refresh = now
            exited.wait(min(_POLL_S, max(deadline - now, 0.0)))
        if sampler is not None:
            resources = sampler.stop()
            sampler = None
        tree.poll()  # the latest descendants, single-threaded now
        if timed_out or interrupted:
            _terminate(pid, tree.members(), exited.is_set)
            exited.wait()
        tree.poll()
        survivors = _kill_survivors(pid, tree.members())
        _, status, _ = os.wait4(pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if not pump.finish(_DRAIN_GRACE_S):
            # Something outside the tree still holds our pipes: an escaped descendant.
            holders = [holder for holder in _pipe_holders(pipes) if holder.pid != pid]
            survivors += _kill_survivors(None, holders) if holders else 0
            if not pump.finish(_DRAIN_GRACE_S):
                pump.abandon()
        clean = True
    finally:
        if not clean:  # an exception (Ctrl-C, a failing callback): leave nothing running
            if sampler is not None:
                sampler.stop()
            _killpg(pid, signal.SIGKILL)
            for member in tree.members():
                send_signal(member, signal.SIGKILL)
            if exited.wait(5.0):
                with contextlib.suppress(ChildProcessError):
                    _, status, _ = os.wait4(pid, 0)
                    proc.returncode = os.waitstatus_to_exitcode(status)
            pump.abandon()
        for stream in streams:
            stream.close()
        out.close()
        err.close()
    if pump.error is not None:
        raise pump.error
    return _Supervised(
        started_at=started_at,
        wall_s=exit_time[0] - t0,
        exit_code=proc.returncode,
        timed_out=timed_out,
        interrupted=interrupted,
        survivors=survivors,
        resources=resources,
        out=out,
        err=err,
    )


# --- repeat mode ---------------------------------------------------------------------------


class _Watchdog(threading.Thread):
    """One thread per repeat run: on timeout or stop, kill the current iteration's group."""

    def __init__(self, deadline: float, stop: threading.Event | None) -> None:
        super().__init__(name="perfinvest-watchdog", daemon=True)
        self._deadline = deadline
        self._stop_event = stop
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._pid = 0
        self.cancelled = False
        self.timed_out = False
        self.interrupted = False

    def run(self) -> None:
        while not self._done.is_set():
            now = time.perf_counter()
            if self._stop_event is not None and self._stop_event.is_set():
                self.interrupted = True
                break
            if now >= self._deadline:
                self.timed_out = True
                break
            wait = self._deadline - now
            self._done.wait(min(wait, _POLL_S) if self._stop_event is not None else wait)
        else:
            return
        with self._lock:
            self.cancelled = True
            pid = self._pid
        if not pid:
            return
        _killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + KILL_GRACE_S
        while time.monotonic() < deadline and not self._done.is_set():
            with self._lock:
                if self._pid != pid:
                    return
            time.sleep(0.01)
        with self._lock:
            if self._pid == pid:  # still unreaped (see track/untrack): the pid is still ours
                _killpg(pid, signal.SIGKILL)

    def track(self, pid: int) -> None:
        with self._lock:
            self._pid = pid
            cancelled = self.cancelled
        if cancelled:
            _killpg(pid, signal.SIGKILL)

    def untrack(self) -> None:
        with self._lock:
            self._pid = 0

    def close(self) -> None:
        self._done.set()
        if self.ident is not None:
            self.join()


# posix_spawn(3) flag values: glibc's <spawn.h> (the fast spawner is used with glibc only).
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

    def __init__(self, libc: ctypes.CDLL, prep: _Prepared) -> None:
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
            raise _spawn_error(self._prep, OSError(rc, os.strerror(rc)))
        return int(self._pid.value)

    def reaped(self, pid: int, code: int) -> None:
        """Nothing to do: no Python object stands for the child."""

    def close(self) -> None:
        self._libc.posix_spawn_file_actions_destroy(self._actions)
        self._libc.posix_spawnattr_destroy(self._attr)
        os.close(self._devnull)


class _PopenSpawner:
    """The portable path (and the cgroup path, which needs a ``preexec_fn``)."""

    def __init__(self, prep: _Prepared) -> None:
        self._prep = prep
        self._live: dict[int, subprocess.Popen[bytes]] = {}

    def spawn(self) -> int:
        proc = _popen(self._prep, subprocess.DEVNULL, subprocess.DEVNULL)
        # Kept until reaped: a collected running Popen would be reaped by subprocess itself.
        self._live[proc.pid] = proc
        return proc.pid

    def reaped(self, pid: int, code: int) -> None:
        proc = self._live.pop(pid, None)
        if proc is not None:
            proc.returncode = code

    def close(self) -> None:
        self._live.clear()


def _spawner(prep: _Prepared) -> _LibcSpawner | _PopenSpawner:
    libc = _libc()
    if libc is not None and not prep.cgroup_procs:
        return _LibcSpawner(libc, prep)
    return _PopenSpawner(prep)


@dataclass
class _RepeatState:
    iterations: list[Iteration] = field(default_factory=list)
    warmups_done: int = 0
    exit_code: int | None = None
    failure: str | None = None
    survivors: int = 0
    rss_floor: int | None = None


def _lower_rss_floor() -> int | None:
    """Reset this process's peak RSS to its current RSS; return it (the iterations' floor).

    Writing 5 to ``/proc/self/clear_refs`` resets only the peak-RSS counter (VmHWM), which
    exec copies into every child's ``ru_maxrss``; nothing else about the process changes.
    """
    status = Path("/proc/self/status")
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    try:
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _repeat_loop(
    prep: _Prepared,
    spec: RunSpec,
    state: _RepeatState,
    watchdog: _Watchdog,
    t0: float,
    on_progress: ProgressCallback | None,
) -> None:
    """The timed loop, kept lean: it is the per-iteration overhead hyperfine is compared on."""
    spawner = _spawner(prep)
    state.rss_floor = _lower_rss_floor()
    clock = time.perf_counter
    waitid, wait4, wexited = os.waitid, os.wait4, os.WEXITED | os.WNOWAIT
    to_exit_code = os.waitstatus_to_exitcode
    spawn, reaped = spawner.spawn, spawner.reaped
    iterations = state.iterations
    append = iterations.append
    max_n = spec.max_iterations
    min_n = spec.min_iterations
    duration = spec.duration_s
    measure_start = 0.0
    last_progress = t0
    pid = 0
    try:
        while not watchdog.cancelled:
            warm = state.warmups_done < spec.warmup
            if not warm:
                n = len(iterations)
                if n == 0 and measure_start == 0.0:
                    measure_start = clock()
                if max_n is not None and n >= max_n:
                    break
                if n >= min_n and clock() - measure_start >= duration:
                    break
            start = clock()
            pid = spawn()
            watchdog.track(pid)
            waitid(os.P_PID, pid, wexited)
            end = clock()
            watchdog.untrack()
            _, status, usage = wait4(pid, 0)
            code = to_exit_code(status)
            reaped(pid, code)
            reaped_pid, pid = pid, 0
            try:
                os.killpg(reaped_pid, 0)  # anyone left in the iteration's group?
            except (ProcessLookupError, PermissionError):
                pass
            else:
                state.survivors += _kill_survivors(reaped_pid, ())
            if watchdog.cancelled:
                break  # killed by the watchdog: not a measurement
            state.exit_code = code
            if code != 0:
                which = "warmup iteration" if warm else "iteration"
                number = state.warmups_done + 1 if warm else len(iterations) + 1
                state.failure = f"{which} {number} failed: {_exit_text(code, spec.shell)}"
                break
            if warm:
                state.warmups_done += 1
            else:
                append(
                    Iteration(
                        end - start,
                        usage.ru_utime,
                        usage.ru_stime,
                        usage.ru_maxrss * 1024,  # KiB on Linux
                        code,
                    )
                )
            if on_progress is not None and end - last_progress >= _PROGRESS_INTERVAL_S:
                on_progress(end - t0, len(iterations))
                last_progress = end
    finally:
        if pid:  # interrupted inside an iteration (Ctrl-C): leave nothing running
            _killpg(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                _, status, _ = os.wait4(pid, 0)
                reaped(pid, os.waitstatus_to_exitcode(status))
        spawner.close()


def _run_repeat(
    prep: _Prepared,
    spec: RunSpec,
    stop: threading.Event | None,
    on_progress: ProgressCallback | None,
) -> RunOutcome:
    started_at = datetime.now(UTC)
    t0 = time.perf_counter()
    timeout = spec.effective_timeout_s
    state = _RepeatState()
    captured: _Supervised | None = None
    reason: str | None = None
    timed_out = interrupted = False
    if spec.warmup > 0:
        captured = _supervise(
            prep, spec, timeout_s=timeout, sample_hz=0, stop=stop, on_progress=on_progress
        )
        state.survivors = captured.survivors
        state.exit_code = captured.exit_code
        timed_out, interrupted = captured.timed_out, captured.interrupted
        if not (timed_out or interrupted):
            if captured.exit_code != 0:
                reason = f"warmup iteration 1 failed: {_exit_text(captured.exit_code, spec.shell)}"
            else:
                state.warmups_done = 1
    if reason is None and not (timed_out or interrupted):
        watchdog = _Watchdog(t0 + timeout, stop)
        watchdog.start()
        try:
            _repeat_loop(prep, spec, state, watchdog, t0, on_progress)
        finally:
            watchdog.close()
        timed_out, interrupted = watchdog.timed_out, watchdog.interrupted
        reason = state.failure
    wall = time.perf_counter() - t0
    n = len(state.iterations)
    if interrupted:
        reason = f"interrupted after {_secs(wall)} s, {n} iterations done"
    elif timed_out:
        reason = (
            f"timed out after {_secs(wall)} s (limit {_secs(timeout)} s), {n} iterations done; "
            "the iteration running was killed"
        )
    out = captured.out if captured is not None else _Sink(None, 0, 0)
    err = captured.err if captured is not None else _Sink(None, 0, 0)
    return _outcome(
        started_at=started_at,
        wall_s=wall,
        exit_code=state.exit_code,
        timed_out=timed_out,
        interrupted=interrupted,
        reason=reason,
        out=out,
        err=err,
        iterations=tuple(state.iterations),
        warmups=state.warmups_done,
        resources=None,
        survivors=state.survivors,
        rss_floor=state.rss_floor,
    )


# --- the public entry points ---------------------------------------------------------------


def _secs(value: float) -> str:
    """Seconds for a message: 3.1, 0.31, 60, 123."""
    if value >= 100 or value == int(value):
        return f"{value:.0f}"
    if value >= 1:
        return f"{value:.1f}"
    return f"{value:.2g}"


def _exit_text(code: int, shell: bool) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name}"
    text = f"exit code {code}"
    if shell and code == 127:
        text += " (the shell could not find the command)"
    elif shell and code == 126:
        text += " (the shell could not execute the command)"
    return text


def _outcome(
    *,
    started_at: datetime,
    wall_s: float,
    exit_code: int | None,
    timed_out: bool,
    interrupted: bool,
    reason: str | None,
    out: _Sink,
    err: _Sink,
    iterations: tuple[Iteration, ...],
    warmups: int,
    resources: ResourceSummary | None,
    survivors: int,
    rss_floor: int | None = None,
) -> RunOutcome:
    return RunOutcome(
        started_at=started_at,
        ended_at=started_at + timedelta(seconds=wall_s),
        wall_s=wall_s,
        exit_code=exit_code,
        timed_out=timed_out,
        interrupted=interrupted,
        valid=reason is None,
        invalid_reason=reason,
        stdout_path=out.path,
        stderr_path=err.path,
        stdout_tail=out.tail_text(),
        stderr_tail=err.tail_text(),
        stdout_bytes=out.total,
        stderr_bytes=err.total,
        stdout_truncated=out.truncated,
        stderr_truncated=err.truncated,
        iterations=iterations,
        warmup_iterations=warmups,
        resources=resources,
        survivors_killed=survivors,
        rss_floor_bytes=rss_floor,
    )


def _not_started() -> RunOutcome:
    now = datetime.now(UTC)
    empty = _Sink(None, 0, 0)
    return _outcome(
        started_at=now,
        wall_s=0.0,
        exit_code=None,
        timed_out=False,
        interrupted=True,
        reason="interrupted before the command started",
        out=empty,
        err=empty,
        iterations=(),
        warmups=0,
        resources=None,
        survivors=0,
    )


def run_command(
    spec: RunSpec,
    *,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> RunOutcome:
    """Run ``spec`` once (duration mode) or repeatedly (repeat mode) and report.

    ``on_progress(elapsed_s, iterations)`` is called on the calling thread, at most ~10 times
    a second (in repeat mode between iterations). Setting ``stop`` kills the tree and returns
    an interrupted, invalid outcome. Raises ``PerfError`` only when the command cannot start.
    """
    prep = _prepare(spec)
    if stop is not None and stop.is_set():
        return _not_started()
    if spec.mode == "repeat":
        return _run_repeat(prep, spec, stop, on_progress)
    timeout = spec.effective_timeout_s
    run = _supervise(
        prep,
        spec,
        timeout_s=timeout,
        sample_hz=spec.sample_hz,
        stop=stop,
        on_progress=on_progress,
    )
    reason: str | None = None
    if run.interrupted:
        reason = f"interrupted after {_secs(run.wall_s)} s"
    elif run.timed_out:
        reason = (
            f"timed out after {_secs(run.wall_s)} s (limit {_secs(timeout)} s); "
            "the process tree was killed"
        )
    elif run.exit_code != 0:
        reason = _exit_text(run.exit_code, spec.shell)
    elif run.wall_s < spec.min_duration_s:
        reason = (
            f"exited after {_secs(run.wall_s)} s, before the minimum {_secs(spec.min_duration_s)} s"
        )
    return _outcome(
        started_at=run.started_at,
        wall_s=run.wall_s,
        exit_code=run.exit_code,
        timed_out=run.timed_out,
        interrupted=run.interrupted,
        reason=reason,
        out=run.out,
        err=run.err,
        iterations=(),
        warmups=0,
        resources=run.resources,
        survivors=run.survivors,
    )


def captured_stdout(outcome: RunOutcome, *, limit_bytes: int = _CAPTURED_TEXT_LIMIT) -> str:
    """The captured stdout for metric parsing: the file (head, marker, tail) or the tail.

    The file is already bounded (capture limit + tail); ``limit_bytes`` bounds the read
    anyway, keeping the end (where metric blocks are) when it must cut.
    """
    path = outcome.stdout_path
    if path is None:
        return outcome.stdout_tail
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size <= limit_bytes:
                handle.seek(0)
                data = handle.read()
            else:
                handle.seek(size - limit_bytes)
                data = handle.read()
    except OSError:
        return outcome.stdout_tail
    return data.decode("utf-8", "replace")
