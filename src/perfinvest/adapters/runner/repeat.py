"""Repeat mode (hyperfine -N style): a lean timed loop, one watchdog thread per run."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from perfinvest.adapters.runner.capture import Sink
from perfinvest.adapters.runner.duration import Supervised, supervise
from perfinvest.adapters.runner.killing import KILL_GRACE_S, kill_survivors, killpg
from perfinvest.adapters.runner.launch import Prepared
from perfinvest.adapters.runner.outcome import exit_text, make_outcome, secs
from perfinvest.adapters.runner.spawners import make_spawner
from perfinvest.adapters.runner.spec import (
    POLL_S,
    PROGRESS_INTERVAL_S,
    Iteration,
    ProgressCallback,
    RunOutcome,
    RunSpec,
    SpawnCallback,
)


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
            self._done.wait(min(wait, POLL_S) if self._stop_event is not None else wait)
        else:
            return
        with self._lock:
            self.cancelled = True
            pid = self._pid
        if not pid:
            return
        killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + KILL_GRACE_S
        while time.monotonic() < deadline and not self._done.is_set():
            with self._lock:
                if self._pid != pid:
                    return
            time.sleep(0.01)
        with self._lock:
            if self._pid == pid:  # still unreaped (see track/untrack): the pid is still ours
                killpg(pid, signal.SIGKILL)

    def track(self, pid: int) -> None:
        with self._lock:
            self._pid = pid
            cancelled = self.cancelled
        if cancelled:
            killpg(pid, signal.SIGKILL)

    def untrack(self) -> None:
        with self._lock:
            self._pid = 0

    def close(self) -> None:
        self._done.set()
        if self.ident is not None:
            self.join()


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
    prep: Prepared,
    spec: RunSpec,
    state: _RepeatState,
    watchdog: _Watchdog,
    t0: float,
    on_progress: ProgressCallback | None,
) -> None:
    """The timed loop, kept lean: it is the per-iteration overhead hyperfine is compared on."""
    spawner = make_spawner(prep)
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
                state.survivors += kill_survivors(reaped_pid, ())
            if watchdog.cancelled:
                break  # killed by the watchdog: not a measurement
            state.exit_code = code
            if code != 0:
                which = "warmup iteration" if warm else "iteration"
                number = state.warmups_done + 1 if warm else len(iterations) + 1
                state.failure = f"{which} {number} failed: {exit_text(code, spec.shell)}"
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
            if on_progress is not None and end - last_progress >= PROGRESS_INTERVAL_S:
                on_progress(end - t0, len(iterations))
                last_progress = end
    finally:
        if pid:  # interrupted inside an iteration (Ctrl-C): leave nothing running
            killpg(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                _, status, _ = os.wait4(pid, 0)
                reaped(pid, os.waitstatus_to_exitcode(status))
        spawner.close()


def run_repeat(
    prep: Prepared,
    spec: RunSpec,
    stop: threading.Event | None,
    on_progress: ProgressCallback | None,
    on_spawn: SpawnCallback | None = None,
) -> RunOutcome:
    started_at = datetime.now(UTC)
    t0 = time.perf_counter()
    timeout = spec.effective_timeout_s
    state = _RepeatState()
    captured: Supervised | None = None
    reason: str | None = None
    timed_out = interrupted = False
    if spec.warmup > 0:
        captured = supervise(
            prep,
            spec,
            timeout_s=timeout,
            sample_hz=0,
            stop=stop,
            on_progress=on_progress,
            on_spawn=on_spawn,
        )
        state.survivors = captured.survivors
        state.exit_code = captured.exit_code
        timed_out, interrupted = captured.timed_out, captured.interrupted
        if not (timed_out or interrupted):
            if captured.exit_code != 0:
                reason = f"warmup iteration 1 failed: {exit_text(captured.exit_code, spec.shell)}"
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
        reason = f"interrupted after {secs(wall)} s, {n} iterations done"
    elif timed_out:
        reason = (
            f"timed out after {secs(wall)} s (limit {secs(timeout)} s), {n} iterations done; "
            "the iteration running was killed"
        )
    out = captured.out if captured is not None else Sink(None, 0, 0)
    err = captured.err if captured is not None else Sink(None, 0, 0)
    return make_outcome(
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
