"""What the points must be before a USL fit is tried: valid, enough, without a valley (pure).

The precise rules are in :mod:`perfinvest.core.capacity.fit`'s docstring and docs/capacity.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from perfinvest.core.capacity.records import CapacityPoint, Point, Refusal, RefusalReason

#: The fewest distinct concurrencies a fit is tried on.
MIN_CONCURRENCIES = 4
#: Two values are the same within noise up to NOISE_Z standard deviations of a difference.
NOISE_Z = 2.0
#: The noise assumed when no concurrency was measured twice (rule 5's default CV threshold).
DEFAULT_NOISE_CV = 0.05
#: The smallest noise ever assumed, so that one run's jitter is not read as a valley.
MIN_NOISE_CV = 0.01


# --- checks before fitting ------------------------------------------------------------------


def grouped(points: Sequence[Point]) -> dict[float, list[float]]:
    groups: dict[float, list[float]] = {}
    for p in points:
        groups.setdefault(p.concurrency, []).append(p.throughput)
    return dict(sorted(groups.items()))


def noise_of(groups: dict[float, list[float]]) -> tuple[float, str]:
    """The throughput's relative noise: the pooled CV of repeated concurrencies, and how."""
    num = 0.0
    dof = 0
    for values in groups.values():
        if len(values) >= 2:
            mean = math.fsum(values) / len(values)
            if mean > 0:
                var = math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1)
                num += (len(values) - 1) * var / mean**2
                dof += len(values) - 1
    if dof == 0:
        return max(DEFAULT_NOISE_CV, MIN_NOISE_CV), (
            f"no concurrency measured twice: CV {DEFAULT_NOISE_CV:.0%} assumed"
        )
    cv = math.sqrt(num / dof)
    basis = f"pooled CV {cv:.2%} of {sum(len(v) >= 2 for v in groups.values())} repeated value(s)"
    if cv < MIN_NOISE_CV:
        basis += f", floored at {MIN_NOISE_CV:.0%}"
    return max(cv, MIN_NOISE_CV), basis


def _band(cv: float, a: float, b: float) -> float:
    return NOISE_Z * math.sqrt(2) * cv * max(abs(a), abs(b))


def find_valley(
    means: Sequence[tuple[float, float]], cv: float
) -> tuple[float, float, float] | None:
    """(N_i, N_j, N_k): throughput falls from N_i to N_j and rises again to N_k beyond noise."""
    for j in range(1, len(means) - 1):
        nj, xj = means[j]
        before = [(n, x) for n, x in means[:j] if x - xj > _band(cv, x, xj)]
        after = [(n, x) for n, x in means[j + 1 :] if x - xj > _band(cv, x, xj)]
        if before and after:
            return before[-1][0], nj, after[0][0]
    return None


def make_refusal(
    reason: RefusalReason,
    message: str,
    points: Sequence[Point],
    details: dict[str, float | str | list[float]] | None = None,
) -> Refusal:
    return Refusal(
        reason=reason,
        message=message,
        n_points=len(points),
        n_concurrencies=len({p.concurrency for p in points}),
        details=details or {},
        points=[
            CapacityPoint(concurrency=p.concurrency, throughput=p.throughput, source=p.source)
            for p in points
        ],
    )


def check_points(points: Sequence[Point]) -> Refusal | None:
    """The refusals that need no fit: invalid values, too few concurrencies, a valley."""
    bad = [
        p
        for p in points
        if not (math.isfinite(p.concurrency) and p.concurrency > 0)
        or not (math.isfinite(p.throughput) and p.throughput >= 0)
    ]
    if bad:
        first = bad[0]
        return make_refusal(
            "invalid_points",
            f"{len(bad)} point(s) are not a positive concurrency with a non-negative "
            f"throughput, e.g. concurrency {first.concurrency:g}, throughput "
            f"{first.throughput:g}" + (f" ({first.source})" if first.source else ""),
            points,
        )
    if points and all(p.throughput == 0 for p in points):
        return make_refusal(
            "invalid_points",
            "every throughput is 0: nothing was served at any concurrency, there is no "
            "scalability to model (check that the throughput metric is the right one)",
            points,
        )
    groups = grouped(points)
    if len(groups) < MIN_CONCURRENCIES:
        shown = [float(n) for n in groups]
        return make_refusal(
            "too_few_points",
            f"{len(groups)} distinct concurrenc{'y' if len(groups) == 1 else 'ies'} "
            f"({', '.join(f'{n:g}' for n in shown) or 'none'}): the USL's three parameters "
            f"need at least {MIN_CONCURRENCIES}; measure at more concurrencies",
            points,
            {"concurrencies": shown, "needed": float(MIN_CONCURRENCIES)},
        )
    cv, basis = noise_of(groups)
    means = [(n, math.fsum(v) / len(v)) for n, v in groups.items()]
    valley = find_valley(means, cv)
    if valley is not None:
        a, b, c = valley
        x = dict(means)
        return make_refusal(
            "non_monotonic",
            f"throughput falls from {x[a]:.4g} at N={a:g} to {x[b]:.4g} at N={b:g} and rises "
            f"again to {x[c]:.4g} at N={c:g}, beyond the noise ({basis}): the USL rises and "
            "falls at most once, so it cannot describe these points; re-measure them "
            "(repeats make the noise known) before fitting",
            points,
            {"valley": [a, b, c], "noise_cv": cv, "noise_basis": basis},
        )
    return None
