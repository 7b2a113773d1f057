"""Headroom: the current load against the fitted peak, or the asymptote λ/σ (pure)."""

from __future__ import annotations

import math
from typing import Literal

from perfinvest.core.capacity.records import CapacityFit, Current, Headroom

# --- headroom -------------------------------------------------------------------------------


def concurrency_for(fit: CapacityFit, throughput: float) -> float | None:
    """The lowest concurrency at which the model reaches ``throughput`` (None: never)."""
    lam, sigma, kappa = fit.lam.value, fit.sigma.value, fit.kappa.value
    # X(1 + σ(N-1) + κN(N-1)) = λN  →  Xκ N² + (Xσ - Xκ - λ) N + X(1 - σ) = 0
    if throughput <= 0:
        return 0.0
    a = throughput * kappa
    b = throughput * (sigma - kappa) - lam
    c = throughput * (1 - sigma)
    if a == 0:
        return -c / b if b < 0 else None
    disc = b * b - 4 * a * c
    if disc < 0:
        return None
    return (-b - math.sqrt(disc)) / (2 * a)


def headroom(fit: CapacityFit, current: Current) -> Headroom | None:
    """The current load as a share of the peak (or of λ/σ without one), and what is left."""
    if fit.peak is not None:
        basis: Literal["peak", "asymptote"] = "peak"
        ceiling = fit.peak.throughput.value
        n_star: float | None = fit.peak.concurrency.value
    elif fit.asymptote is not None:
        basis, ceiling, n_star = "asymptote", fit.asymptote, None
    else:
        return None
    note = ""
    past = False
    if current.concurrency is not None:
        given: Literal["concurrency", "throughput"] = "concurrency"
        n_now: float | None = current.concurrency
        x_now = fit.predict(current.concurrency)
        past = n_star is not None and current.concurrency > n_star
        if past:
            note = (
                f"the current concurrency {current.concurrency:g} is past the peak "
                f"N* = {n_star:.4g}: adding load lowers throughput; fewer concurrent clients "
                "would serve more"
            )
    else:
        assert current.throughput is not None
        given, x_now = "throughput", current.throughput
        n_now = concurrency_for(fit, x_now)
        if n_now is None:
            note = (
                f"the current throughput {x_now:.4g} is above the model's ceiling "
                f"{ceiling:.4g}: the fit underestimates this system"
            )
    extra = None if n_star is None or n_now is None else n_star - n_now
    utilization = x_now / ceiling if ceiling > 0 else math.inf
    return Headroom(
        basis=basis,
        current_concurrency=n_now,
        current_throughput=x_now,
        given=given,
        ceiling_throughput=ceiling,
        utilization=utilization,
        headroom_pct=1 - utilization,
        extra_concurrency=extra,
        past_peak=past,
        note=note,
    )
