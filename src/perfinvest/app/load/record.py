"""The end of a load run: the SLO matrix, latency.csv, result.json and the run in state."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perfinvest.app.context import AppContext
from perfinvest.app.result import CommandResult
from perfinvest.core.load.targets import Targets
from perfinvest.core.models import Event, Run
from perfinvest.core.policy import DurationDecision
from perfinvest.store.atomic import atomic_write_text

if TYPE_CHECKING:
    from perfinvest.app.load.request import LoadRequest

HEALTH_MAX_ERROR_RATE = 0.01


@dataclass
class Outcome:
    result: CommandResult
    passed: bool
    health_passed: bool
    interrupted: bool = False  # a partial run, recorded, never judged


@dataclass
class _Judged:
    """The SLO verdicts of one load run, overall and by phase, and the matrix of them."""

    values: dict[str, dict[str, float]]
    verdicts: list[Any]
    phase_rows: list[dict[str, Any]]
    matrix: str
    passed: bool
    health_passed: bool


def finish(
    ctx: AppContext,
    request: LoadRequest,
    targets: Targets,
    the_plan: Any,
    duration: DurationDecision,
    engine: Any,
    out_dir: Path,
    events: list[Event],
    inv_id: str | None,
) -> Outcome:
    from perfinvest.core.load.profiles import cut_short
    from perfinvest.core.load.results import csv_rows, route_stats

    dump = engine.dump
    elapsed = max(0.0, float(dump.get("ended_at") or 0) - float(dump.get("started_at") or 0))
    interrupted = (
        f"stopped after {elapsed:.1f} s of {the_plan.duration_s:g} s, a partial run"
        if engine.interrupted
        else None
    )
    # an interrupted run's rates are of the seconds it ran
    stats = route_stats(dump, cut_short(the_plan, elapsed) if interrupted else the_plan)
    judged = _judge(request, targets, the_plan, engine, stats, out_dir, interrupted)
    (out_dir / "slo_matrix.md").write_text(judged.matrix, encoding="utf-8")
    (out_dir / "latency.csv").write_text("\n".join(csv_rows(dump)) + "\n", encoding="utf-8")
    run = _load_run(ctx, request, targets, the_plan, duration, engine, stats, out_dir, interrupted)
    document = _document(request, targets, the_plan, duration, engine, stats, judged, interrupted)
    document["output_dir"] = str(out_dir)
    document.update(_measured(ctx, inv_id), run=run.model_dump(mode="json"))
    atomic_write_text(out_dir / "result.json", json.dumps(document, indent=2) + "\n")
    atomic_write_text(out_dir / "runs.json", json.dumps([run.model_dump(mode="json")], indent=2))
    result = _command_result(
        request, duration, stats, judged, run, document, events, out_dir, interrupted
    )
    result.investigation = inv_id
    if inv_id is not None and not request.bench:  # a bench run is logged by its phase
        _log(ctx, request, judged.matrix, out_dir, interrupted)
    if interrupted:
        _interrupted_answer(result, f"{interrupted}; recorded, not judged, in {out_dir}")
        return Outcome(result, False, False, interrupted=True)
    return Outcome(result, judged.passed, judged.health_passed)


def _judge(
    request: LoadRequest,
    targets: Targets,
    the_plan: Any,
    engine: Any,
    stats: dict[str, Any],
    out_dir: Path,
    interrupted: str | None = None,
) -> _Judged:
    """Every route's SLOs on the whole run (plus burst and soak checks), then by phase (not
    for an interrupted run: its matrix says "not judged")."""
    from perfinvest.core.load.results import ALL, phase_values
    from perfinvest.core.load.slo import judge, render_matrix

    values = {name: s.values() for name, s in stats.items()}
    verdicts = []
    for route in targets.routes:
        if route.name not in stats:  # never requested: every SLO fails on "no data"
            values[route.name] = {}
        verdicts.extend(judge(route.name, targets.route_slos(route), values[route.name]))
    verdicts.extend(_extra_verdicts(the_plan, values[ALL], engine.rss, out_dir))
    health = [r.name for r in targets.routes if r.health]
    health_passed = all(v.passed for v in verdicts if v.route in health) and all(
        values.get(name, {}).get("error_rate", 1.0) < HEALTH_MAX_ERROR_RATE for name in health
    )
    matrix = render_matrix(request.profile, verdicts, values, interrupted=interrupted)
    judge_phases = len(the_plan.segments) > 1 and not interrupted
    phases = phase_values(engine.dump, the_plan) if judge_phases else {}
    by_phase = [
        (phase, v)
        for phase, routes in phases.items()
        for route in targets.routes
        for v in judge(route.name, targets.route_slos(route), routes.get(route.name, {}))
    ]
    if by_phase:
        matrix += (
            "\n## By phase\n\n| phase | route | SLO | measured | verdict |\n|---|---|---|---|---|\n"
        )
        matrix += "".join(
            f"| {phase} | {v.route} | `{v.slo}` | {_show(v.value)} | "
            f"{'PASS' if v.passed else 'FAIL'} |\n"
            for phase, v in by_phase
        )
    phase_rows = [{"phase": phase, **_verdict_row(v)} for phase, v in by_phase]
    passed = all(v.passed for v in verdicts)
    return _Judged(values, verdicts, phase_rows, matrix, passed, health_passed)


def _verdict_row(verdict: Any) -> dict[str, Any]:
    return {
        "route": verdict.route,
        "slo": verdict.slo,
        "metric": verdict.metric,
        "measured": _num(verdict.value),
        "verdict": "PASS" if verdict.passed else "FAIL",
    }


#: The files of a load run's folder, as the run's artifacts.
_ARTIFACTS = (
    ("latency.csv", "per second and route: users, requests, failures, percentiles"),
    ("slo_matrix.md", "PASS/FAIL per route and SLO"),
    ("result.json", "plan, per-route values, verdicts, statuses, errors"),
    ("locust-dump.json", "Locust's histograms per route (exact, merged)"),
)


def _load_run(
    ctx: AppContext,
    request: LoadRequest,
    targets: Targets,
    the_plan: Any,
    duration: DurationDecision,
    engine: Any,
    stats: dict[str, Any],
    out_dir: Path,
    interrupted: str | None,
) -> Run:
    """The load run as a ``Run`` of the state: its environment, window and metrics."""
    from datetime import UTC, datetime

    from perfinvest.adapters.fingerprint import capture, config_hash
    from perfinvest.core.load.results import ALL, run_metrics
    from perfinvest.core.models import ArtifactRef

    dump = engine.dump
    failures = stats[ALL].failures
    started_at = datetime.fromtimestamp(float(dump.get("started_at") or 0), UTC)
    ended_at = datetime.fromtimestamp(float(dump.get("ended_at") or 0), UTC)
    # what makes two load runs the same experiment: the targets and the plan, not the time
    setup = json.dumps(
        {
            "urls": targets.urls,
            "routes": [r.model_dump() for r in targets.routes],
            "plan": the_plan.__dict__ | {"segments": None},
        },
        sort_keys=True,
        default=str,
    )
    environment = capture(
        ctx.repo_root,
        [*engine.command[:3], request.profile],
        {},
        config_hash(["load", setup], "duration", False, ".", {}),
        ctx.paths.state_dir,
    )
    return Run(
        run_id=f"load-{request.profile}-{started_at:%Y%m%dT%H%M%S%f}-1",
        environment=environment,
        started_at=started_at,
        ended_at=ended_at,
        mode="duration",
        requested_duration_s=the_plan.duration_s,
        duration_s=(ended_at - started_at).total_seconds(),
        exit_code=engine.exit_code,
        valid=interrupted is None,
        invalid_reason=f"interrupted: {interrupted}" if interrupted else None,
        compliant=duration.compliant,
        compliance_note=duration.note,
        metrics=run_metrics(stats),
        artifacts=[
            ArtifactRef(path=str(out_dir / name), description=desc) for name, desc in _ARTIFACTS
        ],
        load_errors=(
            f"{failures} of {stats[ALL].requests} requests failed: kept as a measurement"
            if failures
            else None
        ),
    )


def _document(
    request: LoadRequest,
    targets: Targets,
    the_plan: Any,
    duration: DurationDecision,
    engine: Any,
    stats: dict[str, Any],
    judged: _Judged,
    interrupted: str | None,
) -> dict[str, Any]:
    """result.json's body (the caller adds the folder, what was measured and the run)."""
    return {
        "kind": "perfinvest.load-result",
        "profile": request.profile,
        "shape": the_plan.shape,
        "duration_s": the_plan.duration_s,
        "peak_users": the_plan.peak_users,
        "rate_rps": the_plan.rate_rps,
        "steady_window_s": [the_plan.steady_start_s, the_plan.steady_end_s],
        "urls": targets.urls,
        "route_paths": {r.name: f"{r.method} {r.path}" for r in targets.routes},
        "workers": len(engine.workers)
        or (request.distribution.expect_workers if request.distribution.master else 0),
        "worker_requests": [w.get("requests", 0) for w in engine.workers],
        "interrupted": interrupted is not None,
        "interrupted_note": interrupted,
        "passed": None if interrupted else judged.passed,  # an interrupted run is never judged
        "health_passed": None if interrupted else judged.health_passed,
        "approved": request.approve,
        "routes": {
            name: {**{k: _num(x) for k, x in v.items()}, "statuses": stats[name].statuses}
            for name, v in judged.values.items()
            if name in stats
        },
        "verdicts": [] if interrupted else [_verdict_row(v) for v in judged.verdicts],
        "phase_verdicts": judged.phase_rows,
        "errors": engine.dump.get("errors", []),
        "compliant": duration.compliant,
        "compliance_note": duration.note,
    }


