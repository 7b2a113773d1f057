"""What to run and what happened: the runner's input and output types."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from perfinvest.adapters.sampler import ResourceSummary
from perfinvest.core.errors import usage_error

Mode = Literal["duration", "repeat"]
ProgressCallback = Callable[[float, int], None]
SpawnCallback = Callable[[int | None], None]  # a process group started; None: ended

PROGRESS_INTERVAL_S = 0.1  # on_progress at most ~10 times per second
POLL_S = 0.1  # how often the duration-mode loop looks at stop / timeout / progress


@dataclass(frozen=True)
class RunSpec:
    """How to run a benchmark command; see the module docstring for the two modes."""

    argv: Sequence[str]  # with shell=True: argv[0] is run by /bin/sh -c (the rest: $0, $1...)
    shell: bool = False
    cwd: Path = Path()
    env: Mapping[str, str] = field(default_factory=dict)  # on top of os.environ
    inherit_env: bool = True  # False: env is the whole environment (the instruction meter)
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
    #: Duration mode: exited cleanly, but before ``min_duration_s`` (the run is invalid).
    ended_early: bool = False
    #: Of ``survivors_killed``: processes that had escaped the tree (daemons: fork, setsid,
    #: fork), found by the run cgroup or the run marker (runner/containment.py).
    escaped_killed: int = 0
    #: What could not be done about them (a process that could not be stopped).
    notes: tuple[str, ...] = ()
