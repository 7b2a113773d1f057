"""Exact response-time statistics of a load run, from the locustfile's own recorder (pure).

Locust's histogram rounds response times to 2 significant digits above 100 ms (1035 ms is
kept as 1000), so ``max_ms <= 1000`` passed with a true max of 1035 ms and its mean (from
the exact sum) could exceed its max. The locustfile also records every response time in
``dump["exact"]``: per route and tenth of a second (by completion time), the count, the
exact sum, min and max, and a histogram at 4 significant digits (each value within 0.05 %),
merged across workers by adding counts. Percentiles are nearest-rank over that histogram,
``mean_ms`` is the exact sum over the count and ``max_ms`` the exact max.

Only requests completing inside the steady window count: one finishing after the plan's
end (during shutdown, when Locust stops its users and in-flight requests complete slowly)
is not the load's latency. A dump without ``exact`` (an older run) gives ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from perfinvest.core.load.slo import PERCENTILES, merge_histograms, percentile

TICKS_PER_S = 10
LATENCY_KEYS = (*PERCENTILES, "mean_ms", "max_ms")


@dataclass(frozen=True)
class Cell:
    route: str
    tick: int  # completion time in tenths of a second (Unix time * 10, floored)
    count: int
    total_ms: float
    min_ms: float
    max_ms: float
    histogram: dict[float, int]


def cells(dump: Mapping[str, Any]) -> list[Cell] | None:
    """The recorder's cells, or ``None`` when the dump has none (an older locustfile)."""
    raw = dump.get("exact")
    if not isinstance(raw, Mapping):
        return None
    out = []
    for key, (n, total, low, high, hist) in raw.items():
        route, _, tick = str(key).rpartition("|")
        out.append(
            Cell(
                route,
                int(tick),
                int(n),
                float(total),
                float(low),
                float(high),
                {float(v): int(c) for v, c in hist.items()},
            )
        )
    return out


def summarize(parts: Iterable[Cell]) -> dict[str, float]:
    """Percentiles, exact mean and max of some cells; NaN each when they hold no request."""
    chosen = list(parts)
    hist = merge_histograms(c.histogram for c in chosen)
    count = sum(c.count for c in chosen)
    out = {name: percentile(hist, pct) for name, pct in PERCENTILES.items()}
    out["mean_ms"] = math.fsum(c.total_ms for c in chosen) / count if count else math.nan
    out["max_ms"] = max((c.max_ms for c in chosen), default=math.nan)
    if count:  # a percentile never exceeds the exact max (its bucket may round up)
        for name in PERCENTILES:
            out[name] = min(out[name], out["max_ms"])
    return out


def in_window(cell: Cell, start: float, end: float) -> bool:
    """Whether the cell's tenth of a second lies in ``[start, end)`` (Unix seconds)."""
    return start <= cell.tick / TICKS_PER_S < end


def steady_values(
    dump: Mapping[str, Any], steady_start_s: float, steady_end_s: float
) -> dict[str, dict[str, float]] | None:
    """Per route and ``all``: exact latencies of the requests completing in the steady
    window (plan offsets from the dump's ``started_at``); ``None`` without a recorder."""
    found = cells(dump)
    if found is None:
        return None
    t0 = float(dump.get("started_at") or 0.0)
    inside = [c for c in found if in_window(c, t0 + steady_start_s, t0 + steady_end_s)]
    out = {}
    for route in sorted({c.route for c in found}):
        mine = [c for c in inside if c.route == route]
        # a route with no request completing in the window (a short test): its whole run
        out[route] = summarize(mine or [c for c in found if c.route == route])
    out["all"] = summarize(inside or found)
    return out


def seconds_values(
    dump: Mapping[str, Any], route: str, seconds: Iterable[int]
) -> dict[str, float] | None:
    """Exact latencies of one route over whole Unix seconds (a phase's), or ``None``."""
    found = cells(dump)
    if found is None:
        return None
    wanted = set(seconds)
    chosen = [c for c in found if route in ("all", c.route) and c.tick // TICKS_PER_S in wanted]
    return summarize(chosen) if chosen else None