def _command_result(
    request: LoadRequest,
    duration: DurationDecision,
    stats: dict[str, Any],
    judged: _Judged,
    run: Run,
    document: dict[str, Any],
    events: list[Event],
    out_dir: Path,
    interrupted: str | None = None,
) -> CommandResult:
    """The findings (one summary line, each failed SLO, events) and the data of the command."""
    from perfinvest.core.load.results import ALL

    result = CommandResult(command="load run")
    agg = judged.values[ALL]
    failed = [row for row in document["verdicts"] if row["verdict"] == "FAIL"]
    verdict = (
        f"interrupted ({interrupted}, not judged)"
        if interrupted
        else ("PASS" if judged.passed else "FAIL")
    )
    result.findings = [
        f"{request.profile}: {stats[ALL].requests} requests, {agg['rps']:.1f} rps sustained, "
        f"p95 {_show(agg['p95_ms'])} ms, p99 {_show(agg['p99_ms'])} ms, error rate "
        f"{agg['error_rate']:.4f}: {verdict}",
        *(f"FAIL {r['route']}: {r['slo']} (measured {r['measured']})" for r in failed),
        *(e.message for e in events),
    ]
    if run.load_errors:
        result.findings.append(run.load_errors)
    if request.approve:
        result.findings.append(f"approved: {request.approve}")
    if not duration.compliant:
        result.findings.append(f"non-compliant: {duration.note}")
    result.findings.append(f"results in {out_dir}")
    result.data = {k: v for k, v in document.items() if k != "run"}
    result.data["matrix"] = judged.matrix
    result.data["runs"] = [run.model_dump(mode="json")]
    if request.bench:
        result.data["perf_metrics"] = _perf_metrics_block(run)
    return result


