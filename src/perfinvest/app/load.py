"""``perfinvest load``: a targets file, a Locust run per profile, the SLO matrix, as runs.

One run holds the host-wide benchmark lock, obeys the duration policy (short runs need a
short-run policy or ``--allow-short``), checks its approval gates first, and writes
``load-<profile>-<time>/`` (latency.csv, slo_matrix.md, result.json, runs.json) under the
investigation's artifacts (or ``perf/load/`` outside one). Failed requests are metrics.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfinvest.adapters.load.engine import Distribution
from perfinvest.app.benchmarking import MeasureOptions, benchmark_lock
from perfinvest.app.context import AppContext
from perfinvest.app.result import CommandResult
from perfinvest.core.errors import ExitCode, PerfError, needs_input, usage_error
from perfinvest.core.load_targets import Targets
from perfinvest.core.models import Event, Run
from perfinvest.core.policy import DurationDecision, decide_duration
from perfinvest.store.atomic import atomic_write_text

DEFAULT_TARGETS = Path("perf/targets.yaml")
SUITE_ORDER = ("smoke", "baseline", "ramp", "spike", "soak", "burst")
GATES = ("smoke",)  # a failing gate (or the health check) halts the suite
HEALTH_MAX_ERROR_RATE = 0.01
REQUEST_TIMEOUT_S = 10.0

ProgressLine = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class LoadRequest:
    targets: Path = DEFAULT_TARGETS
    profile: str = "baseline"
    users: int | None = None
    duration_s: float | None = None
    rate_rps: float | None = None
    allow_short: str | None = None
    approve: str | None = None
    distribution: Distribution = field(default_factory=Distribution)
    bench: bool = False  # inside a measured run: no lock of its own, metrics on stdout


def bench_command(command: str | None, profile: str | None, targets: str | None) -> str:
    """The benchmark command of ``start --load-profile``: this perfinvest's ``load bench``."""
    import shlex
    import sys

    if command is not None:
        raise usage_error("give either --command or --load-profile, not both")
    if profile is None:
        raise usage_error("--targets goes with --load-profile NAME (e.g. --load-profile baseline)")
    path = targets or str(DEFAULT_TARGETS)
    from perfinvest.adapters.load.targets_file import load_targets
    from perfinvest.core.load_profiles import resolve_profile

    resolve_profile(load_targets(Path(path)), profile)  # refuse a bad file or profile now
    argv = [sys.executable, "-m", "perfinvest", "load", "bench", "--profile", profile]
    return shlex.join([*argv, "--targets", path])


_NEGATE = {"<=": ">", "<": ">=", ">=": "<", ">": "<="}
_RUN_METRIC = {"rps": "throughput_rps"}


def slo_fail_when(command: Sequence[str], cwd: Path) -> tuple[str, ...]:
    """For a ``load bench`` benchmark: its targets' default SLOs as failure conditions.

    ``p95_ms <= 150`` becomes ``p95_ms>150``: breaking point's ``--fail-when`` default when
    the investigation measures a load profile. Empty for any other command.
    """
    from perfinvest.adapters.load.targets_file import load_targets
    from perfinvest.core.slo import parse_slo

    argv = list(command)
    if "load" not in argv or "bench" not in argv:
        return ()
    path = Path(argv[argv.index("--targets") + 1]) if "--targets" in argv else DEFAULT_TARGETS
    targets = load_targets(path if path.is_absolute() else cwd / path)
    out = []
    for text in targets.slo_defaults:
        slo = parse_slo(text)
        if slo.op in _NEGATE and slo.metric != "requests":
            out.append(f"{_RUN_METRIC.get(slo.metric, slo.metric)}{_NEGATE[slo.op]}{slo.limit:g}")
    return tuple(out)


def _targets_path(ctx: AppContext, path: Path) -> Path:
    return path if path.is_absolute() else (Path.cwd() / path)


def load_init(ctx: AppContext, path: Path, force: bool) -> CommandResult:
    from perfinvest.adapters.load.targets_file import TEMPLATE

    target = _targets_path(ctx, path)
    if target.exists() and not force:
        raise usage_error(f"{target} exists; pass --force to overwrite it")
    atomic_write_text(target, TEMPLATE)
    result = CommandResult(command="load init")
    result.findings = [f"wrote {target}: edit base_url and routes, then `perfinvest load check`"]
    result.data = {"path": str(target)}
    result.next = "perfinvest load check"
    return result


