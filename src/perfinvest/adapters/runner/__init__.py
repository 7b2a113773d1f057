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
``spawners._LibcSpawner``); with ``preexec_cgroup_procs`` (which needs code in the child before
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

import threading
from collections.abc import Callable
from dataclasses import replace

from perfinvest.adapters.runner.capture import STDERR_NAME, STDOUT_NAME, captured_stdout
from perfinvest.adapters.runner.containment import contained
from perfinvest.adapters.runner.duration import supervise
from perfinvest.adapters.runner.killing import KILL_GRACE_S
from perfinvest.adapters.runner.launch import Prepared, prepare
from perfinvest.adapters.runner.outcome import exit_text, make_outcome, not_started, secs
from perfinvest.adapters.runner.repeat import run_repeat
from perfinvest.adapters.runner.spec import Iteration, Mode, ProgressCallback, RunOutcome, RunSpec

__all__ = [
    "KILL_GRACE_S",
    "STDERR_NAME",
    "STDOUT_NAME",
    "Iteration",
    "Mode",
    "ProgressCallback",
    "RunOutcome",
    "RunSpec",
    "captured_stdout",
    "run_command",
]


def run_command(
    spec: RunSpec,
    *,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
    on_spawn: Callable[[int | None], None] | None = None,
) -> RunOutcome:
    """Run ``spec`` once (duration mode) or repeatedly (repeat mode) and report.

    ``on_progress(elapsed_s, iterations)`` is called on the calling thread, at most ~10 times
    a second (in repeat mode between iterations). Setting ``stop`` kills the tree and returns
    an interrupted, invalid outcome. ``on_spawn(pgid)`` is told the process group of a
    supervised process when it starts (duration mode, repeat mode's captured warmup) and
    ``None`` when it is reaped; the timed iterations are not reported (it would cost them).
    Raises ``PerfError`` only when the command cannot start.
    """
    prep = prepare(spec)
    if stop is not None and stop.is_set():
        return not_started()
    with contained(prep) as (marked, box):
        outcome = _run(marked, spec, stop, on_progress, on_spawn)
    if not box.stopped and not box.notes:
        return outcome
    return replace(
        outcome,
        survivors_killed=outcome.survivors_killed + box.stopped,
        escaped_killed=box.stopped,
        notes=(*outcome.notes, *box.notes),
    )


def _run(
    prep: Prepared,
    spec: RunSpec,
    stop: threading.Event | None,
    on_progress: ProgressCallback | None,
    on_spawn: Callable[[int | None], None] | None,
) -> RunOutcome:
    if spec.mode == "repeat":
        return run_repeat(prep, spec, stop, on_progress, on_spawn)
    timeout = spec.effective_timeout_s
    run = supervise(
        prep,
        spec,
        timeout_s=timeout,
        sample_hz=spec.sample_hz,
        stop=stop,
        on_progress=on_progress,
        on_spawn=on_spawn,
    )
    reason: str | None = None
    ended_early = False
    if run.interrupted:
        reason = f"interrupted after {secs(run.wall_s)} s"
    elif run.timed_out:
        reason = (
            f"timed out after {secs(run.wall_s)} s (limit {secs(timeout)} s); "
            "the process tree was killed"
        )
    elif run.exit_code != 0:
        reason = exit_text(run.exit_code, spec.shell)
    elif ended_early := run.wall_s < spec.min_duration_s:
        reason = (
            f"exited after {secs(run.wall_s)} s, before the minimum {secs(spec.min_duration_s)} s"
        )
    outcome = make_outcome(
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
    return replace(outcome, ended_early=True) if ended_early else outcome
