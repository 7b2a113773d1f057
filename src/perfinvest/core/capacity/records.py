"""The capacity model's records: points in, a fit or a refusal out (pure, pydantic).

See :mod:`perfinvest.core.capacity.fit` for the model and what each field means.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from perfinvest.core.models import Model

RefusalReason = Literal["invalid_points", "too_few_points", "non_monotonic", "too_noisy"]


@dataclass(frozen=True)
class Point:
    """One measurement: throughput at a concurrency, and where it came from."""

    concurrency: float
    throughput: float
    source: str = ""


class CapacityPoint(Model):
    """A point as recorded with the fit: measured, modelled, residual."""

    concurrency: float
    throughput: float
    source: str = ""
    fitted: float | None = None
    residual: float | None = None


class Estimate(Model):
    """One parameter: value, standard error and 95 % interval (clipped to its bounds)."""

    value: float
    stderr: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None


class Peak(Model):
    """Where throughput peaks in the model, and whether that is inside the measured range."""

    concurrency: Estimate
    throughput: Estimate
    extrapolated: bool = False  # beyond the largest measured concurrency


class Headroom(Model):
    """The current load against the peak (or, without one, against the asymptote λ/σ)."""

    basis: Literal["peak", "asymptote"]
    current_concurrency: float | None = None
    current_throughput: float
    given: Literal["concurrency", "throughput"]
    ceiling_throughput: float
    utilization: float  # current throughput / ceiling
    headroom_pct: float  # 1 - utilization, as a fraction
    extra_concurrency: float | None = None  # N* - current N (peak basis only)
    past_peak: bool = False
    note: str = ""


class CapacityFit(Model):
    """A USL fit: parameters, error, peak, headroom, what the data could not say."""

    kind: Literal["perfinvest.capacity-fit"] = "perfinvest.capacity-fit"
    model: str = "X(N) = lambda*N / (1 + sigma*(N-1) + kappa*N*(N-1))"
    lam: Estimate  # λ: the throughput of one client alone ("lambda" is a Python keyword)
    sigma: Estimate
    kappa: Estimate
    r2: float
    rmse: float
    mape: float
    n_points: int
    n_concurrencies: int
    noise_cv: float
    noise_basis: str
    measured_range: tuple[float, float]
    kappa_identified: bool
    peak: Peak | None = None
    asymptote: float | None = None  # λ/σ: the ceiling when κ is 0
    peak_beyond: float | None = None  # no peak identified: it is at least this far out
    headroom: Headroom | None = None
    notes: list[str] = Field(default_factory=list)
    points: list[CapacityPoint] = Field(default_factory=list)

    def predict(self, n: float) -> float:
        return usl(n, self.lam.value, self.sigma.value, self.kappa.value)


class Refusal(Model):
    """Why no fit is given: a reason code, a sentence, and the points it was asked on."""

    kind: Literal["perfinvest.capacity-refusal"] = "perfinvest.capacity-refusal"
    reason: RefusalReason
    message: str
    n_points: int
    n_concurrencies: int
    details: dict[str, float | str | list[float]] = Field(default_factory=dict)
    points: list[CapacityPoint] = Field(default_factory=list)


@dataclass(frozen=True)
class Current:
    """The load headroom is measured from: a concurrency or a throughput."""

    concurrency: float | None = None
    throughput: float | None = None


# --- the model ------------------------------------------------------------------------------


def usl(n: float, lam: float, sigma: float, kappa: float) -> float:
    """Throughput at concurrency ``n`` under the USL."""
    return lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))


def peak_concurrency(sigma: float, kappa: float) -> float | None:
    """``N* = sqrt((1 - σ) / κ)``; None without coherency (throughput never falls)."""
    if kappa <= 0:
        return None
    return math.sqrt(max(1 - sigma, 0.0) / kappa)


def synthetic(
    concurrencies: Sequence[float],
    lam: float,
    sigma: float,
    kappa: float,
    *,
    noise_cv: float = 0.0,
    repeats: int = 1,
    rng: object = None,
) -> list[Point]:
    """Points from known parameters, with multiplicative normal noise from a numpy Generator.

    For tests and for checking a simulator against the model: ``rng`` is a
    ``numpy.random.Generator`` (required when ``noise_cv > 0``).
    """
    points = []
    for n in concurrencies:
        for _ in range(repeats):
            x = usl(n, lam, sigma, kappa)
            if noise_cv > 0:
                x *= 1 + noise_cv * float(rng.standard_normal())  # type: ignore[attr-defined]
            points.append(Point(float(n), max(x, 0.0), "synthetic"))
    return points
