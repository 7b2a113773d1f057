"""A simulation scenario (pure): arrivals, routes of stages, service-time distributions.

``perfinvest simulate`` reads it from YAML (docs/simulate.md lists every field). Every model
forbids unknown fields, so a typo is an error naming the field instead of a silently ignored
setting; :func:`parse_scenario` turns pydantic's errors into one line naming the field path.
Times in a scenario are milliseconds (``*_ms``) except the simulated ``duration_s`` /
``warmup_s`` and the open arrival ``rate_per_s``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from perfinvest.core.errors import usage_error

PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")]

#: Time units an empirical distribution's samples may be in, as milliseconds per unit.
TIME_UNITS_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1000.0}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Fixed(_Strict):
    """Always the same time: a deterministic service (the D of M/D/1)."""

    kind: Literal["fixed"]
    value_ms: NonNegativeFloat

    def average_ms(self) -> float:
        return self.value_ms


class Exponential(_Strict):
    """Memoryless times with this mean: the M of M/M/1."""

    kind: Literal["exponential"]
    mean_ms: PositiveFloat

    def average_ms(self) -> float:
        return self.mean_ms


class Lognormal(_Strict):
    """Right-skewed times typical of real services: median and shape ``sigma`` (of ln t)."""

    kind: Literal["lognormal"]
    median_ms: PositiveFloat
    sigma: PositiveFloat

    def average_ms(self) -> float:
        return self.median_ms * math.exp(self.sigma**2 / 2)


class Empirical(_Strict):
    """Times drawn (with replacement) from measured samples: inline or from a result file.

    ``from`` names a baseline (``baselines/<v>.json``), a ``run --export`` file or a
    PerfMetrics file; ``metric`` (and ``scenario`` for a per-scenario metric) picks the
    samples, whose unit the file states. The app layer reads the file and fills ``samples``.
    """

    kind: Literal["empirical"]
    samples: list[NonNegativeFloat] | None = Field(default=None, min_length=1)
    unit: Literal["ns", "us", "ms", "s"] = "ms"
    source: str | None = Field(default=None, alias="from", min_length=1)
    metric: str | None = Field(default=None, min_length=1)
    scenario: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Empirical:
        if (self.samples is None) == (self.source is None):
            raise ValueError("give samples: [...] or from: FILE (one of them)")
        if self.source is not None and self.metric is None:
            raise ValueError("from: FILE needs metric: NAME (which metric's samples to use)")
        return self

    def average_ms(self) -> float:
        """The mean of the samples (0 before a ``from:`` file filled them)."""
        values = self.samples_ms()
        return math.fsum(values) / len(values) if values else 0.0

    def samples_ms(self) -> list[float]:
        """The samples in milliseconds (``samples`` must be filled)."""
        factor = TIME_UNITS_MS[self.unit]
        return [s * factor for s in self.samples or ()]


Distribution = Annotated[Fixed | Exponential | Lognormal | Empirical, Field(discriminator="kind")]


class OpenArrival(_Strict):
    """Requests arrive as a Poisson process, whatever the system's state (an open system)."""

    kind: Literal["open"]
    rate_per_s: PositiveFloat


class ClosedArrival(_Strict):
    """A fixed population: each user thinks, sends one request, waits for its answer."""

    kind: Literal["closed"]
    users: Annotated[int, Field(ge=1, le=100_000)]
    think_time: Distribution


Arrival = Annotated[OpenArrival | ClosedArrival, Field(discriminator="kind")]


class Stage(_Strict):
    """One station of a route: ``workers`` servers and a FIFO queue in front of them.

    A request arriving when ``queue_limit`` requests already wait is rejected. A request
    whose wait plus service in this stage exceeds ``timeout_ms`` times out: it leaves the
    queue at its deadline, or its caller stops waiting while the worker finishes the work.
    Stages of several routes that name the same ``pool`` share one set of workers and one
    queue (one app server behind two endpoints); they must agree on workers and queue_limit.
    """

    name: Name
    workers: Annotated[int, Field(ge=1, le=100_000)] = 1
    queue_limit: Annotated[int, Field(ge=0)] | None = None
    timeout_ms: PositiveFloat | None = None
    pool: Name | None = None  # stages naming one pool share its workers and queue
    service: Distribution


RESERVED_ROUTE_NAMES = ("all", "scenario")


class Route(_Strict):
    """A kind of request: the stages it passes in order, its share of the traffic."""

    name: Name
    weight: PositiveFloat = 1.0
    timeout_ms: PositiveFloat | None = None  # end to end, over all stages
    stages: list[Stage] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_stages(self) -> Route:
        if self.name in RESERVED_ROUTE_NAMES:
            raise ValueError(f"route name {self.name!r} is reserved (the overall figures use it)")
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise ValueError(f"stage names must be unique within a route, got {names}")
        return self


