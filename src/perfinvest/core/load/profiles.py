"""Built-in load shapes as pure plans: user-count segments over time and the steady window.

The generated locustfile's ``LoadTestShape`` follows the segments second by second; the
results use the steady window (where the load is at its plateau) for sustained throughput.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from perfinvest.core.errors import usage_error
from perfinvest.core.load.targets import BUILTIN_SHAPES, Profile, Targets

#: Defaults of each built-in shape (a profile in the targets file overrides them).
DEFAULTS: dict[str, dict[str, float]] = {
    "smoke": {"users": 2, "duration_s": 60},
    "baseline": {"users": 10, "duration_s": 60},
    "ramp": {"from_users": 1, "users": 50, "duration_s": 120},
    "spike": {"users": 5, "peak_users": 50, "duration_s": 90},
    "soak": {"users": 10, "duration_s": 1800},
    "burst": {"rate_rps": 20, "duration_s": 60},
}


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float
    users_from: int
    users_to: int  # linear in between (equal: a plateau)
    name: str = "steady"  # the phase of the profile it is (matrix per route and phase)


@dataclass(frozen=True)
class LoadPlan:
    """What one profile run does: the shape, its segments and where it is steady."""

    profile: str
    shape: str
    duration_s: float
    segments: tuple[Segment, ...]
    spawn_rate: float
    steady_start_s: float
    steady_end_s: float
    think_s: float = 0.0
    rate_rps: float | None = None  # burst: total arrival rate
    pid: int | None = None
    container: str | None = None
    leak_mb_per_min: float = 5.0

    @property
    def peak_users(self) -> int:
        return max(max(s.users_from, s.users_to) for s in self.segments)

    def users_at(self, t: float) -> int | None:
        """Users wanted at second ``t`` of the run (None once it is over)."""
        for seg in self.segments:
            if seg.start_s <= t < seg.end_s:
                span = seg.end_s - seg.start_s
                share = (t - seg.start_s) / span if span > 0 else 1.0
                return round(seg.users_from + (seg.users_to - seg.users_from) * share)
        return None


def resolve_profile(targets: Targets, name: str) -> Profile:
    """The named profile of the targets file, or a built-in one with its defaults."""
    if name in targets.profiles:
        return targets.profiles[name]
    if name in BUILTIN_SHAPES:
        return Profile()
    known = sorted({*BUILTIN_SHAPES, *targets.profiles})
    raise usage_error(f"unknown profile {name!r}; known: {', '.join(known)}")


def plan(
    name: str,
    profile: Profile,
    *,
    users: int | None = None,
    duration_s: float | None = None,
    rate_rps: float | None = None,
) -> LoadPlan:
    """The plan of a profile, with ``--users`` / ``--duration`` / rate overrides applied."""
    shape = profile.shape or name
    base = DEFAULTS[shape]

    def pick(field: str, override: float | None = None) -> float:
        if override is not None:
            return override
        value = getattr(profile, field)
        return float(value if value is not None else base.get(field, 0))

    d = pick("duration_s", duration_s)
    n = int(pick("users", users)) or 1
    rate = profile.spawn_rate
    segments: tuple[Segment, ...]
    burst_rate: float | None = None
    if shape == "ramp":
        a = int(pick("from_users")) or 1
        top = 0.8 * d
        segments = (Segment(0, top, a, n, "ramp"), Segment(top, d, n, n, "hold"))
        spawn = rate or max(float(n), 1.0)
        steady = (top, d)
    elif shape == "spike":
        low = int(profile.from_users or n)
        peak = int(profile.peak_users or (users * 10 if users else base["peak_users"]))
        up, down = 0.3 * d, 0.6 * d
        segments = (
            Segment(0, up, low, low, "low"),
            Segment(up, down, peak, peak, "peak"),
            Segment(down, d, low, low, "recovery"),
        )
        spawn = rate or float(peak)
        steady = (min((up + down) / 2, up + peak / spawn), down)  # the peak, once spawned
    elif shape == "burst":
        burst_rate = pick("rate_rps", rate_rps)
        n = int(users or profile.users or max(1, min(math.ceil(burst_rate), 50)))
        segments = (Segment(0, d, n, n),)
        spawn = rate or float(n)
        steady = (min(d / 2, n / spawn), d)
    else:  # smoke, baseline, soak: steady
        segments = (Segment(0, d, n, n),)
        spawn = rate or float(n)
        steady = (min(d / 2, n / spawn), d)
    return LoadPlan(
        profile=name,
        shape=shape,
        duration_s=d,
        segments=segments,
        spawn_rate=spawn,
        steady_start_s=steady[0],
        steady_end_s=steady[1],
        think_s=profile.think_s,
        rate_rps=burst_rate,
        pid=profile.pid,
        container=profile.container,
        leak_mb_per_min=profile.leak_mb_per_min,
    )


def cut_short(plan: LoadPlan, elapsed_s: float) -> LoadPlan:
    """The plan as far as an interrupted run got: its steady window ends at ``elapsed_s``
    (a window not reached yet is the whole run so far), so rates are of what ran."""
    elapsed = max(0.0, elapsed_s)
    end = min(plan.steady_end_s, elapsed)
    start = plan.steady_start_s if plan.steady_start_s < end else 0.0
    return replace(plan, steady_start_s=start, steady_end_s=end if end > start else elapsed)