def load_check(ctx: AppContext, path: Path) -> CommandResult:
    from perfinvest.adapters.load.engine import read_rows
    from perfinvest.adapters.load.targets_file import load_targets
    from perfinvest.core.load_profiles import plan, resolve_profile
    from perfinvest.core.load_targets import BUILTIN_SHAPES

    target = _targets_path(ctx, path)
    targets = load_targets(target)
    for route in targets.routes:
        read_rows(route, target.parent)
    profiles = sorted({*BUILTIN_SHAPES, *targets.profiles})
    plans = {name: plan(name, resolve_profile(targets, name)) for name in profiles}
    result = CommandResult(command="load check")
    result.findings = [
        f"{target}: valid: {len(targets.routes)} route(s), profiles {', '.join(profiles)}"
    ]
    result.data = {
        "path": str(target),
        "urls": targets.urls,
        "routes": {r.name: targets.route_slos(r) for r in targets.routes},
        "profiles": {
            n: {"shape": p.shape, "duration_s": p.duration_s, "peak_users": p.peak_users}
            for n, p in plans.items()
        },
    }
    result.next = "perfinvest load run --profile smoke"
    return result


def _duration(ctx: AppContext, request: LoadRequest, seconds: float) -> DurationDecision:
    policy = None
    if ctx.store.has_active():
        short = ctx.store.load_active().setup.short_run_policy
        policy = short.reason if short else None
    return decide_duration(
        seconds,
        short_policy=policy or request.allow_short,
        env_allow_short=ctx.environ.get("PERF_ALLOW_SHORT") == "1" or request.bench,
        allow_flag="--allow-short REASON",
    )


def load_run(
    ctx: AppContext,
    request: LoadRequest,
    options: MeasureOptions,
    on_progress: ProgressLine | None = None,
) -> CommandResult:
    """One profile: gates, lock, Locust, then the matrix and the run written to state."""
    outcome = _run_profile(ctx, request, options, on_progress)
    return outcome.result


@dataclass
class _Outcome:
    result: CommandResult
    passed: bool
    health_passed: bool


def _run_profile(
    ctx: AppContext,
    request: LoadRequest,
    options: MeasureOptions,
    on_progress: ProgressLine | None,
) -> _Outcome:
    from perfinvest.adapters.load.engine import check_reachable, plan_document
    from perfinvest.adapters.load.targets_file import load_targets
    from perfinvest.core.load_profiles import plan, resolve_profile
    from perfinvest.core.load_results import approvals_needed

    if request.approve is not None and not request.approve.strip():
        raise usage_error('--approve needs a reason, e.g. --approve "staging, agreed with ops"')
    path = _targets_path(ctx, request.targets)
    targets = load_targets(path)
    the_plan = plan(
        request.profile,
        resolve_profile(targets, request.profile),
        users=request.users,
        duration_s=request.duration_s or options.duration_s,
        rate_rps=request.rate_rps,
    )
    reasons = approvals_needed(targets.urls, targets.allow_hosts, the_plan)
    if reasons and request.approve is None:
        raise needs_input(
            f'this load run needs approval: {"; ".join(reasons)}; pass --approve "reason" '
            "(recorded in the log)",
            needs=['--approve "reason"'],
        )
    duration = _duration(ctx, request, the_plan.duration_s)
    document = plan_document(targets, the_plan, path.parent, REQUEST_TIMEOUT_S)
    if request.distribution.master_host is None:
        for url in targets.urls:
            check_reachable(url)
    inv_id = ctx.store.load_active().id if ctx.store.has_active() else None
    started = ctx.now()
    out_dir = _output_dir(ctx, inv_id, request, started.strftime("%Y%m%dT%H%M%S"))
    events: list[Event] = []
    try:
        # a bench run is inside a measuring phase (it holds the lock); a remote worker
        # generates load for a master that holds it on its own machine
        worker = request.distribution.master_host is not None
        if request.bench or worker or ctx.environ.get("PERFINVEST_RUN_TOKEN"):
            engine = _engine(document, the_plan, out_dir, request, options, on_progress)
        else:
            label = f"load {request.profile}: {', '.join(targets.urls)}"
            with benchmark_lock(ctx, inv_id, label, events):
                engine = _engine(document, the_plan, out_dir, request, options, on_progress)
    except KeyboardInterrupt:
        raise PerfError(
            "interrupted: the load run was stopped, locust killed, the lock released",
            ExitCode.INTERRUPTED,
            kind="interrupted",
        ) from None
    if request.distribution.master_host is not None:
        result = CommandResult(command="load run", investigation=inv_id)
        sent = sum(int(w.get("requests", 0)) for w in engine.workers)
        result.findings = [f"worker finished (exit {engine.exit_code}): sent {sent} requests"]
        result.data = {
            "worker": True,
            "exit_code": engine.exit_code,
            "requests": sent,
            "failures": sum(int(w.get("failures", 0)) for w in engine.workers),
        }
        return _Outcome(result, True, True)
    return _finish(ctx, request, targets, the_plan, duration, engine, out_dir, events, inv_id)


