"""A :class:`SimulationResult` as the rest of perfinvest reads results (pure).

One :class:`Run` (so PerfMetrics, ``diff``, ``budget check`` and baselines take it as any
measured result), a JSON summary, a text table and the ``PERF_METRICS`` block of the
benchmark contract. Every float is rounded to :data:`DECIMALS` places (nanoseconds in ms)
before it is written, and nothing depends on dict or set order, so the same result always
gives the same bytes. The simulated clock starts at the Unix epoch: no wall clock is read.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from perfinvest.core.export.perfmetrics import percentile
from perfinvest.core.models import EnvironmentFingerprint, Metric, Run
from perfinvest.core.simulation.engine import RouteStats, SimulationResult
from perfinvest.core.simulation.scenario import OfferedLoad

DECIMALS = 6
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PCTS = (("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99), ("p99_9_ms", 0.999))


def r6(value: float) -> float:
    """The one rounding every written number goes through."""
    return round(value, DECIMALS) + 0.0  # + 0.0: no "-0.0"


def _opt(value: float | None) -> float | None:
    return None if value is None else r6(value)


def route_summary(stats: RouteStats) -> dict[str, Any]:
    """Counts, rates and latency percentiles of one route (or ``all``), rounded."""
    latencies = sorted(r6(x) for x in stats.latencies_ms)
    out: dict[str, Any] = {
        "route": stats.name,
        "arrived": stats.arrived,
        "completed": stats.completed,
        "rejected": stats.rejected,
        "timed_out": stats.timed_out,
        "unfinished": stats.unfinished,
        "departed": stats.departed,
        "throughput_rps": r6(stats.throughput_rps),
        "error_rate": r6(stats.error_rate),
        "mean_ms": _opt(math.fsum(latencies) / len(latencies)) if latencies else None,
        "mean_wait_ms": _opt(stats.mean_wait_ms),
    }
    for name, q in _PCTS:
        out[name] = r6(percentile(latencies, q)) if latencies else None
    return out


def summary(result: SimulationResult) -> dict[str, Any]:
    """The whole result without raw samples (``--json``'s ``data``)."""
    return {
        "scenario": result.scenario,
        "seed": result.seed,
        "duration_s": r6(result.duration_s),
        "warmup_s": r6(result.warmup_s),
        "users": result.users,
        "overall": route_summary(result.overall),
        "routes": [route_summary(r) for r in result.routes],
        "stages": [
            {
                "route": s.route,
                "stage": s.name,
                "workers": s.workers,
                "pool": s.pool,
                "arrived": s.arrived,
                "served": s.served,
                "rejected": s.rejected,
                "timed_out": s.timed_out,
                "utilization": r6(s.utilization),
                "mean_wait_ms": _opt(s.mean_wait_ms),
                "mean_queue_length": r6(s.mean_queue_length),
                "arrival_rate_per_s": r6(s.arrival_rate_per_s),
            }
            for s in result.stages
        ],
    }


def _metrics(row: dict[str, Any], scenario: str | None, samples: list[float]) -> list[Metric]:
    out = []
    if samples:
        value = math.fsum(samples) / len(samples)
        out.append(
            Metric(
                name="latency_ms",
                value=r6(value),
                unit="ms",
                direction="lower",
                samples=samples,
                scenario=scenario,
            )
        )
        out += [
            Metric(name=n, value=row[n], unit="ms", direction="lower", scenario=scenario)
            for n, _ in _PCTS
        ]
        if row["mean_wait_ms"] is not None:
            out.append(
                Metric(
                    name="wait_ms",
                    value=row["mean_wait_ms"],
                    unit="ms",
                    direction="lower",
                    scenario=scenario,
                )
            )
    out += [
        Metric(
            name="throughput_rps",
            value=row["throughput_rps"],
            unit="rps",
            direction="higher",
            scenario=scenario,
        ),
        Metric(
            name="error_rate",
            value=row["error_rate"],
            unit="",
            direction="lower",
            scenario=scenario,
        ),
        Metric(
            name="rejected", value=row["rejected"], unit="", direction="lower", scenario=scenario
        ),
        Metric(
            name="timed_out", value=row["timed_out"], unit="", direction="lower", scenario=scenario
        ),
    ]
    return out


def to_run(result: SimulationResult) -> Run:
    """The result as one run: overall metrics unscoped, each route's under its name.

    The environment is ``host: simulation`` and ``config_hash: simulate:<scenario>``, so
    ``diff`` compares two results of one scenario (a what-if variant keeps the name) and
    refuses a simulation against a real measurement.
    """
    return _run(result, result.overall, result.routes, "", 0.0, result.duration_s)


def to_runs(result: SimulationResult, batches: int) -> list[Run]:
    """The counted window cut into ``batches`` equal batches, one run each (batch means).

    Batches of many requests are nearly independent, so ``diff`` and ``budget check`` get
    several runs per side and judge a change against the spread of the batch means instead
    of the (much wider) spread of single requests.
    """
    if batches < 2:
        raise ValueError("batch means need at least 2 batches")
    width = (result.duration_s - result.warmup_s) / batches
    runs = []
    for i in range(batches):
        lo = result.warmup_s + i * width
        hi = result.duration_s if i == batches - 1 else lo + width
        runs.append(
            _run(
                result,
                result.overall.between(lo, hi),
                tuple(r.between(lo, hi) for r in result.routes),
                f"-batch{i + 1}",
                lo,
                hi - lo,
            )
        )
    return runs


def _run(
    result: SimulationResult,
    overall_stats: RouteStats,
    routes: tuple[RouteStats, ...],
    suffix: str,
    offset_s: float,
    duration_s: float,
) -> Run:
    overall = sorted(r6(x) for x in overall_stats.latencies_ms)
    metrics = _metrics(route_summary(overall_stats), None, overall)
    for stats in routes:
        own = sorted(r6(x) for x in stats.latencies_ms) if len(routes) > 1 else []
        metrics += _metrics(route_summary(stats), stats.name, own)
    started = EPOCH + timedelta(seconds=offset_s)
    return Run(
        run_id=f"simulate-{result.scenario}-seed{result.seed}{suffix}",
        started_at=started,
        ended_at=started + timedelta(seconds=duration_s),
        mode="duration",
        requested_duration_s=duration_s,
        duration_s=duration_s,
        exit_code=0,
        metrics=metrics,
        environment=EnvironmentFingerprint(
            host="simulation",
            command=["perfinvest", "simulate", result.scenario, "--seed", str(result.seed)],
            config_hash=f"simulate:{result.scenario}",
        ),
    )


def perf_metrics_block(result: SimulationResult) -> str:
    """The ``PERF_METRICS_START``/``END`` block: a scenario as an investigation's benchmark."""
    overall = route_summary(result.overall)
    latencies = sorted(r6(x) for x in result.overall.latencies_ms)
    body: dict[str, Any] = _block_metrics(overall)  # unscoped: `--metric p95_ms` finds it
    if latencies:
        body["latency_ms"] = {
            "value": overall["mean_ms"],
            "unit": "ms",
            "direction": "lower",
            "samples": latencies,
        }
    for stats in result.routes:
        body[stats.name] = _block_metrics(route_summary(stats))
    text = json.dumps(body, sort_keys=False, separators=(",", ":"))
    return f"PERF_METRICS_START\n{text}\nPERF_METRICS_END"


def _block_metrics(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, _ in _PCTS:
        if row[name] is not None:
            out[name] = row[name]
    if row["mean_ms"] is not None:
        out["mean_ms"] = row["mean_ms"]
    out["throughput_rps"] = {"value": row["throughput_rps"], "unit": "rps", "direction": "higher"}
    out["error_rate"] = {"value": row["error_rate"], "unit": "", "direction": "lower"}
    return out


def _cell(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def stability_warnings(loads: list[OfferedLoad], result: SimulationResult) -> list[str]:
    """One line per stage (or pool) offered a utilisation rho >= 1: its queue is unstable."""
    unfinished = result.overall.unfinished
    out = []
    for load in loads:
        if load.rho < 1.0:
            continue
        plural = "s" if load.workers != 1 else ""
        head = (
            f"{load.where}: offered utilisation rho = {load.rho:.2f} >= 1 "
            f"({load.rate_per_s:g} req/s x {load.mean_service_ms:.4g} ms mean service / "
            f"{load.workers} worker{plural})"
        )
        if load.bounded:
            out.append(
                f"{head}: overloaded; only its queue_limit/timeouts keep the queue finite, by "
                f"rejecting or timing out the excess ({unfinished:,} requests unfinished at "
                "the end)"
            )
        else:
            out.append(
                f"{head}: the queue is unstable, it grows for as long as the run lasts, so its "
                f"latencies measure duration_s, not the system; {unfinished:,} requests were "
                "unfinished at the end. Add workers, lower the rate, or set queue_limit / "
                "timeout_ms to model shedding"
            )
    return out


def render_table(result: SimulationResult, warnings: list[str] | None = None) -> str:
    """People's view: one line per route and ``all``, then one per stage, then warnings."""
    data = summary(result)
    who = f"closed, {result.users} users" if result.users is not None else "open"
    lines = [
        f"scenario {result.scenario}  seed {result.seed}  {who}  simulated "
        f"{result.duration_s:g} s (first {result.warmup_s:g} s not counted)",
        "",
    ]
    head = (
        "route",
        "arrived",
        "done",
        "rejected",
        "timeout",
        "unfinished",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "p99.9 ms",
        "mean ms",
        "rps",
        "errors %",
    )
    rows = [
        (
            row["route"],
            row["arrived"],
            row["completed"],
            row["rejected"],
            row["timed_out"],
            row["unfinished"],
            _cell(row["p50_ms"]),
            _cell(row["p95_ms"]),
            _cell(row["p99_ms"]),
            _cell(row["p99_9_ms"]),
            _cell(row["mean_ms"]),
            _cell(row["throughput_rps"], 1),
            _cell(row["error_rate"] * 100.0, 2),
        )
        for row in [*data["routes"], data["overall"]]
    ]
    lines += _grid(head, rows)
    lines.append("")
    head2 = ("route/stage", "workers", "util %", "wait ms", "queue len", "rejected", "timeout")
    rows2 = [
        (
            f"{s['route']}/{s['stage']}",
            s["workers"],
            _cell(s["utilization"] * 100.0, 1),
            _cell(s["mean_wait_ms"]),
            _cell(s["mean_queue_length"]),
            s["rejected"],
            s["timed_out"],
        )
        for s in data["stages"]
    ]
    lines += _grid(head2, rows2)
    if warnings:
        lines += ["", *(f"WARNING: {w}" for w in warnings)]
    return "\n".join(lines)


def _grid(head: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[str]:
    table = [tuple(str(c) for c in head), *[tuple(str(c) for c in row) for row in rows]]
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    return [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in table
    ]
