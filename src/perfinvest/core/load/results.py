"""From Locust's dump to per-route statistics, run metrics, gates and the latency CSV rows.

Pure: the dump is data (histograms keyed by rounded milliseconds, per-second counts keyed
by Unix second), so every number here is reproducible from ``locust-dump.json``.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from perfinvest.core.load.exact import seconds_values, steady_values
from perfinvest.core.load.profiles import LoadPlan
from perfinvest.core.load.slo import PERCENTILES, RouteStats, merge_histograms, percentile
from perfinvest.core.models import Metric

ALL = "all"  # the aggregate row's name
#: More users than this needs --approve (the load could hurt a shared machine).
APPROVAL_USERS = 60
CSV_HEADER = "second,route,users,requests,failures,p50_ms,p95_ms,p99_ms,max_ms"


def _hist(raw: Mapping[str, int]) -> dict[float, int]:
    return {float(k): int(v) for k, v in raw.items()}


def route_stats(dump: Mapping[str, Any], plan: LoadPlan) -> dict[str, RouteStats]:
    """Per route and the aggregate (``all``), from the master's exact histograms."""
    t0 = float(dump.get("started_at") or 0.0)
    # the whole seconds inside the steady window; a window shorter than that (a short
    # test's spike) takes the seconds it touches
    lo, hi = math.ceil(t0 + plan.steady_start_s), math.floor(t0 + plan.steady_end_s)
    if hi <= lo:
        lo, hi = math.floor(t0 + plan.steady_start_s), math.ceil(t0 + plan.steady_end_s)
    steady_s = max(hi - lo, 0)
    out: dict[str, RouteStats] = {}
    exact = steady_values(dump, plan.steady_start_s, plan.steady_end_s) or {}
    statuses: Mapping[str, Mapping[str, int]] = dump.get("status", {})
    for name, entry in sorted(dump.get("routes", {}).items()):
        per_second = {int(k): int(v) for k, v in entry.get("per_second", {}).items()}
        out[name] = RouteStats(
            route=name,
            requests=int(entry["requests"]),
            failures=int(entry["failures"]),
            histogram=_hist(entry.get("histogram", {})),
            total_ms=float(entry.get("total_ms", 0.0)),
            steady_s=steady_s,
            steady_requests=sum(n for s, n in per_second.items() if lo <= s < hi),
            statuses=dict(statuses.get(name, {})),
            exact=exact.get(name),
        )
    parts = list(out.values())
    codes: dict[str, int] = {}
    for part in parts:
        for code, count in part.statuses.items():
            codes[code] = codes.get(code, 0) + count
    out[ALL] = RouteStats(
        route=ALL,
        requests=sum(p.requests for p in parts),
        failures=sum(p.failures for p in parts),
        histogram=merge_histograms(p.histogram for p in parts),
        total_ms=sum(p.total_ms for p in parts),
        steady_s=steady_s,
        steady_requests=sum(p.steady_requests for p in parts),
        statuses=codes,
        exact=exact.get(ALL),
    )
    return out


_UNITS = {"error_rate": "", "rps": "rps", "requests": "", "failures": ""}


def run_metrics(stats: Mapping[str, RouteStats]) -> list[Metric]:
    """Run metrics: the aggregate without a scenario, each route as its scenario."""
    metrics: list[Metric] = []
    for name, entry in stats.items():
        values = entry.values()
        scenario = None if name == ALL else name
        for key in (*PERCENTILES, "mean_ms", "max_ms"):
            if not math.isnan(values[key]):
                metrics.append(
                    Metric(
                        name=key, value=values[key], unit="ms", direction="lower", scenario=scenario
                    )
                )
        metrics.append(
            Metric(
                name="throughput_rps",
                value=values["rps"],
                unit="rps",
                direction="higher",
                scenario=scenario,
            )
        )
        metrics.append(
            Metric(
                name="error_rate", value=values["error_rate"], direction="lower", scenario=scenario
            )
        )
        metrics.append(Metric(name="requests", value=values["requests"], scenario=scenario))
        metrics.append(
            Metric(
                name="failures", value=float(entry.failures), direction="lower", scenario=scenario
            )
        )
    return metrics


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def approvals_needed(
    urls: Iterable[str], allow_hosts: Iterable[str], plan: LoadPlan, faults: Iterable[str] = ()
) -> list[str]:
    """Why this run needs ``--approve``: many users, error injection, or any host outside
    loopback. ``allow_hosts`` does not lift the gate: every run to such a host needs
    ``--approve`` (docs/load-testing.md). Pure: decided from the text of the URLs, before
    any DNS lookup or connection."""
    allowed = set(allow_hosts)
    reasons = [f"route {name} injects errors (fault: true)" for name in faults]
    if plan.peak_users > APPROVAL_USERS:
        reasons.append(f"{plan.peak_users} users (more than {APPROVAL_USERS})")
    for url in urls:
        host = urlsplit(url).hostname or ""
        if is_loopback(url):
            continue
        if host in allowed:
            reasons.append(f"target {url} is outside loopback (in allow_hosts: still gated)")
        else:
            reasons.append(f"target {url} is outside loopback and allow_hosts")
    return reasons