def _engine(
    document: dict[str, Any],
    the_plan: Any,
    out_dir: Path,
    request: LoadRequest,
    options: MeasureOptions,
    on_progress: ProgressLine | None,
) -> Any:
    from perfinvest.adapters.load.engine import run_locust
    from perfinvest.adapters.load.rss import RssSampler, container_pid

    sampler = None
    if the_plan.shape == "soak" and (the_plan.pid or the_plan.container):
        sampler = RssSampler(the_plan.pid or container_pid(the_plan.container))
        sampler.start()
    try:
        engine = run_locust(
            document,
            the_plan,
            out_dir,
            distribution=request.distribution,
            on_progress=on_progress,
            stop=options.stop,
        )
    finally:
        samples = sampler.stop() if sampler is not None else []
    engine.rss = samples
    return engine


def _output_dir(ctx: AppContext, inv_id: str | None, request: LoadRequest, stamp: str) -> Path:
    from perfinvest.core.ids import check_version

    if request.bench and ctx.environ.get("PERF_ARTIFACT_DIR"):
        return Path(ctx.environ["PERF_ARTIFACT_DIR"]) / f"load-{request.profile}"
    root = ctx.paths.artifacts(inv_id) if inv_id else ctx.paths.perf_dir / "load"
    name = f"load-{check_version(request.profile)}-{stamp}"
    path, n = root / name, 1
    while path.exists():
        n += 1
        path = root / f"{name}-{n}"
    return path


