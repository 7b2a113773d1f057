"""Phase 3, breaking point: a binary search over a parameter, one measured run per probe.

The search itself is pure (``core/breaking/search.py``); this module runs each probe through the
measurement engine (``run_once``: benchmark contract, duration policy, artifacts) with the
parameter in the environment, all under the host-wide benchmark lock (rule 1), and records
the result, the probe table and the rule-4 approval in state, log and checkpoint. The
search's noise is the baseline's run-to-run CV of each threshold metric; each probe's
verdict goes to ``on_probe`` as one line (the CLI prints it on stderr).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from perfinvest.app.context import AppContext
from perfinvest.app.measuring.benchmark import (
    MeasureOptions,
    benchmark_lock,
    benchmark_of,
    duration_for,
    session_for,
)
from perfinvest.app.measuring.measure import (
    Benchmark,
    Session,
    resolve_tool_mode,
    run_once,
    with_env,
)
from perfinvest.app.result import CommandResult
from perfinvest.app.session import PhaseRequest, PhaseWork, run_phase_steps, skip_phase
from perfinvest.core.breaking.search import (
    DEFAULT_RESOLUTION_RULE,
    Search,
    baseline_noise,
    check_range,
    default_resolution,
    format_value,
    probe_line,
    widens,
)
from perfinvest.core.breaking.thresholds import Threshold, classify_probe, parse_thresholds
from perfinvest.core.errors import ExitCode, PerfError, benchmark_failed, refused, usage_error
from perfinvest.core.models import (
    BreakingPointResult,
    Event,
    Investigation,
    Probe,
    ProbeCount,
    Run,
)
from perfinvest.core.phases import Phase
from perfinvest.core.policy import DurationDecision
from perfinvest.core.stats.baselines import metric_key, run_values
from perfinvest.store.searches import keep_search

#: An invalid probe (too short, no metrics) is measured once more before the search stops.
INVALID_RETRIES = 1


@dataclass(frozen=True)
class BreakingPointOptions:
    minimum: float | None
    maximum: float | None
    fail_when: tuple[str, ...]
    resolution: float | None = None  # None: DEFAULT_RESOLUTION_RULE
    param_env: str | None = None
    approve_expansion: str | None = None
    allow_no_metrics: str | None = None
    measure: MeasureOptions = field(default_factory=MeasureOptions)
    on_probe: Callable[[str], None] | None = None  # one progress line per probe (stderr)


@dataclass
class _Plan:
    search: Search
    benchmark: Benchmark
    session: Session
    duration: DurationDecision
    parameter: str
    thresholds: list[Threshold]
    expansion: str | None
    resolution_rule: str


@dataclass
class _Outcome:
    search: Search
    probes: list[Probe] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    interrupted: bool = False
    stopped: str | None = None  # why the search stopped early (an invalid probe twice)


def _baseline_values(ctx: AppContext, inv: Investigation) -> dict[str, list[float]]:
    """Each metric's value in the baseline's valid runs: its names and its noise."""
    if inv.baseline is None:  # the phase machine refuses before this; keep mypy honest
        raise refused("breaking-point needs a baseline: run `perfinvest baseline` first")
    return run_values(ctx.store.load_baseline(inv.baseline.version).runs)


def _probe_of(run: Run, value: float, stage: str, passed: bool | None, why: str) -> Probe:
    return Probe(
        value=value,
        passed=passed,
        reason=why,
        stage=stage,
        run_id=run.run_id,
        duration_s=round(run.duration_s, 3),
        exit_code=run.exit_code,
        metrics={metric_key(m): m.value for m in run.metrics},
    )


def probe_table(probes: list[Probe], metrics: list[str] | None = None) -> list[str]:
    """The probe history as aligned rows (one evidence line each in the reviewer's log).

    ``metrics`` (the thresholds' metrics) are shown per probe: the values the verdict and
    the noise comparison were made on.
    """
    names = list(dict.fromkeys(metrics or []))
    rows = [f"{'#':>3}  {'stage':<12} {'value':>10}  {'verdict':<7}  detail"]
    for number, probe in enumerate(probes, 1):
        verdict = {True: "pass", False: "FAIL", None: "invalid"}[probe.passed]
        shown = [f"{n}={probe.metrics[n]:.6g}" for n in names if n in probe.metrics]
        rows.append(
            f"{number:>3}  {probe.stage:<12} {format_value(probe.value):>10}  {verdict:<7}  "
            + "; ".join([*shown, probe.reason])
        )
    return rows


def _load_fail_when(ctx: AppContext, options: BreakingPointOptions) -> BreakingPointOptions:
    """A load investigation without --fail-when: its targets file's SLOs are the conditions."""
    if options.fail_when or not ctx.store.has_active():
        return options
    from perfinvest.app.load.targets import slo_fail_when

    setup = ctx.store.load_active().setup
    fail_when = slo_fail_when(setup.command, ctx.repo_root / setup.workdir)
    return replace(options, fail_when=fail_when)


def _prepare(ctx: AppContext, inv: Investigation, options: BreakingPointOptions) -> _Plan:
    """The options checked against the investigation (after the phase's preconditions)."""
    if options.minimum is None or options.maximum is None:
        raise usage_error("give the range to search: --min VALUE --max VALUE")
    minimum, maximum = options.minimum, options.maximum
    check_range(minimum, maximum, options.resolution)
    resolution = options.resolution or default_resolution(minimum, maximum)
    rule = "given" if options.resolution else f"default: {DEFAULT_RESOLUTION_RULE}"
    if not options.fail_when:
        raise usage_error('give at least one --fail-when condition, e.g. --fail-when "p95_ms>150"')
    for flag, text in (
        ("--approve-expansion", options.approve_expansion),
        ("--allow-no-metrics", options.allow_no_metrics),
    ):
        if text is not None and not text.strip():
            raise usage_error(f"{flag} needs a reason: say why in a few words")

    values = _baseline_values(ctx, inv)
    thresholds = parse_thresholds(options.fail_when, values)
    noise = baseline_noise({t.metric: values[t.metric] for t in thresholds})
    previous = inv.breaking_point
    requested = (minimum, maximum)
    expansion = None
    if previous is not None and widens((previous.minimum, previous.maximum), requested):
        if options.approve_expansion is None:
            raise refused(
                f"[{minimum:g}, {maximum:g}] widens the earlier range "
                f"[{previous.minimum:g}, {previous.maximum:g}] (rule 4, narrow first): "
                'add --approve-expansion "why" to widen it',
                needs=['--approve-expansion "reason"'],
            )
        expansion = options.approve_expansion
    duration = duration_for(ctx, inv, options.measure, probe=True)
    return _Plan(
        Search(minimum, maximum, resolution, thresholds, noise),
        benchmark_of(ctx, inv),
        session_for(ctx, inv, options.measure, duration),
        duration,
        options.param_env or inv.setup.param_env,
        thresholds,
        expansion,
        rule,
    )


def _measure_value(
    plan: _Plan,
    options: BreakingPointOptions,
    outcome: _Outcome,
    probed: Benchmark,
    git: tuple[str | None, bool | None],
    value: float,
) -> bool | None:
    """One value measured (an invalid probe once more); its verdict, None when invalid."""
    search = plan.search
    say = options.on_probe or (lambda line: None)
    shown = format_value(value)
    benchmark = with_env(probed, {plan.parameter: shown})
    passed: bool | None = None
    for _attempt in range(1 + INVALID_RETRIES):
        number = len(outcome.probes) + 1
        run = run_once(benchmark, plan.session, f"probe-{shown}", number, search.bound, git)
        metrics = {metric_key(m): m.value for m in run.metrics}
        passed, why = classify_probe(
            invalid_reason=run.invalid_reason,
            exit_code=run.exit_code,
            metrics=metrics,
            thresholds=plan.thresholds,
            allow_no_metrics=options.allow_no_metrics is not None,
            load_errors=run.load_errors,
        )
        outcome.probes.append(_probe_of(run, value, search.stage, passed, why))
        say(
            probe_line(
                number,
                search.bound,
                plan.parameter,
                value,
                metrics,
                (passed, why),
                plan.thresholds,
                search.stage,
            )
        )
        if passed is not None or why.startswith("interrupted"):
            break
    return passed


def _execute(ctx: AppContext, plan: _Plan, options: BreakingPointOptions) -> _Outcome:
    """Every probe the search asks for, under the benchmark lock."""
    from perfinvest.adapters import fingerprint

    search = plan.search
    outcome = _Outcome(search)
    session = plan.session
    say = options.on_probe or (lambda line: None)
    noise = ", ".join(f"{k} CV {v:.1%}" for k, v in search.noise.items()) or "none measured"
    say(
        f"breaking-point: {plan.parameter} in [{format_value(search.minimum)}, "
        f"{format_value(search.maximum)}], resolution {format_value(search.resolution)} "
        f"({plan.resolution_rule}), at most {search.bound} probes; baseline noise: {noise}"
    )
    try:
        with benchmark_lock(ctx, session.investigation_id, "breaking-point", outcome.events):
            git = fingerprint.git_state(session.repo_root, session.state_dir)
            # the parameter is an environment variable: the tool mode holds for every probe
            probed = resolve_tool_mode(plan.benchmark, session.progress)
            while (value := search.next_value()) is not None:
                passed = _measure_value(plan, options, outcome, probed, git, value)
                if passed is None:
                    last = outcome.probes[-1].reason
                    if last.startswith("interrupted"):
                        outcome.interrupted = True
                    else:
                        outcome.stopped = (
                            f"the probe at {format_value(value)} was invalid twice ({last}); "
                            "the search stopped without a result"
                        )
                    break
                grown = bool(search.bound_note)
                search.record(passed, outcome.probes[-1].metrics)
                if search.bound_note and not grown:
                    say(f"breaking-point: {search.bound_note}")
    except KeyboardInterrupt:
        outcome.interrupted = True
    return outcome


def _incomplete(
    outcome: _Outcome, table: list[str], base: dict[str, object], compliant: bool
) -> PhaseWork:
    error = (
        PerfError(
            "interrupted: the probe was stopped, its processes killed, the lock "
            "released; no breaking point recorded",
            ExitCode.INTERRUPTED,
            kind="interrupted",
        )
        if outcome.interrupted
        else benchmark_failed(outcome.stopped or "")
    )
    return PhaseWork(
        summary=f"breaking-point search incomplete after {len(outcome.probes)} probe(s): "
        + error.message,
        outcome="failed",
        evidence=table,
        non_compliant=not compliant,
        error=error,
        data={"breaking_point": base},
    )


def _summary(result: BreakingPointResult) -> str:
    shown = format_value
    verdict = (result.verdict or "").replace("_", " ")
    if result.breaking_point is not None and result.last_passing is not None:
        return (
            f"breaking point in [{shown(result.last_passing)}, "
            f"{shown(result.breaking_point)}] (last pass "
            f"{shown(result.last_passing)}, first fail "
            f"{shown(result.breaking_point)}"
            + ("; widened: a re-check disagreed" if result.widened else "")
            + (", non-monotonic" if not result.monotonic else "")
            + ")"
        )
    if result.breaking_point is None:
        return f"no breaking point: {verdict}"
    return f"breaking point at or below {shown(result.breaking_point)} ({verdict})"


def _apply(
    ctx: AppContext, inv: Investigation, outcome: _Outcome, options: BreakingPointOptions
) -> PhaseWork:
    """The search's result recorded in state, log and artifact (or why there is none)."""
    plan_parameter = options.param_env or inv.setup.param_env
    inv.events.extend(outcome.events)
    search = outcome.search
    minimum, maximum = search.minimum, search.maximum
    probes = outcome.probes
    used = sum(1 for p in probes if p.passed is not None)
    table = probe_table(probes, [t.metric for t in search.thresholds])
    duration = duration_for(ctx, inv, options.measure, probe=True)
    counts = [ProbeCount(value=v, passes=p, fails=f) for v, (p, f) in search.counts.items()]
    base: dict[str, object] = {
        "parameter": plan_parameter,
        "minimum": minimum,
        "maximum": maximum,
        "resolution": search.resolution,
        "probes": [p.model_dump(mode="json") for p in probes],
        "probes_used": used,
        "probe_bound": search.bound,
        "counts": [c.model_dump(mode="json") for c in counts],
    }
    if outcome.interrupted or outcome.stopped is not None:
        return _incomplete(outcome, table, base, duration.compliant)
    result_outcome = search.outcome
    expansion = options.approve_expansion
    previous = inv.breaking_point
    widened = previous is not None and widens(
        (previous.minimum, previous.maximum), (minimum, maximum)
    )
    if previous is not None and widened and expansion:
        inv.events.append(
            Event(
                at=ctx.now(),
                kind="rule 4 expansion approved",
                message=(
                    f"breaking-point range widened from [{previous.minimum:g}, "
                    f"{previous.maximum:g}] to [{minimum:g}, {maximum:g}]: "
                    f"{expansion}"
                ),
            )
        )
    result = BreakingPointResult(
        parameter=plan_parameter,
        minimum=minimum,
        maximum=maximum,
        resolution=search.resolution,
        resolution_rule="given" if options.resolution else DEFAULT_RESOLUTION_RULE,
        breaking_point=result_outcome.breaking_point,
        last_passing=result_outcome.last_passing,
        verdict=result_outcome.verdict,
        confidence=result_outcome.confidence,
        widened=result_outcome.widened,
        stopped_by=search.stopped_by,
        noise_cv=dict(search.noise),
        thresholds=list(options.fail_when),
        probes=probes,
        probes_used=used,
        probe_bound=search.bound,
        bound_note=search.bound_note,
        crossing=search.crossing,
        counts=counts,
        probe_duration_s=duration.duration_s,
        compliant=duration.compliant,
        compliance_note=duration.note,
        expansion_reason=expansion if widened else None,
        monotonic=result_outcome.monotonic,
        note=result_outcome.note,
    )
    inv.breaking_point = result
    artifact = keep_search(ctx.paths.artifacts(inv.id), result, ctx.now())
    return _recorded(ctx, result, artifact, table, used, len(probes), duration, options)


def _recorded(
    ctx: AppContext,
    result: BreakingPointResult,
    artifact: Path,
    table: list[str],
    used: int,
    total: int,
    duration: DurationDecision,
    options: BreakingPointOptions,
) -> PhaseWork:
    findings = [result.note, f"confidence: {result.confidence}"]
    if result.crossing is not None and result.widened:
        findings.append(
            f"failures become more likely than passes at {format_value(result.crossing)} "
            "(isotonic fit of each value's pass/fail counts)"
        )
    if result.bound_note:
        findings.append(result.bound_note)
    if not result.monotonic:
        findings.append("non-monotonic: the boundary is uncertain; re-run before relying on it")
    if not duration.compliant:
        findings.append(f"non-compliant probes: {duration.note}")
    invalid = total - used
    if invalid:
        findings.append(f"{invalid} invalid probe(s) re-measured (not counted as failures)")
    counts = "; ".join(
        f"{format_value(c.value)}: {c.passes} pass {c.fails} fail" for c in result.counts
    )
    return PhaseWork(
        summary=(
            f"{_summary(result)} over {result.parameter} in [{result.minimum:g}, "
            f"{result.maximum:g}] at resolution {format_value(result.resolution)} with "
            f"{used} probe(s) (bound {result.probe_bound}); fails when "
            + " or ".join(options.fail_when)
        ),
        evidence=[
            ctx.paths.relative(artifact),
            result.note,
            f"confidence: {result.confidence}",
            f"verdicts per value: {counts}",
            *table,
        ],
        findings=findings,
        non_compliant=not duration.compliant,
        data={"breaking_point": result.model_dump(mode="json"), "table": table},
    )


def breaking_point(
    ctx: AppContext, request: PhaseRequest, options: BreakingPointOptions
) -> CommandResult:
    """Search ``[minimum, maximum]`` for the first failing value and record it."""
    options = _load_fail_when(ctx, options)
    if request.skip_reason is not None:
        return skip_phase(ctx, "breaking-point", Phase.BREAKING_POINT, request)
    return run_phase_steps(
        ctx,
        "breaking-point",
        Phase.BREAKING_POINT,
        request,
        prepare=lambda inv: _prepare(ctx, inv, options),
        execute=lambda plan: _execute(ctx, plan, options),
        apply=lambda inv, outcome: _apply(ctx, inv, outcome, options),
    )