def csv_rows(dump: Mapping[str, Any]) -> list[str]:
    """latency.csv: one row per second and route (and ``all``), from per-second histograms."""
    t0 = math.floor(float(dump.get("started_at") or 0.0))
    users = {int(k): int(v) for k, v in dump.get("users", {}).items()}
    cells: dict[tuple[int, str], list[Any]] = {}
    for key, (n, f, hist) in dump.get("seconds", {}).items():
        name, _, second = key.rpartition("|")
        cells[(int(second), name)] = [n, f, _hist(hist)]
    seconds = sorted({s for s, _ in cells})
    rows = [CSV_HEADER]
    for second in seconds:
        here = {name: cell for (s, name), cell in cells.items() if s == second}
        merged = [
            sum(c[0] for c in here.values()),
            sum(c[1] for c in here.values()),
            merge_histograms(c[2] for c in here.values()),
        ]
        for name, (n, f, hist) in [*sorted(here.items()), (ALL, merged)]:
            rows.append(
                f"{second - t0},{_csv_name(name)},{users.get(second, '')},{n},{f},"
                f"{percentile(hist, 50):g},{percentile(hist, 95):g},{percentile(hist, 99):g},"
                f"{max(hist) if hist else math.nan:g}"
            )
    return rows


def _csv_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"' if any(c in name for c in ',"\n') else name


def phase_values(dump: Mapping[str, Any], plan: LoadPlan) -> dict[str, dict[str, dict[str, float]]]:
    """Per phase (the plan's segments) and route: percentiles, error rate, rps.

    From the per-second histograms (the same rounding as Locust's, merged across workers),
    so a spike's peak and its recovery are judged apart. Phase → route → values.
    """
    t0 = float(dump.get("started_at") or 0.0)
    cells: dict[str, list[tuple[int, int, int, dict[float, int]]]] = {}
    for key, (n, f, hist) in dump.get("seconds", {}).items():
        name, _, second = key.rpartition("|")
        cells.setdefault(name, []).append((int(second), int(n), int(f), _hist(hist)))
    out: dict[str, dict[str, dict[str, float]]] = {}
    for seg in plan.segments:
        # a second belongs to the phase holding its middle; a phase shorter than a second
        # (a short test's) takes the second holding its own middle
        chosen = {
            s
            for rows in cells.values()
            for s, *_ in rows
            if seg.start_s <= s + 0.5 - t0 < seg.end_s
        } or {math.floor(t0 + (seg.start_s + seg.end_s) / 2)}
        span = len(chosen)
        routes: dict[str, dict[str, float]] = {}
        for name, rows in sorted(cells.items()):
            inside = [r for r in rows if r[0] in chosen]
            if not inside:
                continue
            hist = merge_histograms(r[3] for r in inside)
            n, f = sum(r[1] for r in inside), sum(r[2] for r in inside)
            values = {key: percentile(hist, pct) for key, pct in PERCENTILES.items()}
            values.update(
                error_rate=f / n if n else 0.0,
                requests=float(n),
                rps=n / span,
                max_ms=max(hist) if hist else math.nan,
                mean_ms=sum(v * c for v, c in hist.items()) / n if n else math.nan,
            )
            values.update(seconds_values(dump, name, chosen) or {})  # exact when recorded
            routes[name] = values
        out[seg.name] = routes
    return out
