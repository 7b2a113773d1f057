"""``perfinvest simulate``: load a scenario (a file or a bundled name), simulate, write results.

Also the Python API other code builds on::

    from perfinvest.app.simulation.run import closed_curve, closed_throughput, simulate
    result = simulate("api-route", seed=1)              # a SimulationResult
    x = closed_throughput("ingestion-pipeline", users=8, seed=1)   # requests/s at N = 8
    curve = closed_curve("ingestion-pipeline", range(1, 33), seed=1)  # X, R, U per N

The simulation itself is pure (:mod:`perfinvest.core.simulation.engine`); scenario files
are read by :mod:`perfinvest.app.simulation.scenario_files`; this module runs simulations
and writes the outputs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from perfinvest.app.result import CommandResult
from perfinvest.app.simulation.scenario_files import bundled_scenarios, load_scenario
from perfinvest.core.errors import usage_error
from perfinvest.core.simulation.engine import SimulationResult
from perfinvest.core.simulation.scenario import Scenario

if TYPE_CHECKING:
    from perfinvest.store.paths import StatePaths

__all__ = [
    "ClosedPoint",
    "SimulateOptions",
    "bundled_scenarios",
    "closed_curve",
    "closed_throughput",
    "load_scenario",
    "run_simulate",
    "simulate",
]


def simulate(
    scenario: str | Path | Scenario, seed: int = 0, overrides: Sequence[str] = ()
) -> SimulationResult:
    """Run one simulation: the same scenario and seed give the same result, always."""
    from perfinvest.core.simulation.engine import run_simulation
    from perfinvest.core.simulation.scenario import stuck_clock

    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise usage_error(f"--seed must be a non-negative integer, got {seed!r}")
    loaded = load_scenario(scenario, overrides)
    stuck = stuck_clock(loaded)
    if stuck is not None:
        raise usage_error(f"{loaded.name}: {stuck}")
    return run_simulation(loaded, seed)


def closed_throughput(scenario: str | Path | Scenario, users: int, seed: int = 0) -> float:
    """Completed requests per simulated second of a closed scenario run with ``users`` users.

    For checking a capacity model: ``[closed_throughput(s, n) for n in range(1, 33)]``.
    """
    loaded = load_scenario(scenario).with_users(users)
    return simulate(loaded, seed).overall.throughput_rps


@dataclass(frozen=True)
class ClosedPoint:
    """One population size of a closed scenario: what a capacity model predicts."""

    users: int
    throughput_rps: float
    mean_latency_ms: float | None
    utilization: dict[str, float]  # per ``route/stage``


def closed_curve(
    scenario: str | Path | Scenario, users: Sequence[int], seed: int = 0
) -> list[ClosedPoint]:
    """Throughput, response time and utilizations of a closed scenario at each N in ``users``.

    The scenario (and any empirical file) is loaded once; each N is its own simulation
    with the same seed, e.g. ``closed_curve("ingestion-pipeline", range(1, 33))``.
    """
    loaded = load_scenario(scenario)
    points = []
    for n in users:
        result = simulate(loaded.with_users(n), seed)
        points.append(
            ClosedPoint(
                users=n,
                throughput_rps=result.overall.throughput_rps,
                mean_latency_ms=result.overall.mean_latency_ms,
                utilization={f"{s.route}/{s.name}": s.utilization for s in result.stages},
            )
        )
    return points


@dataclass(frozen=True)
class SimulateOptions:
    seed: int = 0
    output: Path | None = None  # PerfMetrics file
    export: Path | None = None  # runs file (batch means), as `perfinvest run --export` writes
    batches: int = 10
    emit_perf_metrics: bool = False
    name: str | None = None  # the label the PerfMetrics file carries (default: scenario name)
    overrides: tuple[str, ...] = ()  # --set PATH=VALUE
    max_requests: int = 5_000_000  # a refusal above this, before simulating
    guard: StatePaths | None = None  # the output guard's state paths (store/outputs.py)
    force: bool = False  # -o/--export over a file perfinvest did not write


@dataclass(frozen=True)
class SimulateAnswer:
    result: CommandResult
    text: str  # what text mode prints


def run_simulate(spec: str, options: SimulateOptions) -> SimulateAnswer:
    """The command: simulate, write the PerfMetrics file if asked, build the answer."""
    from perfinvest.core.export.perfmetrics import to_perfmetrics
    from perfinvest.core.simulation.output import (
        perf_metrics_block,
        render_table,
        stability_warnings,
        summary,
        to_run,
        to_runs,
    )

    if options.batches < 2:
        raise usage_error(f"--batches must be at least 2, got {options.batches}")
    scenario = load_scenario(spec, options.overrides)
    _check_size(scenario, options.max_requests)
    for target in (options.output, options.export):
        if target is not None and options.guard is not None:
            from perfinvest.store.outputs import check_output

            check_output(options.guard, target, force=options.force, create_parents=True)
    result = simulate(scenario, options.seed)
    run = to_run(result)
    answer = CommandResult(command="simulate", status="complete")
    answer.data = {"simulation": summary(result)}
    overall = answer.data["simulation"]["overall"]
    answer.findings = [
        f"{result.scenario} seed {result.seed}: {overall['completed']} requests completed, "
        f"p95 {overall['p95_ms']} ms, {overall['throughput_rps']} rps, "
        f"error rate {overall['error_rate']}"
    ]
    from perfinvest.core.simulation.scenario import offered_loads

    warnings = stability_warnings(offered_loads(scenario), result)
    answer.data["warnings"] = warnings
    answer.findings += [f"WARNING: {w}" for w in warnings]
    if overall["unfinished"]:
        answer.findings.append(
            f"{overall['unfinished']:,} requests were still in flight at the end (unfinished: "
            "in no rate or percentile)"
        )
    if options.output is not None:
        doc = to_perfmetrics([run], name=options.name or result.scenario, primary="latency_ms")
        doc["scenario"]["concurrency"] = result.users
        _write(options, options.output, json.dumps(doc, indent=2, sort_keys=True) + "\n")
        answer.data["output"] = str(options.output)
        answer.findings.append(f"wrote {options.output} (PerfMetrics v0.1)")
    if options.export is not None:
        runs = to_runs(result, options.batches)
        _write(
            options,
            options.export,
            json.dumps([r.model_dump(mode="json") for r in runs], indent=2) + "\n",
        )
        answer.data["export"] = str(options.export)
        answer.findings.append(
            f"wrote {options.export} ({options.batches} runs: batch means of the window)"
        )
    text = render_table(result, warnings)
    if options.emit_perf_metrics:
        block = perf_metrics_block(result)
        answer.data["perf_metrics_block"] = block
        text = f"{text}\n{block}"
    return SimulateAnswer(answer, text)


def _check_size(scenario: Scenario, max_requests: int) -> None:
    """Refuse a run that would take minutes (about 100 000 requests per CPU second)."""
    from perfinvest.core.simulation.scenario import expected_requests

    expected = expected_requests(scenario)
    if expected > max_requests and not math.isinf(expected):  # inf: simulate() says why
        raise usage_error(
            f"{scenario.name}: about {expected:,.0f} requests to simulate (~{expected / 1e5:,.1f} "
            f"s of CPU), over --max-requests {max_requests:,}; shorten duration_s or pass "
            "a larger --max-requests"
        )


def _write(options: SimulateOptions, path: Path, text: str) -> None:
    from perfinvest.store.atomic import atomic_write_text

    if options.guard is not None:
        from perfinvest.store.outputs import write_output

        write_output(options.guard, path, text, force=options.force, create_parents=True)
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
    except OSError as exc:
        raise usage_error(f"cannot write {path}: {exc.strerror or exc}") from None
