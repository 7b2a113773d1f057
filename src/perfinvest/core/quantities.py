"""Measured values as people read them: ``86.4 ms``, ``36.24 MiB``, ``12,345 rps`` (pure)."""

from __future__ import annotations

import math

from perfinvest.core.sizes import format_size

#: Up to here (16 digits: a float's precision) large numbers are written out, grouped;
#: beyond, ``1e+308`` rather than 309 digits of which 293 are noise.
_GROUPED_BELOW = 1e15


def format_quantity(value: float, unit: str, digits: int = 4) -> str:
    """``value`` with its unit: bytes in binary units, large numbers grouped (never
    ``e+07``) up to 10^15, then in exponent form."""
    if not math.isfinite(value):
        return f"{value} {unit}".strip()
    if unit == "bytes" and 0 <= value < _GROUPED_BELOW:
        return format_size(round(value))
    if abs(value) >= _GROUPED_BELOW:  # digits past a float's precision would be invented
        text = f"{value:.{digits}g}"
    else:
        text = f"{value:,.0f}" if abs(value) >= 10**digits else f"{value:.{digits}g}"
    return f"{text} {unit}" if unit else text


def format_spread(
    mean: float, stddev: float, lowest: float, highest: float, n: int, unit: str
) -> str:
    """``mean 86.41 ms ± 0.42 ms (min 85.9 ms, max 87.1 ms, n=24)``; one value: ``12``."""
    q = format_quantity
    if n == 1:
        return q(mean, unit)
    return (
        f"mean {q(mean, unit)} ± {q(stddev, unit, 2)} "
        f"(min {q(lowest, unit)}, max {q(highest, unit)}, n={n})"
    )


def pct(value: float | None, digits: int = 1) -> str:
    """A relative change as a signed percentage (``0.123`` → ``+12.3%``), ``n/a`` when unknown."""
    return "n/a" if value is None else f"{value:+.{digits}%}"


#: The longest unit a metric may carry (``requests/s``, ``MiB``, ``µs``: a few characters).
MAX_UNIT_LENGTH = 32


def unit_problem(unit: str) -> str | None:
    """Why ``unit`` cannot be a metric's unit, or None. A unit is printed in tables, the
    log, the HTML report and Plotly's axis titles (which read ``<a href>``, ``<b>`` as
    markup): ``<``, ``>``, ``&``, control and invisible format characters are refused, and
    units over :data:`MAX_UNIT_LENGTH` characters."""
    import unicodedata

    markup = sorted({c for c in unit if c in "<>&"})
    if markup:
        return f"it holds markup character(s) {' '.join(markup)}"
    hidden = [c for c in unit if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")]
    if hidden:
        return f"it holds control or invisible character(s) ({', '.join(map(repr, hidden))})"
    if len(unit) > MAX_UNIT_LENGTH:
        return f"it is {len(unit)} characters long, over {MAX_UNIT_LENGTH}"
    return None
