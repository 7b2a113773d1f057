"""Building a RunOutcome, and the wording of exits and durations in its reasons."""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta

from perfinvest.adapters.runner.capture import Sink
from perfinvest.adapters.runner.spec import Iteration, RunOutcome
from perfinvest.adapters.sampler import ResourceSummary


def secs(value: float) -> str:
    """Seconds for a message: 3.1, 0.31, 60, 123."""
    if value >= 100 or value == int(value):
        return f"{value:.0f}"
    if value >= 1:
        return f"{value:.1f}"
    return f"{value:.2g}"


def exit_text(code: int, shell: bool) -> str:
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


def make_outcome(
    *,
    started_at: datetime,
    wall_s: float,
    exit_code: int | None,
    timed_out: bool,
    interrupted: bool,
    reason: str | None,
    out: Sink,
    err: Sink,
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


def not_started() -> RunOutcome:
    now = datetime.now(UTC)
    empty = Sink(None, 0, 0)
    return make_outcome(
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
