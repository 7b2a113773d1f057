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
  is negative or not finite;
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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from perfinvest.core.models import Model

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

#: The fewest distinct concurrencies a fit is tried on.
MIN_CONCURRENCIES = 4
#: Below this R² the fit does not explain the data well enough to predict from.
MIN_R2 = 0.9
#: λ's standard error above this share of λ: the throughput scale is not pinned down.
MAX_LAMBDA_RSE = 0.5
#: Two values are the same within noise up to NOISE_Z standard deviations of a difference.
NOISE_Z = 2.0
#: The noise assumed when no concurrency was measured twice (rule 5's default CV threshold).
DEFAULT_NOISE_CV = 0.05
#: The smallest noise ever assumed, so that one run's jitter is not read as a valley.
MIN_NOISE_CV = 0.01
#: Confidence level of every interval.
CONFIDENCE = 0.95

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


# --- checks before fitting ------------------------------------------------------------------


def _grouped(points: Sequence[Point]) -> dict[float, list[float]]:
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


def _refusal(
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
        return _refusal(
            "invalid_points",
            f"{len(bad)} point(s) are not a positive concurrency with a non-negative "
            f"throughput, e.g. concurrency {first.concurrency:g}, throughput "
            f"{first.throughput:g}" + (f" ({first.source})" if first.source else ""),
            points,
        )
    groups = _grouped(points)
    if len(groups) < MIN_CONCURRENCIES:
        shown = [float(n) for n in groups]
        return _refusal(
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
        return _refusal(
            "non_monotonic",
            f"throughput falls from {x[a]:.4g} at N={a:g} to {x[b]:.4g} at N={b:g} and rises "
            f"again to {x[c]:.4g} at N={c:g}, beyond the noise ({basis}): the USL rises and "
            "falls at most once, so it cannot describe these points; re-measure them "
            "(repeats make the noise known) before fitting",
            points,
            {"valley": [a, b, c], "noise_cv": cv, "noise_basis": basis},
        )
    return None


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


def fit_usl(points: Sequence[Point], current: Current | None = None) -> CapacityFit | Refusal:
    """Fit the USL to ``points`` (repeats welcome: they measure the noise); see the module doc."""
    refusal = check_points(points)
    if refusal is not None:
        return refusal
    import numpy as np
    from scipy import optimize, stats

    ns = np.asarray([p.concurrency for p in points], dtype=float)
    xs = np.asarray([p.throughput for p in points], dtype=float)
    groups = _grouped(points)
    cv, noise_basis = noise_of(groups)

    def residuals(theta: FloatArray) -> FloatArray:
        a, s, k = (float(v) for v in theta)
        out: FloatArray = a * ns / (1 + s * (ns - 1) + k * ns * (ns - 1)) - xs
        return out

    best = None
    for start in _start(ns.tolist(), xs.tolist()):
        found = optimize.least_squares(
            residuals,
            np.asarray(start),
            bounds=([1e-12, 0.0, 0.0], [np.inf, 1.0, np.inf]),
            x_scale="jac",
            xtol=1e-12,
            ftol=1e-12,
            gtol=1e-12,
            max_nfev=5000,
        )
        if best is None or found.cost < best.cost:
            best = found
    assert best is not None
    lam, sigma, kappa = (float(v) for v in best.x)
    fitted = xs + np.asarray(best.fun)
    resid = np.asarray(best.fun)
    ssr = float(resid @ resid)
    sst = float(((xs - xs.mean()) ** 2).sum())
    n, p = len(xs), 3
    r2 = 1 - ssr / sst if sst > 0 else 0.0
    rmse = math.sqrt(ssr / n)
    positive = xs > 0
    mape = float(np.mean(np.abs(resid[positive] / xs[positive]))) if positive.any() else math.nan
    dof = max(n - p, 1)
    jac = np.asarray(best.jac)
    cov = None
    try:
        cov = np.linalg.inv(jac.T @ jac) * (ssr / dof)
    except np.linalg.LinAlgError:
        cov = None
    if cov is not None and not np.all(np.isfinite(np.diag(cov))):
        cov = None
    t = float(stats.t.ppf(0.5 + CONFIDENCE / 2, dof))
    se = [math.sqrt(v) if v >= 0 else None for v in np.diag(cov)] if cov is not None else [None] * 3
    shown_points = [
        CapacityPoint(
            concurrency=pt.concurrency,
            throughput=pt.throughput,
            source=pt.source,
            fitted=float(f),
            residual=float(r),
        )
        for pt, f, r in zip(points, fitted, resid, strict=True)
    ]
    quality = {"r2": r2, "noise_cv": cv}
    if r2 < MIN_R2:
        return _noisy(
            f"the fit explains only R² = {r2:.3f} of the throughput's variance (at least "
            f"{MIN_R2} needed): the points are too noisy or not shaped like the USL",
            points,
            shown_points,
            quality,
        )
    if cov is None or se[0] is None:
        return _noisy(
            "the parameters' covariance cannot be estimated: these points do not separate "
            "λ, σ and κ (measure over a wider range of concurrencies)",
            points,
            shown_points,
            quality,
        )
    if se[0] > MAX_LAMBDA_RSE * lam:
        return _noisy(
            f"λ = {lam:.4g} ± {se[0]:.3g} (standard error over {MAX_LAMBDA_RSE:.0%} of it): "
            "the throughput of one client is not pinned down by these points",
            points,
            shown_points,
            quality,
        )
    lam_e = _estimate(lam, se[0], t, low=0.0)
    sigma_e = _estimate(sigma, se[1], t)
    if sigma_e.ci_high is not None:
        sigma_e.ci_high = min(sigma_e.ci_high, 1.0)
    kappa_e = _estimate(kappa, se[2], t)
    theta = [lam, sigma, kappa]
    kappa_identified = kappa > 0 and kappa_e.ci_low is not None and kappa_e.ci_low > 0
    low_n, high_n = float(ns.min()), float(ns.max())
    notes: list[str] = []
    peak = None
    asymptote = None
    peak_beyond = None
    if kappa_identified:
        n_star = peak_concurrency(sigma, kappa)
        assert n_star is not None
        n_se = _delta_se(lambda th: math.sqrt((1 - th[1]) / th[2]), theta, cov)
        x_se = _delta_se(lambda th: usl(math.sqrt((1 - th[1]) / th[2]), *th), theta, cov)
        peak = Peak(
            concurrency=_estimate(n_star, n_se, t, low=0.0),
            throughput=_estimate(usl(n_star, lam, sigma, kappa), x_se, t, low=0.0),
            extrapolated=n_star > high_n,
        )
        if peak.extrapolated:
            notes.append(
                f"the peak N* = {n_star:.4g} lies beyond the largest measured concurrency "
                f"({high_n:g}): an extrapolation; measure near it to confirm"
            )
    else:
        notes.append(
            "κ is not identifiable from these points (its 95 % interval includes 0): they lie "
            "where throughput still rises (the near-linear region), so no peak is predicted; "
            "measure at higher concurrency to find it"
        )
        if sigma_e.ci_low is not None and sigma_e.ci_low > 0:
            asymptote = lam / sigma
            notes.append(
                f"throughput keeps rising within the model; asymptote λ/σ = {asymptote:.4g} "
                "(the ceiling if κ is 0)"
            )
        else:
            notes.append(
                "σ is not distinguishable from 0 either: throughput scales about linearly "
                f"(λ = {lam:.4g} per unit of concurrency) over the measured range"
            )
        if kappa_e.ci_high is not None and kappa_e.ci_high > 0:
            peak_beyond = math.sqrt(max(1 - (sigma_e.ci_high or sigma), 0.0) / kappa_e.ci_high)
            if peak_beyond > 0:
                notes.append(
                    f"if there is a peak, it is at N ≥ {peak_beyond:.4g} (from κ's upper bound)"
                )
    fit = CapacityFit(
        lam=lam_e,
        sigma=sigma_e,
        kappa=kappa_e,
        r2=r2,
        rmse=rmse,
        mape=mape,
        n_points=n,
        n_concurrencies=len(groups),
        noise_cv=cv,
        noise_basis=noise_basis,
        measured_range=(low_n, high_n),
        kappa_identified=kappa_identified,
        peak=peak,
        asymptote=asymptote,
        peak_beyond=peak_beyond,
        notes=notes,
        points=shown_points,
    )
    if current is not None:
        fit.headroom = headroom(fit, current)
        if fit.headroom is None:
            fit.notes.append(
                "no headroom: no peak was identified and σ is not significant (no ceiling)"
            )
    return fit


def _noisy(
    message: str,
    points: Sequence[Point],
    shown: list[CapacityPoint],
    quality: dict[str, float],
) -> Refusal:
    refusal = _refusal("too_noisy", message, points, dict(quality))
    refusal.points = shown
    return refusal


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
