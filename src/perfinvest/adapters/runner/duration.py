"""Duration mode (and repeat mode's captured warmup): one supervised, sampled process."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from perfinvest.adapters import deathsig
from perfinvest.adapters.runner.capture import (
    Pump,
    Sink,
    capture_error,
    open_sinks,
    pipe_holders,
    pipe_ids,
)
from perfinvest.adapters.runner.killing import kill_survivors, killpg, terminate
from perfinvest.adapters.runner.launch import Prepared, popen
from perfinvest.adapters.runner.spec import (
    POLL_S,
    PROGRESS_INTERVAL_S,
    ProgressCallback,
    RunSpec,
    SpawnCallback,
)
from perfinvest.adapters.sampler import ProcessTree, ResourceSampler, ResourceSummary, send_signal

_TREE_REFRESH_S = 0.5  # descendant tracking when resource sampling is off
_DRAIN_GRACE_S = 1.0  # after exit, how long output may take to reach end-of-file


@dataclass
class Supervised:
    started_at: datetime
    wall_s: float
    exit_code: int
    timed_out: bool
    interrupted: bool
    survivors: int
    resources: ResourceSummary | None
    out: Sink
    err: Sink


def _kill_all(
    proc: subprocess.Popen[bytes],
    sampler: ResourceSampler | None,
    tree: ProcessTree,
    exited: threading.Event,
    pump: Pump,
) -> None:
    """After an exception: SIGKILL the group and every member seen, reap, stop pumping."""
    pid = proc.pid
    if sampler is not None:
        sampler.stop()
    killpg(pid, signal.SIGKILL)
    for member in tree.members():
        send_signal(member, signal.SIGKILL)
    if exited.wait(5.0):
        with contextlib.suppress(ChildProcessError):
            _, status, _ = os.wait4(pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
    pump.abandon()


def supervise(
    prep: Prepared,
    spec: RunSpec,
    *,
    timeout_s: float,
    sample_hz: float,
    stop: threading.Event | None,
    on_progress: ProgressCallback | None,
    on_spawn: SpawnCallback | None = None,
) -> Supervised:
    """Run once with output captured, tree followed, timeout and stop honoured; reap it."""
    out, err = open_sinks(spec)
    started_at = datetime.now(UTC)
    t0 = time.perf_counter()
    try:
        proc = popen(prep, subprocess.PIPE, subprocess.PIPE)
    except BaseException:
        out.close()
        err.close()
        raise
    pid = proc.pid
    if on_spawn is not None:
        on_spawn(pid)  # the leader of its own session: pid = process group = session
    assert proc.stdout is not None and proc.stderr is not None
    streams = [proc.stdout, proc.stderr]
    pipes = pipe_ids(streams)
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
    pump = Pump([(proc.stdout, out), (proc.stderr, err)])
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
            if out.error is not None or err.error is not None:
                break  # the output cannot be kept: stop the command, report below
            if on_progress is not None and now - last_progress >= PROGRESS_INTERVAL_S:
                on_progress(now - t0, 0)
                last_progress = now
            if sampler is None and now - last_refresh >= _TREE_REFRESH_S:
                tree.poll()
                last_refresh = now
            exited.wait(min(POLL_S, max(deadline - now, 0.0)))
        if sampler is not None:
            resources = sampler.stop()
            sampler = None
        tree.poll()  # the latest descendants, single-threaded now
        if timed_out or interrupted or not exited.is_set():
            terminate(pid, tree.members(), exited.is_set)
            exited.wait()
        tree.poll()
        survivors = kill_survivors(pid, tree.members())
        _, status, _ = os.wait4(pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if not pump.finish(_DRAIN_GRACE_S):
            # Something outside the tree still holds our pipes: an escaped descendant.
            holders = [holder for holder in pipe_holders(pipes) if holder.pid != pid]
            survivors += kill_survivors(None, holders) if holders else 0
            if not pump.finish(_DRAIN_GRACE_S):
                pump.abandon()
        clean = True
    finally:
        if not clean:  # an exception (Ctrl-C, a failing callback): leave nothing running
            _kill_all(proc, sampler, tree, exited, pump)
        deathsig.untrack(pid)
        if on_spawn is not None:
            on_spawn(None)
        for stream in streams:
            stream.close()
        out.close()
        err.close()
    if pump.error is not None:
        raise pump.error
    failed = next((sink for sink in (out, err) if sink.error is not None), None)
    if failed is not None and failed.path is not None and failed.error is not None:
        out.discard()
        err.discard()
        raise capture_error(failed.path, failed.error)
    return Supervised(
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