def _finish(
    ctx: AppContext,
    request: LoadRequest,
    targets: Targets,
    the_plan: Any,
    duration: DurationDecision,
    engine: Any,
    out_dir: Path,
    events: list[Event],
    inv_id: str | None,
) -> _Outcome:
    from datetime import UTC, datetime

    from perfinvest.core.load_results import ALL, csv_rows, route_stats, run_metrics
    from perfinvest.core.models import ArtifactRef
    from perfinvest.core.slo import judge, render_matrix

    dump = engine.dump
    stats = route_stats(dump, the_plan)
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
    passed = all(v.passed for v in verdicts)
    matrix = render_matrix(request.profile, verdicts, values)
    (out_dir / "slo_matrix.md").write_text(matrix, encoding="utf-8")
    (out_dir / "latency.csv").write_text("\n".join(csv_rows(dump)) + "\n", encoding="utf-8")
    metrics = run_metrics(stats)
    failures = stats[ALL].failures
    started_at = datetime.fromtimestamp(float(dump.get("started_at") or 0), UTC)
    ended_at = datetime.fromtimestamp(float(dump.get("ended_at") or 0), UTC)
    run = Run(
        run_id=f"load-{request.profile}-{started_at:%Y%m%dT%H%M%S%f}-1",
        started_at=started_at,
        ended_at=ended_at,
        mode="duration",
        requested_duration_s=the_plan.duration_s,
        duration_s=(ended_at - started_at).total_seconds(),
        exit_code=engine.exit_code,
        compliant=duration.compliant,
        compliance_note=duration.note,
        metrics=metrics,
        artifacts=[
            ArtifactRef(path=str(out_dir / name), description=desc)
            for name, desc in (
                ("latency.csv", "per second and route: users, requests, failures, percentiles"),
                ("slo_matrix.md", "PASS/FAIL per route and SLO"),
                ("result.json", "plan, per-route values, verdicts, statuses, errors"),
                ("locust-dump.json", "Locust's histograms per route (exact, merged)"),
            )
        ],
        load_errors=(
            f"{failures} of {stats[ALL].requests} requests failed: kept as a measurement"
            if failures
            else None
        ),
    )
    rows = [
        {
            "route": v.route,
            "slo": v.slo,
            "metric": v.metric,
            "measured": _num(v.value),
            "verdict": "PASS" if v.passed else "FAIL",
        }
        for v in verdicts
    ]
    document = {
        "kind": "perfinvest.load-result",
        "profile": request.profile,
        "shape": the_plan.shape,
        "duration_s": the_plan.duration_s,
        "peak_users": the_plan.peak_users,
        "steady_window_s": [the_plan.steady_start_s, the_plan.steady_end_s],
        "urls": targets.urls,
        "workers": len(engine.workers)
        or (request.distribution.expect_workers if request.distribution.master else 0),
        "worker_requests": [w.get("requests", 0) for w in engine.workers],
        "passed": passed,
        "health_passed": health_passed,
        "approved": request.approve,
        "routes": {
            name: {**{k: _num(x) for k, x in v.items()}, "statuses": stats[name].statuses}
            for name, v in values.items()
            if name in stats
        },
        "verdicts": rows,
        "errors": dump.get("errors", []),
        "compliant": duration.compliant,
        "compliance_note": duration.note,
        "output_dir": str(out_dir),
        "run": run.model_dump(mode="json"),
    }
    atomic_write_text(out_dir / "result.json", json.dumps(document, indent=2) + "\n")
    atomic_write_text(out_dir / "runs.json", json.dumps([run.model_dump(mode="json")], indent=2))
    result = CommandResult(command="load run", investigation=inv_id)
    agg = values[ALL]
    result.findings = [
        f"{request.profile}: {stats[ALL].requests} requests, {agg['rps']:.1f} rps sustained, "
        f"p95 {_show(agg['p95_ms'])} ms, p99 {_show(agg['p99_ms'])} ms, error rate "
        f"{agg['error_rate']:.4f}: {'PASS' if passed else 'FAIL'}",
        *(
            f"FAIL {r['route']}: {r['slo']} (measured {r['measured']})"
            for r in rows
            if r["verdict"] == "FAIL"
        ),
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
    result.data["matrix"] = matrix
    result.data["runs"] = [run.model_dump(mode="json")]
    if inv_id is not None and not request.bench:  # a bench run is logged by its phase
        _log(ctx, inv_id, request, matrix)
    if request.bench:
        result.data["perf_metrics"] = _perf_metrics_block(run)
    return _Outcome(result, passed, health_passed)


#: A burst must sustain this share of its arrival rate (else requests were lost).
BURST_SHARE = 0.95


def _extra_verdicts(
    the_plan: Any, total: dict[str, float], rss: list[tuple[float, int]], out_dir: Path
) -> list[Any]:
    """Burst: the arrival rate sustained; soak: the target's RSS growth (the leak check)."""
    from perfinvest.core.slo import Verdict, growth_per_minute

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


def _log(ctx: AppContext, inv_id: str, request: LoadRequest, matrix: str) -> None:
    """Append the matrix (and any approval, verbatim) to the investigation's log."""
    approval = f"\nApproved: {request.approve}\n" if request.approve else ""
    header = f"## load {request.profile} ({ctx.now():%Y-%m-%d %H:%M:%S} UTC)"
    ctx.store.append_log(inv_id, header, approval + "\n" + matrix)


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


def _show(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.4g}"


def load_suite(
    ctx: AppContext,
    request: LoadRequest,
    options: MeasureOptions,
    profiles: Sequence[str] = SUITE_ORDER,
    on_progress: ProgressLine | None = None,
) -> CommandResult:
    """The profiles in order; halts when smoke fails or the health gate fails."""
    results: list[dict[str, Any]] = []
    findings: list[str] = []
    halted: str | None = None
    for name in profiles:
        from dataclasses import replace

        outcome = _run_profile(ctx, replace(request, profile=name), options, on_progress)
        results.append(
            {
                "profile": name,
                "passed": outcome.passed,
                "health_passed": outcome.health_passed,
                "output_dir": outcome.result.data.get("output_dir"),
                "verdicts": outcome.result.data.get("verdicts", []),
            }
        )
        findings.append(outcome.result.findings[0])
        if name in GATES and not outcome.passed:
            halted = f"halted after {name}: the smoke gate failed"
        elif not outcome.health_passed:
            halted = f"halted after {name}: the health gate failed"
        if halted:
            findings.append(halted)
            break
    result = CommandResult(
        command="load suite",
        investigation=ctx.store.load_active().id if ctx.store.has_active() else None,
    )
    result.findings = findings
    result.data = {
        "profiles": results,
        "halted": halted,
        "passed": halted is None and all(r["passed"] for r in results),
    }
    return result
