"""A deterministic discrete-event simulation of a :class:`Scenario` (SimPy + numpy PCG64).

Pure: simulated time only (SimPy's clock, never the wall clock), randomness from numpy
``Generator(PCG64)`` streams derived from the seed, one per source and keyed by the source's
name (``SeedSequence(seed, spawn_key=(crc32(name),))``), so adding a route or a stage leaves
the other sources' draws unchanged. SimPy orders simultaneous events by insertion, so the same
scenario and seed give the same event sequence and the same numbers in every process.

Counting: a request counts when it arrives at or after ``warmup_s``; it ends completed,
rejected (a full queue) or timed out, or is still in flight at ``duration_s`` (unfinished,
reported but in no rate). Time averages (utilization, queue length) cover the same window.
"""

from __future__ import annotations

import math
import zlib
from bisect import bisect_right
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from perfinvest.core.simulation.scenario import (
    ClosedArrival,
    Distribution,
    Empirical,
    Exponential,
    Fixed,
    Lognormal,
    Route,
    Scenario,
    Stage,
)

if TYPE_CHECKING:
    import numpy as np
    import simpy

_BLOCK = 4096  # draws generated per numpy call; part of the determinism contract


@dataclass(frozen=True)
class StageStats:
    """One stage of one route over the counted window."""

    route: str
    name: str
    workers: int
    arrived: int
    rejected: int
    timed_out: int
    served: int  # requests that got a worker
    pool: (
        str | None
    )  # shared with the other stages of this pool; the figures are this stage's share
    mean_wait_ms: float | None  # queueing time of the requests that got a worker
    utilization: float  # busy worker-seconds / (workers x window)
    mean_queue_length: float  # time-average number waiting
    arrival_rate_per_s: float


@dataclass(frozen=True)
class RouteStats:
    """One route (or ``all`` of them) over the counted window."""

    name: str
    arrived: int
    completed: int
    rejected: int
    timed_out: int
    unfinished: int
    departed: int  # completions inside the window, whenever they arrived
    window_s: float
    latencies_ms: tuple[float, ...]  # completed requests, in completion order
    waits_ms: tuple[float, ...]  # their total queueing time
    arrivals_s: tuple[float, ...] = ()  # their arrival times (batches slice by these)
    rejected_at_s: tuple[float, ...] = ()  # arrival times of the rejected requests
    timed_out_at_s: tuple[float, ...] = ()  # arrival times of the timed-out requests

    def between(self, lo: float, hi: float) -> RouteStats:
        """The requests that arrived in ``[lo, hi)``: one batch of the batch-means method."""
        keep = [i for i, t in enumerate(self.arrivals_s) if lo <= t < hi]
        rejected = tuple(t for t in self.rejected_at_s if lo <= t < hi)
        timed_out = tuple(t for t in self.timed_out_at_s if lo <= t < hi)
        return RouteStats(
            name=self.name,
            arrived=len(keep) + len(rejected) + len(timed_out),
            completed=len(keep),
            rejected=len(rejected),
            timed_out=len(timed_out),
            unfinished=0,
            departed=len(keep),
            window_s=hi - lo,
            latencies_ms=tuple(self.latencies_ms[i] for i in keep),
            waits_ms=tuple(self.waits_ms[i] for i in keep),
            arrivals_s=tuple(self.arrivals_s[i] for i in keep),
            rejected_at_s=rejected,
            timed_out_at_s=timed_out,
        )

    @property
    def throughput_rps(self) -> float:
        """Departures per second in the window (no warm-up or end effect on closed loops)."""
        return self.departed / self.window_s

    @property
    def error_rate(self) -> float:
        ended = self.completed + self.rejected + self.timed_out
        return (self.rejected + self.timed_out) / ended if ended else 0.0

    @property
    def mean_latency_ms(self) -> float | None:
        return _mean(self.latencies_ms)

    @property
    def mean_wait_ms(self) -> float | None:
        return _mean(self.waits_ms)


