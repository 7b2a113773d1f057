"""Building a measurement from an investigation: its benchmark, session and host lock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from perfinvest.app.context import AppContext
from perfinvest.app.measuring.measure import Benchmark, Progress, Session
from perfinvest.core.models import Event, Investigation
from perfinvest.core.policy import DurationDecision, decide_duration


@dataclass
class MeasureOptions:
    """What every measuring command accepts besides its own options."""

    duration_s: float | None = None
    strict: bool = False
    progress: Progress = field(default_factory=Progress)
    stop: threading.Event | None = None
    meter: str | None = None  # "instructions": count under cachegrind instead of timing


def benchmark_of(ctx: AppContext, inv: Investigation) -> Benchmark:
    setup = inv.setup
    return Benchmark(
        command=setup.command,
        shell=setup.shell,
        cwd=(ctx.repo_root / setup.workdir).resolve(),
        mode=setup.mode,
        metrics_format=setup.metrics_format,
        metrics_file=setup.metrics_file,
        tool=setup.tool,
    )


def duration_for(
    ctx: AppContext, inv: Investigation, options: MeasureOptions, *, probe: bool = False
) -> DurationDecision:
    policy = inv.setup.short_run_policy
    return decide_duration(
        options.duration_s,
        probe=probe,
        short_policy=policy.reason if policy else None,
        env_allow_short=ctx.environ.get("PERF_ALLOW_SHORT") == "1",
    )


def session_for(
    ctx: AppContext, inv: Investigation, options: MeasureOptions, duration: DurationDecision
) -> Session:
    return Session(
        repo_root=ctx.repo_root,
        artifact_root=ctx.paths.artifacts(inv.id),
        perf_dir=ctx.paths.perf_dir,
        investigation_id=inv.id,
        duration=duration,
        strict_quiet=options.strict,
        progress=options.progress,
        stop=options.stop,
        state_dir=ctx.paths.state_dir,
    )


@contextmanager
def benchmark_lock(
    ctx: AppContext, investigation_id: str | None, command: str, events: list[Event]
) -> Iterator[None]:
    """Rule 1 for the whole measurement; a takeover from a dead holder becomes an event.

    Taking over also stops what the dead holder's benchmark left running (the event names
    it), or refuses while it lives: see :mod:`perfinvest.adapters.hostlock`.
    """
    from perfinvest.adapters.hostlock import host_lock

    with host_lock(investigation_id or "(ad-hoc run)", command, ctx.repo_root) as lease:
        message = lease.takeover_message()
        if message is not None:
            events.append(Event(at=ctx.now(), kind="lock takeover", message=message))
        yield
