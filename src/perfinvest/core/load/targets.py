"""The targets file (``perf/targets.yaml``): what a load test hits and what it must meet.

Base URL(s), routes (method, path, headers, body or a JSON-lines data file, weight,
expected status, health flag), SLOs with defaults and per-route exceptions, and named
profiles. Validated strictly (an unknown key is a mistake, not ignored) so ``perfinvest
load check`` can name the line and field of every problem. Schema: ``schemas/targets``.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from perfinvest.core.load.slo import parse_slo
from perfinvest.core.models import Model, NonEmptyStr

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
Shape = Literal["smoke", "baseline", "ramp", "spike", "soak", "burst"]
BUILTIN_SHAPES: tuple[Shape, ...] = ("smoke", "baseline", "ramp", "spike", "soak", "burst")
#: Bounds a run can survive (Locust expands the task list by weight; users are greenlets).
MAX_WEIGHT = 10_000
MAX_USERS = 10_000
MAX_RATE_RPS = 100_000.0
MAX_DURATION_S = 7 * 24 * 3600.0
MAX_THINK_S = 3600.0
PROFILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _check_slos(value: list[str]) -> list[str]:
    for text in value:
        parse_slo(text)  # raises ValueError naming the problem
    return value


class Route(Model):
    """One request the virtual users make, chosen in proportion to ``weight``."""

    name: NonEmptyStr
    method: Method = "GET"
    path: NonEmptyStr = Field(pattern=r"^/")
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | dict[str, Any] | list[Any] | None = None  # a mapping or list is sent as JSON
    data: str | None = None  # JSON-lines file (relative to the targets file), cycled
    weight: int = Field(default=1, ge=1, le=MAX_WEIGHT)
    expect_status: int = Field(default=200, ge=100, le=599)
    health: bool = False  # part of the health gate of `perfinvest load suite`
    fault: bool = False  # injects errors into the target (a chaos endpoint): needs --approve
    slo: list[str] = Field(default_factory=list)  # overrides the defaults metric by metric

    _slos = field_validator("slo")(_check_slos)

    @field_validator("weight", mode="before")
    @classmethod
    def _weight_cap(cls, value: Any) -> Any:
        """Name the cap even for a number too large to be an int (``1e23``)."""
        try:
            number = float(value)
        except (TypeError, ValueError):
            return value
        if number > MAX_WEIGHT:
            raise ValueError(
                f"weight {value} is above the limit of {MAX_WEIGHT:,} (Locust repeats a task "
                "weight times); scale the weights down"
            )
        return value

    @model_validator(mode="after")
    def _body_or_data(self) -> Route:
        if self.body is not None and self.data is not None:
            raise ValueError("give either body or data, not both")
        return self


class Profile(Model):
    """A named load profile: one of the built-in shapes with its numbers."""

    shape: Shape | None = None  # default: the profile's name when it is a built-in one
    users: int | None = Field(default=None, ge=1, le=MAX_USERS)  # steady (ramp: peak)
    from_users: int | None = Field(default=None, ge=1, le=MAX_USERS)  # ramp: start; spike: low
    peak_users: int | None = Field(default=None, ge=1, le=MAX_USERS)  # spike: the high level
    rate_rps: float | None = Field(default=None, gt=0, le=MAX_RATE_RPS)  # burst: arrival rate
    duration_s: float | None = Field(default=None, gt=0, le=MAX_DURATION_S)
    spawn_rate: float | None = Field(default=None, gt=0, le=MAX_USERS)  # users started per second
    think_s: float = Field(default=0.0, ge=0, le=MAX_THINK_S)  # between a user's requests
    pid: int | None = Field(default=None, ge=1)  # soak: the target's pid for the RSS leak check
    container: str | None = None  # soak: or its Docker container
    leak_mb_per_min: float = Field(default=5.0, gt=0)  # soak: RSS growth above this fails


class Targets(Model):
    """The whole targets file."""

    version: Literal[1] = 1
    base_url: str | None = None
    base_urls: list[NonEmptyStr] = Field(default_factory=list)
    allow_hosts: list[NonEmptyStr] = Field(default_factory=list)  # beyond loopback
    slo_defaults: list[str] = Field(default_factory=lambda: ["p95_ms <= 150", "error_rate < 0.01"])
    routes: list[Route] = Field(min_length=1)
    profiles: dict[str, Profile] = Field(default_factory=dict)

    _defaults = field_validator("slo_defaults")(_check_slos)

    @field_validator("base_url", "base_urls")
    @classmethod
    def _urls(cls, value: Any) -> Any:
        for url in [value] if isinstance(value, str) else value or []:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http:// or https:// URL")
        return value

    @field_validator("profiles")
    @classmethod
    def _profiles(cls, value: dict[str, Profile]) -> dict[str, Profile]:
        for name, profile in value.items():
            if not PROFILE_NAME.match(name):
                raise ValueError(
                    f"profile name {name!r}: use letters, digits, . _ - (it names a folder)"
                )
            if profile.shape is None and name not in BUILTIN_SHAPES:
                raise ValueError(
                    f"profile {name!r} needs a shape (one of {', '.join(BUILTIN_SHAPES)})"
                )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Targets:
        if not self.base_url and not self.base_urls:
            raise ValueError("give base_url (or base_urls)")
        names = [r.name for r in self.routes]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"route names must be unique: {', '.join(dupes)}")
        return self

    @property
    def urls(self) -> list[str]:
        return list(self.base_urls) or [self.base_url or ""]

    def route_slos(self, route: Route) -> list[str]:
        """The route's SLOs: its own, then the defaults for metrics it does not override."""
        own = {parse_slo(s).metric for s in route.slo}
        return [*route.slo, *(s for s in self.slo_defaults if parse_slo(s).metric not in own)]
