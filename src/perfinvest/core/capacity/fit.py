"""The capacity model: the Universal Scalability Law fitted to throughput by concurrency (pure).

Gunther's USL says how throughput ``X`` grows with concurrency ``N``::

    X(N) = λ N / (1 + σ (N - 1) + κ N (N - 1))

``λ`` is the throughput of one client alone, ``σ`` (contention, 0..1) the share of the work
that queues for something shared (Amdahl's serial part), ``κ`` (coherency, ≥ 0) the cost of
keeping N clients' views consistent, which grows with every pair of them and makes
throughput *fall* past the peak ``N* = sqrt((1 - σ) / κ)``.

:func:`fit_usl` fits λ, σ, κ by bounded least squares (scipy, imported lazily) and answers a
:class:`CapacityFit` (estimates, standard errors and 95 % intervals from the covariance,
R², RMSE, MAPE, the peak and the headroom at the current load) or a :class:`Refusal` that
says why the points cannot support a fit. It never raises on data: a refusal is a result
the CLI shows with its reason (docs/capacity.md).

The refusals, precisely:

* ``invalid_points``: a concurrency that is not a positive finite number, a throughput that
  is negative or not finite, or every throughput 0;
* ``too_few_points``: fewer than :data:`MIN_CONCURRENCIES` distinct concurrencies (three
  parameters need at least one point more than they have to say anything about the error);
* ``non_monotonic``: the throughput falls and then rises again by more than the noise. The
  USL rises then falls at most once, so a valley between two higher points is noise (or a
  second effect) it cannot describe. With points sorted by concurrency (repeats averaged),
  a valley is a point ``j`` with an earlier point ``i`` and a later point ``k`` both above
  it by more than the noise band ``NOISE_Z x sqrt(2) x CV x max(X_i, X_j)`` (as in the
  breaking-point search), ``CV`` being the pooled CV of repeated concurrencies, or
  :data:`DEFAULT_NOISE_CV` without repeats, never below :data:`MIN_NOISE_CV`;
* ``too_noisy``: the fit explains less than :data:`MIN_R2` of the throughput's variance, or
  λ's standard error exceeds :data:`MAX_LAMBDA_RSE` of λ (the scale itself is unknown), or
  the covariance cannot be estimated (parameters not separable from these points).

A fit whose κ interval includes 0 is kept, but predicts no peak: the points are where
throughput still rises (the near-linear region) and κ is not identifiable; the answer says
so, gives the asymptote ``λ / σ`` when σ is significant, and the lowest concurrency the
peak could be at (from κ's upper bound).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from perfinvest.core.capacity.checks import (
    DEFAULT_NOISE_CV,
    MIN_CONCURRENCIES,
    MIN_NOISE_CV,
    NOISE_Z,
    check_points,
    find_valley,
    grouped,
    make_refusal,
    noise_of,
)
from perfinvest.core.capacity.headroom import concurrency_for, headroom
from perfinvest.core.capacity.records import (
    CapacityFit,
    CapacityPoint,
    Current,
    Estimate,
    Headroom,
    Peak,
    Point,
    Refusal,
    RefusalReason,
    peak_concurrency,
    synthetic,
    usl,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

__all__ = [
    "CONFIDENCE",
    "DEFAULT_NOISE_CV",
    "MAX_LAMBDA_RSE",
    "MIN_CONCURRENCIES",
    "MIN_NOISE_CV",
    "MIN_R2",
    "NOISE_Z",
    "CapacityFit",
    "CapacityPoint",
    "Current",
    "Estimate",
    "Headroom",
    "Peak",
    "Point",
    "Refusal",
    "RefusalReason",
    "check_points",
    "concurrency_for",
    "find_valley",
    "fit_usl",
    "headroom",
    "noise_of",
    "peak_concurrency",
    "synthetic",
    "usl",
]

#: Below this R² the fit does not explain the data well enough to predict from.
MIN_R2 = 0.9
#: λ's standard error above this share of λ: the throughput scale is not pinned down.
MAX_LAMBDA_RSE = 0.5
#: Confidence level of every interval.
CONFIDENCE = 0.95


# --- the fit --------------------------------------------------------------------------------


def _start(ns: Sequence[float], xs: Sequence[float]) -> list[tuple[float, float, float]]:
    """Starting points: λ from the lowest concurrency, σ and κ by the linearised USL.

    For a fixed λ the USL is linear in σ and κ: ``λN/X - 1 = σ(N-1) + κN(N-1)``.
    """
    import numpy as np

    order = np.argsort(ns)
    n_arr = np.asarray(ns, dtype=float)[order]
    x_arr = np.asarray(xs, dtype=float)[order]
    base = float(x_arr[0] / n_arr[0]) if x_arr[0] > 0 else float(np.max(x_arr / n_arr))
    starts = []
    for lam in (base, 1.1 * base, float(np.max(x_arr / n_arr)) * 1.02):
        if not lam > 0:
            continue
        ok = x_arr > 0
        y = lam * n_arr[ok] / x_arr[ok] - 1
        a = np.column_stack([n_arr[ok] - 1, n_arr[ok] * (n_arr[ok] - 1)])
        (sigma, kappa), *_ = np.linalg.lstsq(a, y, rcond=None)
        starts.append(
            (lam, float(np.clip(sigma, 1e-6, 1 - 1e-6)), float(np.clip(kappa, 1e-9, None)))
        )
    starts.append((max(base, 1e-9), 0.05, 1e-4))
    return starts


def _gradient(func: Callable[[list[float]], float], at: list[float]) -> list[float]:
    grad = []
    for i, value in enumerate(at):
        step = 1e-6 * max(abs(value), 1e-9)
        up, down = list(at), list(at)
        up[i] += step
        down[i] = max(value - step, 0.0) if i > 0 else value - step
        grad.append((func(up) - func(down)) / (up[i] - down[i]))
    return grad


def _delta_se(func: Callable[[list[float]], float], at: list[float], cov: object) -> float | None:
    """The standard error of ``func(params)`` by the delta method."""
    import numpy as np

    g = np.asarray(_gradient(func, at))
    var = float(g @ np.asarray(cov) @ g)
    return math.sqrt(var) if var >= 0 and math.isfinite(var) else None


def _estimate(value: float, se: float | None, t: float, low: float = 0.0) -> Estimate:
    if se is None:
        return Estimate(value=value)
    return Estimate(value=value, stderr=se, ci_low=max(value - t * se, low), ci_high=value + t * se)


@dataclass(frozen=True)
class _Solution:
    theta: tuple[float, float, float]  # λ, σ, κ
    residuals: FloatArray
    cov: FloatArray | None  # None: not estimable
    dof: int


def _solve(ns: FloatArray, xs: FloatArray) -> _Solution:
    """Bounded least squares from several starts, then on relative residuals; the covariance.

    The throughput's noise is a share of it (a CV), so the estimate and its covariance come
    from the *relative* residuals ``(X(N) - x) / X(N)``: on absolute residuals the largest
    throughputs weigh by their square and the intervals were too narrow (κ, N*, X* covered
    88-90 % where they claimed 95 %). The absolute fit from several starts finds the basin
    (and is exact on exact points, where it is kept); the relative fit starts from its
    optimum.
    """
    import numpy as np
    from scipy import optimize

    def model(theta: FloatArray) -> FloatArray:
        a, s, k = (float(v) for v in theta)
        out: FloatArray = a * ns / (1 + s * (ns - 1) + k * ns * (ns - 1))
        return out

    def absolute(theta: FloatArray) -> FloatArray:
        out: FloatArray = model(theta) - xs
        return out

    def relative(theta: FloatArray) -> FloatArray:
        fitted = model(theta)
        out: FloatArray = (fitted - xs) / np.maximum(fitted, 1e-300)
        return out

    def fit(func: Callable[[FloatArray], FloatArray], start: FloatArray) -> Any:
        return optimize.least_squares(
            func,
            start,
            bounds=([1e-12, 0.0, 0.0], [np.inf, 1.0, np.inf]),
            x_scale="jac",
            xtol=1e-12,
            ftol=1e-12,
            gtol=1e-12,
            max_nfev=5000,
        )

    best = None
    for start in _start(ns.tolist(), xs.tolist()):
        found = fit(absolute, np.asarray(start))
        if best is None or found.cost < best.cost:
            best = found
    assert best is not None
    first: FloatArray = np.asarray(best.x, dtype=np.float64)
    found = fit(relative, first)
    # exact points: the absolute fit is already exact (and keeps κ = 0 at its bound)
    exact = float(np.max(np.abs(absolute(first)))) <= 1e-9 * float(np.max(np.abs(xs)))
    theta: FloatArray = first if exact else np.asarray(found.x, dtype=np.float64)
    rel = relative(theta)
    dof = max(len(xs) - 3, 1)
    jac = np.asarray(found.jac, dtype=np.float64)
    cov: FloatArray | None
    try:
        cov = np.asarray(np.linalg.inv(jac.T @ jac) * (float(rel @ rel) / dof), np.float64)
    except np.linalg.LinAlgError:
        cov = None
    if cov is not None and not (np.all(np.isfinite(cov)) and np.all(np.diag(cov) >= 0)):
        cov = None
    lam, sigma, kappa = (float(v) for v in theta)
    return _Solution((lam, sigma, kappa), absolute(theta), cov, dof)


def _quality(xs: FloatArray, resid: FloatArray) -> tuple[float, float, float]:
    """R², RMSE and MAPE (over the points with a positive throughput)."""
    import numpy as np

    ssr = float(resid @ resid)
    sst = float(((xs - xs.mean()) ** 2).sum())
    # every throughput the same (sst 0): an exact fit (σ = 1) explains all there is
    exact = ssr <= 1e-18 * float(xs.max()) ** 2 * len(xs)
    r2 = 1 - ssr / sst if sst > 0 else (1.0 if exact else 0.0)
    positive = xs > 0
    mape = float(np.mean(np.abs(resid[positive] / xs[positive]))) if positive.any() else math.nan
    return r2, math.sqrt(ssr / len(xs)), mape


def _unsupported(
    solution: _Solution, r2: float, points: Sequence[Point], shown: list[CapacityPoint], cv: float
) -> Refusal | None:
    """The ``too_noisy`` refusals: a poor R², no covariance, λ not pinned down."""
    lam = solution.theta[0]
    quality = {"r2": r2, "noise_cv": cv}
    if r2 < MIN_R2:
        message = (
            f"the fit explains only R² = {r2:.3f} of the throughput's variance (at least "
            f"{MIN_R2} needed): the points are too noisy or not shaped like the USL"
        )
    elif solution.cov is None:
        message = (
            "the parameters' covariance cannot be estimated: these points do not separate "
            "λ, σ and κ (measure over a wider range of concurrencies)"
        )
    elif math.sqrt(solution.cov[0, 0]) > MAX_LAMBDA_RSE * lam:
        message = (
            f"λ = {lam:.4g} ± {math.sqrt(solution.cov[0, 0]):.3g} (standard error over "
            f"{MAX_LAMBDA_RSE:.0%} of it): the throughput of one client is not pinned down "
            "by these points"
        )
    else:
        return None
    refusal = make_refusal("too_noisy", message, points, dict(quality))
    refusal.points = shown
    return refusal


@dataclass
class _Shape:
    """What the fit says about the peak, in numbers and in words."""

    kappa_identified: bool
    peak: Peak | None = None
    asymptote: float | None = None
    peak_beyond: float | None = None
    notes: list[str] = field(default_factory=list)


def _shape(
    solution: _Solution, estimates: tuple[Estimate, Estimate, Estimate], t: float, top: float
) -> _Shape:
    """The peak with its intervals (delta method) when κ is significant; else what is left."""
    lam, sigma, kappa = solution.theta
    _, sigma_e, kappa_e = estimates
    identified = kappa > 0 and kappa_e.ci_low is not None and kappa_e.ci_low > 0
    shape = _Shape(identified)
    if identified:
        n_star = peak_concurrency(sigma, kappa)
        assert n_star is not None and solution.cov is not None
        theta = list(solution.theta)
        n_se = _delta_se(lambda th: math.sqrt((1 - th[1]) / th[2]), theta, solution.cov)
        x_se = _delta_se(
            lambda th: usl(math.sqrt((1 - th[1]) / th[2]), th[0], th[1], th[2]),
            theta,
            solution.cov,
        )
        shape.peak = Peak(
            concurrency=_estimate(n_star, n_se, t),
            throughput=_estimate(usl(n_star, lam, sigma, kappa), x_se, t),
            extrapolated=n_star > top,
        )
        if shape.peak.extrapolated:
            shape.notes.append(
                f"the peak N* = {n_star:.4g} lies beyond the largest measured concurrency "
                f"({top:g}): an extrapolation; measure near it to confirm"
            )
        if n_star < 1:
            shape.notes.append(
                f"the peak N* = {n_star:.3g} is below one client: throughput falls from the "
                "first point on (σ near 1 or a large κ)"
            )
        return shape
    shape.notes.append(
        "κ is not identifiable from these points (its 95 % interval includes 0): they lie "
        "where throughput still rises (the near-linear region), so no peak is predicted; "
        "measure at higher concurrency to find it"
    )
    if sigma_e.ci_low is not None and sigma_e.ci_low > 0:
        shape.asymptote = lam / sigma
        shape.notes.append(
            f"throughput keeps rising within the model; asymptote λ/σ = {shape.asymptote:.4g} "
            "(the ceiling if κ is 0)"
        )
    else:
        shape.notes.append(
            "σ is not distinguishable from 0 either: throughput scales about linearly "
            f"(λ = {lam:.4g} per unit of concurrency) over the measured range"
        )
    if kappa_e.ci_high is not None and kappa_e.ci_high > 0:
        sigma_high = sigma_e.ci_high if sigma_e.ci_high is not None else sigma
        beyond = math.sqrt(max(1 - sigma_high, 0.0) / kappa_e.ci_high)
        if beyond > 0:
            shape.peak_beyond = beyond
            shape.notes.append(
                f"if there is a peak, it is at N ≥ {beyond:.4g} (from κ's upper bound)"
            )
    return shape


def fit_usl(points: Sequence[Point], current: Current | None = None) -> CapacityFit | Refusal:
    """Fit the USL to ``points`` (repeats welcome: they measure the noise); see the module doc."""
    refusal = check_points(points)
    if refusal is not None:
        return refusal
    import numpy as np
    from scipy import stats

    ns = np.asarray([p.concurrency for p in points], dtype=float)
    xs = np.asarray([p.throughput for p in points], dtype=float)
    groups = grouped(points)
    cv, noise_basis = noise_of(groups)
    solution = _solve(ns, xs)
    resid = solution.residuals
    r2, rmse, mape = _quality(xs, resid)
    shown = [
        CapacityPoint(
            concurrency=pt.concurrency,
            throughput=pt.throughput,
            source=pt.source,
            fitted=float(x + r),
            residual=float(r),
        )
        for pt, x, r in zip(points, xs, resid, strict=True)
    ]
    refusal = _unsupported(solution, r2, points, shown, cv)
    if refusal is not None:
        return refusal
    assert solution.cov is not None
    t = float(stats.t.ppf(0.5 + CONFIDENCE / 2, solution.dof))
    se = [math.sqrt(float(v)) for v in np.diag(solution.cov)]
    lam_e, sigma_e, kappa_e = (_estimate(v, e, t) for v, e in zip(solution.theta, se, strict=True))
    if sigma_e.ci_high is not None:
        sigma_e.ci_high = min(sigma_e.ci_high, 1.0)
    shape = _shape(solution, (lam_e, sigma_e, kappa_e), t, float(ns.max()))
    fit = CapacityFit(
        lam=lam_e,
        sigma=sigma_e,
        kappa=kappa_e,
        r2=r2,
        rmse=rmse,
        mape=mape,
        n_points=len(points),
        n_concurrencies=len(groups),
        noise_cv=cv,
        noise_basis=noise_basis,
        measured_range=(float(ns.min()), float(ns.max())),
        kappa_identified=shape.kappa_identified,
        peak=shape.peak,
        asymptote=shape.asymptote,
        peak_beyond=shape.peak_beyond,
        notes=shape.notes,
        points=shown,
    )
    if current is not None:
        fit.headroom = headroom(fit, current)
        if fit.headroom is None:
            fit.notes.append(
                "no headroom: no peak was identified and σ is not significant (no ceiling)"
            )
    return fit