@dataclass(frozen=True)
class SimulationResult:
    """What one simulation measured: per route, per stage and overall."""

    scenario: str
    seed: int
    duration_s: float
    warmup_s: float
    users: int | None
    routes: tuple[RouteStats, ...]
    stages: tuple[StageStats, ...]
    overall: RouteStats


def _mean(values: tuple[float, ...]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def stream(seed: int, source: str) -> np.random.Generator:
    """The independent generator of one named source of randomness."""
    import numpy as np

    sequence = np.random.SeedSequence(seed, spawn_key=(zlib.crc32(source.encode()),))
    return np.random.Generator(np.random.PCG64(sequence))


class _Sampler:
    """Draws of one distribution in milliseconds, generated in blocks (numpy is slow per call)."""

    def __init__(self, dist: Distribution, rng: np.random.Generator) -> None:
        self._dist, self._rng = dist, rng
        self._buffer: list[float] = []
        self._samples: Any = None
        if isinstance(dist, Empirical):
            import numpy as np

            self._samples = np.asarray(dist.samples_ms(), dtype=float)
            if self._samples.size == 0:
                raise ValueError("an empirical distribution needs its samples filled in")

    def _block(self) -> list[float]:
        dist, rng = self._dist, self._rng
        if isinstance(dist, Fixed):
            return [dist.value_ms] * _BLOCK
        if isinstance(dist, Exponential):
            drawn = rng.standard_exponential(_BLOCK) * dist.mean_ms
        elif isinstance(dist, Lognormal):
            drawn = rng.lognormal(math.log(dist.median_ms), dist.sigma, _BLOCK)
        else:
            drawn = self._samples[rng.integers(0, self._samples.size, _BLOCK)]
        values: list[float] = drawn.tolist()
        return values

    def ms(self) -> float:
        if not self._buffer:
            self._buffer = self._block()
            self._buffer.reverse()
        return self._buffer.pop()


class _Level:
    """A time-weighted level (busy workers, queue length) integrated over the window."""

    __slots__ = ("area", "last", "level", "start")

    def __init__(self, start: float) -> None:
        self.start, self.level, self.last, self.area = start, 0, 0.0, 0.0

    def move(self, now: float, delta: int) -> None:
        self.finish(now)
        self.level += delta

    def finish(self, now: float) -> None:
        begin = max(self.last, self.start)
        if now > begin:
            self.area += self.level * (now - begin)
        self.last = now


@dataclass
class _StageState:
    route: str
    stage: Stage
    resource: simpy.Resource
    sampler: _Sampler
    busy: _Level
    queued: _Level
    arrived: int = 0
    rejected: int = 0
    timed_out: int = 0
    waits: list[float] = field(default_factory=list)


@dataclass
class _RouteTally:
    arrived: int = 0
    completed: int = 0
    rejected: int = 0
    timed_out: int = 0
    departed: int = 0
    latencies: list[float] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)
    rejected_at: list[float] = field(default_factory=list)
    timed_out_at: list[float] = field(default_factory=list)


def _pool_key(route: Route, stage: Stage) -> str:
    """Stages of one pool share a resource; any other stage has its own."""
    return f"pool:{stage.pool}" if stage.pool else f"{route.name}/{stage.name}"