class Scenario(_Strict):
    """The whole scenario; ``warmup_s`` of the ``duration_s`` simulated seconds is not counted."""

    name: Name
    description: str = ""
    arrival: Arrival
    duration_s: PositiveFloat
    warmup_s: NonNegativeFloat = 0.0
    routes: list[Route] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if self.warmup_s >= self.duration_s:
            raise ValueError(
                f"warmup_s ({self.warmup_s:g}) must be less than duration_s ({self.duration_s:g})"
            )
        names = [r.name for r in self.routes]
        if len(set(names)) != len(names):
            raise ValueError(f"route names must be unique, got {names}")
        pools: dict[str, tuple[str, int, int | None]] = {}
        for route in self.routes:
            for stage in route.stages:
                if stage.pool is None:
                    continue
                here = (f"{route.name}/{stage.name}", stage.workers, stage.queue_limit)
                first = pools.setdefault(stage.pool, here)
                if first[1:] != here[1:]:
                    raise ValueError(
                        f"pool {stage.pool!r}: give every stage of it the same workers and "
                        f"queue_limit ({first[0]} has {first[1]} and {first[2]}, "
                        f"{here[0]} has {here[1]} and {here[2]})"
                    )
        return self

    def distributions(self) -> list[tuple[str, Distribution]]:
        """Every distribution with its field path, in file order (think time, then services)."""
        found: list[tuple[str, Distribution]] = []
        if isinstance(self.arrival, ClosedArrival):
            found.append(("arrival.think_time", self.arrival.think_time))
        for i, route in enumerate(self.routes):
            for j, stage in enumerate(route.stages):
                found.append((f"routes.{i}.stages.{j}.service", stage.service))
        return found

    def map_distributions(self, change: Callable[[str, Distribution], Distribution]) -> Scenario:
        """A copy with every distribution replaced by ``change(path, dist)`` (paths as above)."""
        arrival = self.arrival
        if isinstance(arrival, ClosedArrival):
            think = change("arrival.think_time", arrival.think_time)
            arrival = arrival.model_copy(update={"think_time": think})
        routes = [
            route.model_copy(
                update={
                    "stages": [
                        stage.model_copy(
                            update={
                                "service": change(f"routes.{i}.stages.{j}.service", stage.service)
                            }
                        )
                        for j, stage in enumerate(route.stages)
                    ]
                }
            )
            for i, route in enumerate(self.routes)
        ]
        return self.model_copy(update={"arrival": arrival, "routes": routes})

    def with_users(self, users: int) -> Scenario:
        """The same closed scenario with another population (capacity curves: N = 1..32)."""
        if not isinstance(self.arrival, ClosedArrival):
            raise usage_error(f"{self.name}: with_users needs a closed arrival (kind: closed)")
        if users < 1:
            raise usage_error(f"users must be at least 1, got {users}")
        return self.model_copy(update={"arrival": self.arrival.model_copy(update={"users": users})})


def parse_scenario(data: Any, source: str) -> Scenario:
    """Validate ``data`` (loaded YAML); one line naming the first bad field on failure."""
    if not isinstance(data, dict):
        raise usage_error(
            f"{source}: expected a mapping with name, arrival, duration_s and routes "
            f"(see docs/simulate.md), got {type(data).__name__}"
        )
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise usage_error(f"{source}: {describe(exc)}") from None


def describe(exc: ValidationError) -> str:
    """The most telling error as ``field.path: what is wrong (what to do)``."""
    errors = exc.errors(include_url=False)
    error = _most_specific(errors)
    path = _path(error["loc"])
    kind, msg = error["type"], error["msg"]
    if kind == "extra_forbidden":
        missing = [
            str(e["loc"][-1])
            for e in errors
            if e["type"] == "missing" and e["loc"][:-1] == error["loc"][:-1]
        ]
        hint = f"did you mean {' or '.join(missing)}? " if missing else ""
        text = (
            f"unknown field ({hint}remove it or fix its spelling; "
            "docs/simulate.md lists every field)"
        )
    elif kind == "missing":
        text = "missing (required; docs/simulate.md describes it)"
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        ctx = error.get("ctx", {})
        field = str(ctx.get("discriminator", "kind")).strip("'")
        tags = ctx.get("expected_tags") or (
            "'open', 'closed'"
            if path == "arrival"
            else "'fixed', 'exponential', 'lognormal', 'empirical'"
        )
        path = f"{path}.{field}" if path else field
        got = f", got {ctx['tag']!r}" if "tag" in ctx else " (it is missing)"
        text = f"expected one of {tags}{got}"
    else:
        text = msg[0].lower() + msg[1:]
        if text.startswith("value error, "):
            text = text.removeprefix("value error, ")
        if "input" in error and kind not in ("model_type", "dict_type", "value_error"):
            text += f", got {_short(error['input'])}"
    if not path and kind == "value_error":  # a whole-scenario rule: its text names the fields
        return text
    return f"{path or '(top level)'}: {text}"


