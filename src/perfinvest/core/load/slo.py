"""SLO verdicts, pure: parse ``p95_ms <= 150``, compute percentiles from a histogram, judge.

Percentiles come from the full latency histogram (response time → count, exact when merged
across workers by adding counts), never from averaging percentiles of parts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

#: Metrics an SLO may name (per route and phase).
SLO_METRICS = (
    "p50_ms",
    "p90_ms",
    "p95_ms",
    "p99_ms",
    "p999_ms",
    "mean_ms",
    "max_ms",
    "error_rate",
    "rps",
    "requests",
)
PERCENTILES = {"p50_ms": 50.0, "p90_ms": 90.0, "p95_ms": 95.0, "p99_ms": 99.0, "p999_ms": 99.9}
_OPS = ("<=", ">=", "<", ">", "==")
_SLO = re.compile(r"^\s*([a-z0-9_]+)\s*(<=|>=|<|>|==)\s*([-+0-9.eE]+)\s*(ms|%)?\s*$")


@dataclass(frozen=True)
class Slo:
    metric: str
    op: str
    limit: float

    @property
    def text(self) -> str:
        return f"{self.metric} {self.op} {self.limit:g}"

    def holds(self, value: float) -> bool:
        return {
            "<=": value <= self.limit,
            ">=": value >= self.limit,
            "<": value < self.limit,
            ">": value > self.limit,
            "==": value == self.limit,
        }[self.op]


def parse_slo(text: str) -> Slo:
    """``p95_ms <= 150``, ``error_rate < 0.01`` (or ``< 1%``); ValueError naming the mistake."""
    match = _SLO.match(text)
    if match is None:
        raise ValueError(
            f"SLO {text!r} is not 'METRIC OP NUMBER' (e.g. 'p95_ms <= 150'; OP one of "
            f"{' '.join(_OPS)})"
        )
    metric, op, number, suffix = match.groups()
    if metric not in SLO_METRICS:
        raise ValueError(
            f"SLO {text!r}: unknown metric {metric!r}; known: {', '.join(SLO_METRICS)}"
        )
    try:
        limit = float(number)
    except ValueError:
        raise ValueError(f"SLO {text!r}: {number!r} is not a number") from None
    if suffix == "%":
        limit /= 100.0
    _check_sense(text, metric, op, limit)
    return Slo(metric, op, limit)


#: Metrics whose value is never zero once any request completed (a bound at 0 is no SLO).
_POSITIVE = (*PERCENTILES, "mean_ms", "max_ms", "rps", "requests")


def _check_sense(text: str, metric: str, op: str, limit: float) -> None:
    """Refuse an SLO no run can meet, or every run meets: it would judge nothing."""
    if not math.isfinite(limit):
        raise ValueError(f"SLO {text!r}: the limit must be a finite number")
    if limit < 0:
        raise ValueError(f"SLO {text!r}: {metric} is never negative; give a limit >= 0")
    if metric == "error_rate" and limit > 1:
        raise ValueError(
            f"SLO {text!r}: error_rate is a fraction from 0 to 1 (0 % to 100 %), "
            f"{limit:g} is above 1"
        )
    if op == "==" and metric != "error_rate":
        raise ValueError(
            f"SLO {text!r}: {metric} is measured, never exactly a number; use <= or >="
        )
    if limit == 0 and (op == "<" or (op == "<=" and metric in _POSITIVE)):
        raise ValueError(f"SLO {text!r}: no run can meet {metric} {op} 0; raise the limit")
    if limit == 0 and op == ">=":
        raise ValueError(f"SLO {text!r}: every run meets {metric} >= 0; raise the limit")


def percentile(histogram: Mapping[float, int], pct: float) -> float:
    """The nearest-rank percentile of a histogram (value → count); NaN when empty."""
    total = sum(histogram.values())
    if total <= 0:
        return math.nan
    rank = max(1, math.ceil(pct / 100.0 * total))
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return float(value)
    return float(max(histogram))


def merge_histograms(parts: Iterable[Mapping[float, int]]) -> dict[float, int]:
    """Exact merge: counts of the same response time add up."""
    merged: dict[float, int] = {}
    for part in parts:
        for value, count in part.items():
            merged[value] = merged.get(value, 0) + count
    return merged


@dataclass(frozen=True)
class RouteStats:
    """What was measured for one route (or the aggregate) in one phase."""

    route: str
    requests: int
    failures: int
    histogram: dict[float, int]
    total_ms: float
    steady_s: float  # length of the steady window
    steady_requests: int  # requests completed inside it
    statuses: dict[str, int]  # status code (or "error" for no response) → count
    #: exact latencies (core/load/exact.py) over the steady window: they replace the
    #: percentiles, mean and max of Locust's rounded histogram when the run recorded them
    exact: Mapping[str, float] | None = None

    def values(self) -> dict[str, float]:
        hist = self.histogram
        out = {name: percentile(hist, pct) for name, pct in PERCENTILES.items()}
        count = sum(hist.values())
        out["mean_ms"] = self.total_ms / count if count else math.nan
        out["max_ms"] = max(hist) if hist else math.nan
        out["error_rate"] = self.failures / self.requests if self.requests else 0.0
        out["rps"] = self.steady_requests / self.steady_s if self.steady_s > 0 else 0.0
        out["requests"] = float(self.requests)
        if self.exact is not None:
            out.update(self.exact)
        return out


@dataclass(frozen=True)
class Verdict:
    route: str
    slo: str
    metric: str
    value: float
    passed: bool


def judge(route: str, slos: Iterable[str], values: Mapping[str, float]) -> list[Verdict]:
    """PASS/FAIL for each SLO with the measured value; a NaN (no request) fails."""
    verdicts = []
    for text in slos:
        slo = parse_slo(text)
        value = values.get(slo.metric, math.nan)
        passed = not math.isnan(value) and slo.holds(value)
        verdicts.append(Verdict(route, slo.text, slo.metric, value, passed))
    return verdicts


def render_matrix(
    profile: str,
    rows: Iterable[Verdict],
    values: Mapping[str, Mapping[str, float]],
    *,
    interrupted: str | None = None,
) -> str:
    """The PASS/FAIL matrix as markdown: one row per route and SLO, the measured value.
    An ``interrupted`` run (the note says how far it got) shows its values, not judged."""
    title = f"# SLO matrix: {profile}"
    if interrupted:
        title += f" (interrupted: {interrupted})"
    lines = [
        title,
        "",
        "| route | requests | rps | p50 ms | p95 ms | p99 ms | error rate | SLO | measured "
        "| verdict |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for v in rows:
        m = values.get(v.route, {})
        lines.append(
            f"| {v.route} | {m.get('requests', 0):.0f} | {m.get('rps', 0):.1f} | "
            f"{_fmt(m.get('p50_ms'))} | {_fmt(m.get('p95_ms'))} | {_fmt(m.get('p99_ms'))} | "
            f"{m.get('error_rate', 0):.4f} | `{v.slo}` | {_fmt(v.value)} | "
            f"{_verdict(v, interrupted)} |"
        )
    return "\n".join(lines) + "\n"


def _verdict(v: Verdict, interrupted: str | None) -> str:
    if interrupted:
        return "not judged"
    return "PASS" if v.passed else "FAIL"


def _fmt(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:.4g}"


def growth_per_minute(samples: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, bytes) samples, in MB per minute; NaN under 3."""
    if len(samples) < 3:
        return math.nan
    n = len(samples)
    mx = sum(t for t, _ in samples) / n
    my = sum(v for _, v in samples) / n
    var = sum((t - mx) ** 2 for t, _ in samples)
    if var == 0:
        return math.nan
    slope = sum((t - mx) * (v - my) for t, v in samples) / var  # bytes per second
    return slope * 60.0 / 1e6