def _interrupted_answer(result: CommandResult, what: str) -> None:
    """Exit 130, ``error.kind`` interrupted, as any interrupted command; the data kept."""
    from perfinvest.core.errors import ExitCode

    result.ok = False
    result.exit_code = int(ExitCode.INTERRUPTED)
    result.error = {
        "code": int(ExitCode.INTERRUPTED),
        "kind": "interrupted",
        "message": f"interrupted: the load run was stopped, locust stopped, the lock released "
        f"({what})",
        "needs": [],
    }


#: A burst must sustain this share of its arrival rate (else requests were lost).
BURST_SHARE = 0.95


def _extra_verdicts(
    the_plan: Any, total: dict[str, float], rss: list[tuple[float, int]], out_dir: Path
) -> list[Any]:
    """Burst: the arrival rate sustained; soak: the target's RSS growth (the leak check)."""
    from perfinvest.core.load.slo import Verdict, growth_per_minute

    extra = []
    if the_plan.rate_rps is not None:
        floor = BURST_SHARE * the_plan.rate_rps
        rps = total.get("rps", math.nan)
        extra.append(
            Verdict(
                "all",
                f"arrival_rps >= {floor:g}",
                "arrival_rps",
                rps,
                not math.isnan(rps) and rps >= floor,
            )
        )
    if rss:
        lines = ["second,rss_bytes", *(f"{t:.2f},{b}" for t, b in rss)]
        (out_dir / "rss.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        growth = growth_per_minute([(t, float(b)) for t, b in rss])
        limit = the_plan.leak_mb_per_min
        extra.append(
            Verdict(
                "target",
                f"rss_growth_mb_per_min <= {limit:g}",
                "rss_growth_mb_per_min",
                growth,
                not math.isnan(growth) and growth <= limit,
            )
        )
    return extra


def _measured(ctx: AppContext, inv_id: str | None) -> dict[str, Any]:
    """What the run measured, as the investigation knew it when the run ended: its setup
    version and an experiment left open (its change in the working tree), for the exports
    (result.json files written before these keys exist fall back to the setup version)."""
    if inv_id is None or not ctx.store.has_active():
        return {"version": None, "experiment": None}
    inv = ctx.store.load_active()
    opened = [e.number for e in inv.experiments if e.state == "open"]
    return {"version": inv.setup.version, "experiment": opened[-1] if opened else None}


def _log(
    ctx: AppContext, request: LoadRequest, matrix: str, out_dir: Path, interrupted: str | None
) -> None:
    """Append the run to the investigation's log: its time, command, results folder, the
    matrix, any approval and an interruption."""
    from perfinvest.core.report.log import render_header, render_load_run

    store = ctx.store
    with store.locked():
        if not store.has_active():
            return
        inv = store.load_active()
        section = render_load_run(
            request.profile,
            ctx.now(),
            command_line(request),
            ctx.paths.relative(out_dir),
            matrix,
            approved=request.approve,
            interrupted=interrupted,
        )
        store.append_log(inv.id, render_header(inv), section)


def command_line(request: LoadRequest) -> str:
    """The command as it was given (the options that change the run; not --approve, which
    the log states in full)."""
    import shlex

    argv = ["perfinvest", *request.command.split()]
    if request.command == "load run":
        argv += ["--profile", request.profile]
    argv += ["--targets", str(request.targets)]
    for flag, value in (
        ("--users", request.users),
        ("--duration", request.duration_s),
        ("--rate", request.rate_rps),
        ("--allow-short", request.allow_short),
    ):
        if value is not None:
            argv += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
    dist = request.distribution
    if dist.workers:
        argv += ["--workers", str(dist.workers)]
    if dist.master:
        argv += ["--master", "--expect-workers", str(dist.expect_workers)]
    text = shlex.join(argv)
    return text if request.command == "load run" else f"{text} (profile {request.profile})"


def _perf_metrics_block(run: Run) -> str:
    """The metrics as a PERF_METRICS block, for a benchmark command that runs `load bench`."""
    block: dict[str, Any] = {}
    for metric in run.metrics:
        target = block if metric.scenario is None else block.setdefault(metric.scenario, {})
        target[metric.name] = {
            "value": metric.value,
            "unit": metric.unit,
            **({"direction": metric.direction} if metric.direction else {}),
        }
    return "PERF_METRICS_START\n" + json.dumps(block) + "\nPERF_METRICS_END"


def _num(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 6)  # NaN: no data


def _show(value: float | None) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.4g}"
