"""``perfinvest load``: a targets file, a Locust run per profile, the SLO matrix, as runs.

One run holds the host-wide benchmark lock, obeys the duration policy (short runs need a
short-run policy or ``--allow-short``), checks its approval gates first, and writes
``load-<profile>-<time>/`` (latency.csv, slo_matrix.md, result.json, runs.json) under the
investigation's artifacts (or ``<state_dir>/perf/load/`` outside one). Failed requests are
metrics; an interrupted run is recorded from what Locust dumped, marked, never judged.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from perfinvest.app.context import AppContext
from perfinvest.app.load.record import Outcome, finish
from perfinvest.app.load.request import LoadRequest, ProgressLine
from perfinvest.app.load.targets import targets_path
from perfinvest.app.measuring.benchmark import MeasureOptions, benchmark_lock
from perfinvest.app.result import CommandResult, regression_failure
from perfinvest.core.errors import ExitCode, PerfError, needs_input, usage_error
from perfinvest.core.models import Event
from perfinvest.core.policy import DurationDecision, decide_duration

SUITE_ORDER = ("smoke", "baseline", "ramp", "spike", "soak", "burst")
GATES = ("smoke",)  # a failing gate (or the health check) halts the suite
REQUEST_TIMEOUT_S = 10.0


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
    *,
    enforce: bool = False,
) -> CommandResult:
    """One profile: gates, lock, Locust, then the matrix and the run written to state.
    Warn-only: a FAIL row exits 0 unless ``enforce`` (exit 8, as ``budget check``).
    Interrupted: the partial run recorded, marked, not judged; exit 130."""
    with _located(ctx):
        outcome = _run_profile(ctx, request, options, on_progress)
    if enforce and not outcome.passed and not outcome.interrupted:
        failed = [
            f"{v['route']} {v['slo']}"
            for v in outcome.result.data.get("verdicts", [])
            if v["verdict"] == "FAIL"
        ]
        regression_failure(outcome.result, f"SLO failed: {', '.join(failed) or request.profile}")
    return outcome.result


@contextmanager
def _located(ctx: AppContext) -> Iterator[None]:
    """A refusal or failure names the active investigation, as a success does."""
    try:
        yield
    except PerfError as error:
        if not error.context and ctx.store.has_active():
            with suppress(PerfError):  # an unreadable state: the error said enough
                inv = ctx.store.load_active()
                error.context = {
                    "investigation": inv.id,
                    "baseline": inv.baseline.version if inv.baseline else None,
                }
        raise


def _run_profile(
    ctx: AppContext,
    request: LoadRequest,
    options: MeasureOptions,
    on_progress: ProgressLine | None,
) -> Outcome:
    from perfinvest.adapters.load.engine import check_reachable, plan_document
    from perfinvest.adapters.load.targets_file import load_targets
    from perfinvest.core.load.profiles import plan, resolve_profile
    from perfinvest.core.load.results import approvals_needed

    if request.approve is not None and not request.approve.strip():
        raise usage_error('--approve needs a reason, e.g. --approve "staging, agreed with ops"')
    path = targets_path(ctx, request.targets)
    targets = load_targets(path)
    profile = resolve_profile(targets, request.profile)
    users, rate = request.users, request.rate_rps
    if request.param_value is not None:  # breaking point: a burst searches its arrival rate
        if (profile.shape or request.profile) == "burst":
            rate = rate if rate is not None else request.param_value
        elif users is None:
            users = max(1, round(request.param_value))
    the_plan = plan(
        request.profile,
        profile,
        users=users,
        duration_s=request.duration_s or options.duration_s,
        rate_rps=rate,
    )
    faults = [r.name for r in targets.routes if r.fault]
    reasons = approvals_needed(targets.urls, targets.allow_hosts, the_plan, faults)
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
    except KeyboardInterrupt:  # before Locust wrote anything to record
        raise _interrupted() from None
    if request.distribution.master_host is not None:
        if engine.interrupted:  # a worker holds no results: its master records the run
            raise _interrupted()
        result = CommandResult(command="load run", investigation=inv_id)
        sent = sum(int(w.get("requests", 0)) for w in engine.workers)
        result.findings = [f"worker finished (exit {engine.exit_code}): sent {sent} requests"]
        result.data = {
            "worker": True,
            "exit_code": engine.exit_code,
            "requests": sent,
            "failures": sum(int(w.get("failures", 0)) for w in engine.workers),
        }
        return Outcome(result, True, True)
    from perfinvest.app.experiments.restoring import SignalHold

    hold = SignalHold()  # a Ctrl-C now would only cut the record in half: it waits
    hold.start()
    try:
        outcome = finish(ctx, request, targets, the_plan, duration, engine, out_dir, events, inv_id)
    finally:
        caught = hold.release()
    if caught:
        outcome.result.findings.append(
            f"{' and '.join(dict.fromkeys(caught))} arrived while the run was being recorded: "
            "it was recorded whole"
        )
    return outcome


def _interrupted() -> PerfError:
    return PerfError(
        "interrupted: the load run was stopped, locust killed, the lock released",
        ExitCode.INTERRUPTED,
        kind="interrupted",
    )


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

    if request.bench and ctx.environ.get("PERF_ARTIFACT_DIR"):
        return Path(ctx.environ["PERF_ARTIFACT_DIR"]) / f"load-{request.profile}"
    root = ctx.paths.artifacts(inv_id) if inv_id else ctx.paths.perf_dir / "load"
    name = f"load-{request.profile}-{stamp}"  # a built-in or validated profile name
    path, n = root / name, 1
    while path.exists():
        n += 1
        path = root / f"{name}-{n}"
    return path


def load_suite(
    ctx: AppContext,
    request: LoadRequest,
    options: MeasureOptions,
    profiles: Sequence[str] = SUITE_ORDER,
    on_progress: ProgressLine | None = None,
    *,
    enforce: bool = False,
) -> CommandResult:
    """The profiles in order; halts when smoke fails or the health gate fails; with
    ``enforce`` a failed SLO in any profile (or a halt) exits 8."""
    results: list[dict[str, Any]] = []
    findings: list[str] = []
    halted: str | None = None
    interrupted: CommandResult | None = None
    for name in profiles:
        from dataclasses import replace

        with _located(ctx):
            outcome = _run_profile(
                ctx, replace(request, profile=name, command="load suite"), options, on_progress
            )
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
        if outcome.interrupted:
            interrupted, halted = outcome.result, f"interrupted during {name}"
        elif name in GATES and not outcome.passed:
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
    if interrupted is not None:
        result.ok, result.exit_code, result.error = False, interrupted.exit_code, interrupted.error
    elif enforce and not result.data["passed"]:
        failed = [r["profile"] for r in results if not r["passed"]]
        regression_failure(result, halted or f"SLO failed in {', '.join(failed)}")
    return result