def _most_specific(errors: list[Any]) -> Any:
    """The deepest error; at one depth a misspelt field before the one it leaves missing."""
    if not errors:
        return {"loc": (), "type": "", "msg": "invalid"}
    return max(errors, key=lambda e: (len(e["loc"]), e["type"] == "extra_forbidden"))


def _path(loc: tuple[Any, ...]) -> str:
    """``routes.0.stages.1.workers``; a discriminated union's tag (``exponential``) dropped."""
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(str(item))
        elif item in ("fixed", "exponential", "lognormal", "empirical", "open", "closed"):
            continue
        else:
            parts.append(str(item))
    return ".".join(parts)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def expected_requests(scenario: Scenario) -> float:
    """About how many requests a run simulates (an upper bound for a closed system).

    Open: rate x duration. Closed: users x duration / the shortest mean cycle (think time
    plus the lightest route's mean service, queueing ignored); ``inf`` for a zero cycle.
    """
    if isinstance(scenario.arrival, OpenArrival):
        return scenario.arrival.rate_per_s * scenario.duration_s
    cycle_ms = scenario.arrival.think_time.average_ms() + min(
        math.fsum(stage.service.average_ms() for stage in route.stages) for route in scenario.routes
    )
    if cycle_ms <= 0:
        return math.inf
    return scenario.arrival.users * scenario.duration_s * 1000.0 / cycle_ms


def _can_be_zero(dist: Distribution) -> bool:
    if isinstance(dist, Fixed):
        return dist.value_ms == 0
    if isinstance(dist, Empirical):
        return min(dist.samples_ms(), default=0.0) == 0
    return False


def stuck_clock(scenario: Scenario) -> str | None:
    """Why a closed loop could repeat forever at one instant (SimPy would never return)."""
    if not isinstance(scenario.arrival, ClosedArrival):
        return None
    if not _can_be_zero(scenario.arrival.think_time):
        return None
    if math.isinf(expected_requests(scenario)):
        return (
            "arrival.think_time: a closed loop with zero think time and zero service times "
            "never advances the clock; give one of them a time above 0"
        )
    if any(stage.queue_limit is not None for route in scenario.routes for stage in route.stages):
        return (
            "arrival.think_time: with a think time of 0 a user rejected by a full queue "
            "retries at the same instant forever; give think_time a time above 0 or drop "
            "queue_limit"
        )
    return None


@dataclass(frozen=True)
class OfferedLoad:
    """The utilisation an open arrival stream offers one set of workers: a stage, or a pool
    the stages of several routes share. ``rho = arrival rate x mean service / workers``,
    counting every request that reaches the stage (requests lost upstream are not
    subtracted, so it is the offered load, an upper bound of what the stage carries)."""

    where: str  # "route/stage", or "pool NAME"
    workers: int
    rate_per_s: float
    mean_service_ms: float  # weighted by the routes' shares
    bounded: bool  # a queue_limit or a timeout keeps the queue from growing without end

    @property
    def rho(self) -> float:
        return self.rate_per_s * self.mean_service_ms / 1000.0 / self.workers


def offered_loads(scenario: Scenario) -> list[OfferedLoad]:
    """Every stage's (or pool's) offered load under an open arrival, in file order; none for
    a closed population, which cannot outgrow its users."""
    if not isinstance(scenario.arrival, OpenArrival):
        return []
    total = math.fsum(route.weight for route in scenario.routes)
    units: dict[str, list[tuple[float, Stage, Route]]] = {}
    for route in scenario.routes:
        rate = scenario.arrival.rate_per_s * route.weight / total
        for stage in route.stages:
            key = f"pool {stage.pool}" if stage.pool else f"{route.name}/{stage.name}"
            units.setdefault(key, []).append((rate, stage, route))
    loads = []
    for key, members in units.items():
        rate = math.fsum(r for r, _, _ in members)
        work_ms = math.fsum(r * stage.service.average_ms() for r, stage, _ in members)
        loads.append(
            OfferedLoad(
                where=key,
                workers=members[0][1].workers,
                rate_per_s=rate,
                mean_service_ms=work_ms / rate if rate > 0 else 0.0,
                bounded=all(
                    s.queue_limit is not None or s.timeout_ms is not None or r.timeout_ms
                    for _, s, r in members
                ),
            )
        )
    return loads