class _Model:
    """The SimPy processes of one run; every counter lives here, nothing global."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        import simpy

        self.scenario, self.seed = scenario, seed
        self.env = simpy.Environment()
        self.warmup = scenario.warmup_s
        self.routes = list(scenario.routes)
        total = math.fsum(r.weight for r in self.routes)
        acc, self.cumulative = 0.0, []
        for r in self.routes:
            acc += r.weight / total
            self.cumulative.append(acc)
        self.routing_rng = stream(seed, "routing")
        self._route_draws: list[float] = []
        self.stages: dict[str, list[_StageState]] = {}
        pools: dict[str, simpy.Resource] = {}
        for r in self.routes:
            for s in r.stages:
                if _pool_key(r, s) not in pools:
                    pools[_pool_key(r, s)] = simpy.Resource(self.env, capacity=s.workers)
            self.stages[r.name] = [
                _StageState(
                    r.name,
                    s,
                    pools[_pool_key(r, s)],
                    _Sampler(s.service, stream(seed, f"service/{r.name}/{s.name}")),
                    _Level(self.warmup),
                    _Level(self.warmup),
                )
                for s in r.stages
            ]
        self.tally = {r.name: _RouteTally() for r in self.routes}

    # --- arrivals --------------------------------------------------------------------------

    def _pick_route(self) -> Route:
        if len(self.routes) == 1:
            return self.routes[0]
        if not self._route_draws:
            self._route_draws = self.routing_rng.random(_BLOCK).tolist()
            self._route_draws.reverse()
        u = self._route_draws.pop()
        return self.routes[min(bisect_right(self.cumulative, u), len(self.routes) - 1)]

    def open_arrivals(self, rate_per_s: float) -> Generator[Any, Any, None]:
        gaps = _Sampler(
            Exponential(kind="exponential", mean_ms=1000.0 / rate_per_s),
            stream(self.seed, "arrival"),
        )
        while True:
            yield self.env.timeout(gaps.ms() / 1000.0)
            self.env.process(self.request(self._pick_route()))

    def user(self, think: _Sampler) -> Generator[Any, Any, None]:
        while True:
            yield self.env.timeout(think.ms() / 1000.0)
            yield from self.request(self._pick_route())

    # --- one request -----------------------------------------------------------------------

    def request(self, route: Route) -> Generator[Any, Any, None]:
        env = self.env
        start = env.now
        counted = start >= self.warmup
        tally = self.tally[route.name]
        if counted:
            tally.arrived += 1
        deadline = start + route.timeout_ms / 1000.0 if route.timeout_ms else math.inf
        waited = 0.0
        for state in self.stages[route.name]:
            outcome, wait = yield from self._stage(state, deadline, counted)
            if outcome != "ok":
                if counted:
                    if outcome == "rejected":
                        tally.rejected += 1
                        tally.rejected_at.append(start)
                    else:
                        tally.timed_out += 1
                        tally.timed_out_at.append(start)
                return
            waited += wait
        if env.now >= self.warmup:
            tally.departed += 1
        if counted:
            tally.completed += 1
            tally.latencies.append((env.now - start) * 1000.0)
            tally.waits.append(waited * 1000.0)
            tally.arrivals.append(start)

    def _stage(
        self, state: _StageState, route_deadline: float, counted: bool
    ) -> Generator[Any, Any, tuple[str, float]]:
        env, stage, resource = self.env, state.stage, state.resource
        entered = env.now
        if counted:
            state.arrived += 1
        deadline = route_deadline
        if stage.timeout_ms is not None:
            deadline = min(deadline, entered + stage.timeout_ms / 1000.0)
        if (
            stage.queue_limit is not None
            and resource.count >= stage.workers
            and len(resource.queue) >= stage.queue_limit
        ):
            if counted:
                state.rejected += 1
            return "rejected", 0.0
        req = resource.request()
        if not req.triggered:  # no worker free: it waits in the queue
            state.queued.move(entered, +1)
            if math.isinf(deadline):
                yield req
            else:
                yield req | env.timeout(max(deadline - entered, 0.0))
            state.queued.move(env.now, -1)
            if not req.triggered:  # the deadline came first: it leaves the queue
                req.cancel()
                if counted:
                    state.timed_out += 1
                return "timeout", env.now - entered
        wait = env.now - entered
        if counted:
            state.waits.append(wait * 1000.0)
        state.busy.move(env.now, +1)
        service = state.sampler.ms() / 1000.0
        if env.now + service <= deadline:
            yield env.timeout(service)
            state.busy.move(env.now, -1)
            resource.release(req)
            return "ok", wait
        # the caller stops waiting at its deadline; the worker still finishes the work
        done = env.timeout(service)
        done.callbacks.append(lambda _event: self._release(state, req))
        yield env.timeout(max(deadline - env.now, 0.0))
        if counted:
            state.timed_out += 1
        return "timeout", wait

    def _release(self, state: _StageState, req: Any) -> None:
        state.busy.move(self.env.now, -1)
        state.resource.release(req)

    # --- run and collect -------------------------------------------------------------------

    def run(self) -> SimulationResult:
        scenario, env = self.scenario, self.env
        arrival = scenario.arrival
        users: int | None = None
        if isinstance(arrival, ClosedArrival):
            users = arrival.users
            think = _Sampler(arrival.think_time, stream(self.seed, "think"))
            for _ in range(arrival.users):
                env.process(self.user(think))
        else:
            env.process(self.open_arrivals(arrival.rate_per_s))
        env.run(until=scenario.duration_s)
        return self._collect(users)

    def _collect(self, users: int | None) -> SimulationResult:
        end, window = self.scenario.duration_s, self.scenario.duration_s - self.warmup
        stages: list[StageStats] = []
        routes: list[RouteStats] = []
        for r in self.routes:
            for state in self.stages[r.name]:
                state.busy.finish(end)
                state.queued.finish(end)
                stages.append(
                    StageStats(
                        route=r.name,
                        name=state.stage.name,
                        workers=state.stage.workers,
                        arrived=state.arrived,
                        rejected=state.rejected,
                        timed_out=state.timed_out,
                        served=len(state.waits),
                        pool=state.stage.pool,
                        mean_wait_ms=_mean(tuple(state.waits)),
                        utilization=state.busy.area / (state.stage.workers * window),
                        mean_queue_length=state.queued.area / window,
                        arrival_rate_per_s=state.arrived / window,
                    )
                )
            t = self.tally[r.name]
            ended = t.completed + t.rejected + t.timed_out
            routes.append(
                RouteStats(
                    name=r.name,
                    arrived=t.arrived,
                    completed=t.completed,
                    rejected=t.rejected,
                    timed_out=t.timed_out,
                    unfinished=t.arrived - ended,
                    departed=t.departed,
                    window_s=window,
                    latencies_ms=tuple(t.latencies),
                    waits_ms=tuple(t.waits),
                    arrivals_s=tuple(t.arrivals),
                    rejected_at_s=tuple(t.rejected_at),
                    timed_out_at_s=tuple(t.timed_out_at),
                )
            )
        overall = RouteStats(
            name="all",
            arrived=sum(r.arrived for r in routes),
            completed=sum(r.completed for r in routes),
            rejected=sum(r.rejected for r in routes),
            timed_out=sum(r.timed_out for r in routes),
            unfinished=sum(r.unfinished for r in routes),
            departed=sum(r.departed for r in routes),
            window_s=window,
            latencies_ms=tuple(x for r in routes for x in r.latencies_ms),
            waits_ms=tuple(x for r in routes for x in r.waits_ms),
            arrivals_s=tuple(x for r in routes for x in r.arrivals_s),
            rejected_at_s=tuple(x for r in routes for x in r.rejected_at_s),
            timed_out_at_s=tuple(x for r in routes for x in r.timed_out_at_s),
        )
        return SimulationResult(
            scenario=self.scenario.name,
            seed=self.seed,
            duration_s=self.scenario.duration_s,
            warmup_s=self.warmup,
            users=users,
            routes=tuple(routes),
            stages=tuple(stages),
            overall=overall,
        )


def run_simulation(scenario: Scenario, seed: int) -> SimulationResult:
    """Simulate ``scenario`` with ``seed``; empirical distributions must have samples filled."""
    if seed < 0:
        raise ValueError("the seed must be a non-negative integer")
    for path, dist in scenario.distributions():
        if isinstance(dist, Empirical) and not dist.samples:
            raise ValueError(f"{path}: the samples from {dist.source} were not loaded")
    return _Model(scenario, seed).run()
