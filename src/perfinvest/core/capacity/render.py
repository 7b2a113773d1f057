"""The capacity fit for people: a text report and the one-paragraph log note (pure)."""

from __future__ import annotations

from perfinvest.core.capacity.fit import CapacityFit, Estimate, Headroom, Refusal


def _g(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}g}"


def show(est: Estimate, digits: int = 4) -> str:
    """``value ± stderr [ci_low, ci_high]``."""
    text = _g(est.value, digits)
    if est.stderr is not None:
        text += f" ± {est.stderr:.2g}"
    if est.ci_low is not None and est.ci_high is not None:
        text += f" (95 % CI {_g(est.ci_low, digits)} to {_g(est.ci_high, digits)})"
    return text


def headroom_line(room: Headroom) -> str:
    where = (
        f"N = {_g(room.current_concurrency)}"
        if room.given == "concurrency"
        else f"X = {_g(room.current_throughput)}"
        + (f" (N ≈ {_g(room.current_concurrency)})" if room.current_concurrency else "")
    )
    ceiling = "the peak" if room.basis == "peak" else "the asymptote λ/σ"
    text = (
        f"headroom at {where}: {room.utilization:.0%} of {ceiling} "
        f"({_g(room.current_throughput)} of {_g(room.ceiling_throughput)}), "
        f"{room.headroom_pct:.0%} left"
    )
    if room.extra_concurrency is not None:
        text += f", {_g(room.extra_concurrency, 3)} more concurrency to the peak"
    return text + (f"; {room.note}" if room.note else "")


def summary(fit: CapacityFit | Refusal, source: str) -> str:
    """One line for findings and the reviewer's log."""
    if isinstance(fit, Refusal):
        return (
            f"capacity fit refused ({fit.reason}) on {fit.n_points} point(s) from {source}: "
            + fit.message
        )
    text = (
        f"USL fit on {fit.n_points} point(s) at {fit.n_concurrencies} concurrencies from "
        f"{source}: λ = {show(fit.lam)}, σ = {show(fit.sigma, 3)}, κ = {show(fit.kappa, 3)}; "
        f"R² = {fit.r2:.4f}, RMSE {_g(fit.rmse)}, MAPE {fit.mape:.1%}"
    )
    if fit.peak is not None:
        text += (
            f"; peak {_g(fit.peak.throughput.value)} at N* = {_g(fit.peak.concurrency.value)}"
            + (" (extrapolated)" if fit.peak.extrapolated else "")
        )
    elif fit.asymptote is not None:
        text += f"; no peak: throughput keeps rising, asymptote λ/σ = {_g(fit.asymptote)}"
    else:
        text += "; no peak: κ not identifiable (near-linear region)"
    if fit.headroom is not None:
        text += "; " + headroom_line(fit.headroom)
    return text


def report(fit: CapacityFit | Refusal, source: str) -> str:
    """The text answer: the model, the parameters, the peak, the headroom, the points."""
    if isinstance(fit, Refusal):
        lines = [
            f"capacity: no fit ({fit.reason})",
            "",
            fit.message,
            "",
            f"points: {fit.n_points} at {fit.n_concurrencies} concurrencies from {source}",
        ]
        return "\n".join(lines + _points(fit)) + "\n"
    lines = [
        f"capacity: Universal Scalability Law fit ({source})",
        "",
        "  X(N) = λN / (1 + σ(N-1) + κN(N-1))",
        "",
        f"  λ (one client)     {show(fit.lam)}",
        f"  σ (contention)     {show(fit.sigma, 3)}",
        f"  κ (coherency)      {show(fit.kappa, 3)}",
        f"  fit                R² {fit.r2:.4f}, RMSE {_g(fit.rmse)}, MAPE {fit.mape:.1%} "
        f"over {fit.n_points} point(s), {fit.n_concurrencies} concurrencies in "
        f"[{fit.measured_range[0]:g}, {fit.measured_range[1]:g}]",
        f"  noise              {fit.noise_basis}",
    ]
    if fit.peak is not None:
        lines.append(f"  peak concurrency   N* = {show(fit.peak.concurrency)}")
        lines.append(f"  peak throughput    X(N*) = {show(fit.peak.throughput)}")
    elif fit.asymptote is not None:
        lines.append(
            f"  peak               none: throughput keeps rising; asymptote λ/σ = "
            f"{_g(fit.asymptote)}"
        )
    else:
        lines.append("  peak               none predicted (κ not identifiable)")
    if fit.headroom is not None:
        lines.append("  " + headroom_line(fit.headroom))
    lines += [f"  note: {note}" for note in fit.notes]
    return "\n".join([*lines, "", *_points(fit)]) + "\n"


def _points(fit: CapacityFit | Refusal) -> list[str]:
    rows = ["  concurrency  throughput      fitted   residual  source"]
    for p in sorted(fit.points, key=lambda p: p.concurrency):
        rows.append(
            f"  {p.concurrency:>11g}  {p.throughput:>10.4g}  {_g(p.fitted):>10}  "
            f"{_g(p.residual, 3):>9}  {p.source}"
        )
    return rows
