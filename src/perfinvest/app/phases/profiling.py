"""Phase 7, profiling: one profiled benchmark run, its artifacts and its hotspots.

The profiled run holds the host-wide benchmark lock (rule 1) like any measurement and
follows the duration policy (rule 2). Files go to ``artifacts/<id>/profile-<n>/``: the
profiler's own output, collapsed stacks, speedscope JSON, a flamegraph SVG, the hotspot
table, the run's stdout/stderr; each is recorded with its sha256.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perfinvest.app.context import AppContext
from perfinvest.app.measuring.benchmark import (
    MeasureOptions,
    benchmark_lock,
    benchmark_of,
    duration_for,
    session_for,
)
from perfinvest.app.result import CommandResult
from perfinvest.app.session import PhaseRequest, PhaseWork, run_phase_steps
from perfinvest.core.errors import ExitCode, PerfError, usage_error
from perfinvest.core.models import ArtifactRef, Event, Hotspot, Investigation, ProfilingResult
from perfinvest.core.phases import Phase

if TYPE_CHECKING:
    from perfinvest.core.profiling.hotspots import HotspotChange


@dataclass
class ProfileOptions:
    profiler: str = "auto"
    rate_hz: float | None = None
    top: int = 20
    measure: MeasureOptions = field(default_factory=MeasureOptions)


@dataclass
class _Plan:
    number: int
    out_dir: Path
    plan: Any  # ProfilePlan
    reason: str
    cwd: Path
    env: dict[str, str]
    duration_s: float
    compliant: bool
    investigation_id: str


@dataclass
class _Outcome:
    result: ProfilingResult | None = None
    error: PerfError | None = None
    events: list[Event] = field(default_factory=list)
    table: str = ""
    compliant: bool = True


def _next_number(inv: Investigation, root: Path) -> int:
    number = max((p.number for p in inv.profiling), default=0) + 1
    while (root / f"profile-{number}").exists():
        number += 1
    return number


def _sha256(path: Path) -> str:
    from perfinvest.app.measuring.run_once import sha256_file as digest

    return digest(path)


def artifact_ref(ctx: AppContext, path: Path, description: str) -> ArtifactRef:
    return ArtifactRef(
        path=ctx.paths.relative(path),
        sha256=_sha256(path),
        size_bytes=path.stat().st_size,
        description=description,
    )


def evidence_table(hotspots: list[Hotspot], limit: int = 10) -> list[str]:
    """Aligned rows for the reviewer's log (each an evidence line)."""
    from perfinvest.core.profiling.hotspots import hot_lines

    rows = [f"{'self%':>6} {'total%':>6} {'samples':>7}  function  defined at  hottest lines"]
    for h in hotspots[:limit]:
        defined = f"{h.file}:{h.line}" if h.file and h.line else (h.file or "")
        rows.append(
            f"{h.self_pct:6.1f} {h.total_pct:6.1f} {h.samples:7d}  {h.function}  {defined}"
            f"  {hot_lines(h) or '-'}"
        )
    return rows


_NO_LINES_WHY = {
    "cprofile": "cProfile records only each function's def line, not the lines executing "
    "(use py-spy for hot lines)",
    "perf": "the binary has no DWARF line info (build with -g for hot lines)",
}


def _no_lines(profiler: str) -> str:
    why = _NO_LINES_WHY.get(profiler, "the profile carries no line numbers")
    return f"no hot lines: {why}; hotspots name functions only"


def hotspot_finding(h: Hotspot) -> str:
    """``hot (app/core.py:1) self 80.0% total 80.0%, hottest line app/core.py:4 self 62.0%``."""
    defined = f" ({h.file}:{h.line})" if h.file and h.line else (f" ({h.file})" if h.file else "")
    text = f"{h.function}{defined} self {h.self_pct:.1f}% total {h.total_pct:.1f}%"
    if h.hot_line and h.lines:
        hot = h.lines[0]
        share = f"self {hot.self_pct:.1f}%" if hot.samples else f"total {hot.total_pct:.1f}%"
        text += f", hottest line {h.hot_line} {share}"
    return text


def profiling(ctx: AppContext, request: PhaseRequest, options: ProfileOptions) -> CommandResult:
    if options.top < 1:
        raise usage_error("--top must be at least 1")
    if options.rate_hz is not None and not 1 <= options.rate_hz <= 10_000:
        raise usage_error("--rate must be between 1 and 10000 Hz")
    steps = ProfilingPhase(ctx, options)
    return run_phase_steps(
        ctx,
        "profile",
        Phase.PROFILING,
        request,
        prepare=steps.prepare,
        execute=steps.execute,
        apply=steps.apply,
    )


@dataclass(frozen=True)
class ProfilingPhase:
    """The profiling phase's steps (see :func:`run_phase_steps`), each callable alone."""

    ctx: AppContext
    options: ProfileOptions

    def prepare(self, inv: Investigation) -> _Plan:
        ctx, options = self.ctx, self.options
        from perfinvest.adapters.profilers.base import ProfileRequest
        from perfinvest.adapters.profilers.select import plan_for
        from perfinvest.app.measuring.measure import contract_env

        duration = duration_for(ctx, inv, options.measure)
        root = ctx.paths.artifacts(inv.id)
        number = _next_number(inv, root)
        out_dir = root / f"profile-{number}"
        cwd = (ctx.repo_root / inv.setup.workdir).resolve()
        profile_request = ProfileRequest(
            command=inv.setup.command,
            shell=inv.setup.shell,
            cwd=cwd,
            out_dir=out_dir,
            repo_root=ctx.repo_root,
            rate_hz=options.rate_hz,
        )
        plan, choice = plan_for(options.profiler, profile_request)
        out_dir.mkdir(parents=True, exist_ok=True)
        env = contract_env(
            benchmark_of(ctx, inv),
            session_for(ctx, inv, options.measure, duration),
            out_dir,
            f"profile-{number}",
        )
        return _Plan(
            number=number,
            out_dir=out_dir,
            plan=plan,
            reason=choice.reason,
            cwd=cwd,
            env={**env, **plan.env},
            duration_s=duration.duration_s,
            compliant=duration.compliant,
            investigation_id=inv.id,
        )

    def execute(self, plan: _Plan) -> _Outcome:
        ctx, options = self.ctx, self.options
        outcome = _Outcome(compliant=plan.compliant)
        try:
            with benchmark_lock(ctx, plan.investigation_id, "profile", outcome.events):
                outcome.result, outcome.table = _profile_run(ctx, plan, options)
        except PerfError as error:
            outcome.error = error
        except KeyboardInterrupt:
            outcome.error = PerfError(
                "interrupted: the profiled run was stopped, its processes killed",
                ExitCode.INTERRUPTED,
                kind="interrupted",
            )
        return outcome

    def apply(self, inv: Investigation, outcome: _Outcome) -> PhaseWork:
        inv.events.extend(outcome.events)
        if outcome.error is not None or outcome.result is None:
            error = outcome.error or PerfError("profiling produced nothing", ExitCode.INTERNAL)
            return PhaseWork(
                summary=f"profiling failed: {error.message}",
                outcome="failed",
                error=error,
                non_compliant=not outcome.compliant,
            )
        result = outcome.result
        inv.profiling.append(result)
        top = result.hotspots[0]
        findings = [f"top hotspot: {hotspot_finding(h)}" for h in result.hotspots[:3]]
        if not any(h.lines for h in result.hotspots):
            findings.append(_no_lines(result.profiler))
        if result.note:
            findings.append(result.note)
        return PhaseWork(
            summary=(
                f"profile-{result.number} with {result.profiler}: {result.total_samples} "
                f"samples, top hotspot {hotspot_finding(top)}"
            ),
            evidence=[f"profiler: {result.profiler} ({result.reason})"]
            + evidence_table(result.hotspots)
            + [a.path for a in result.artifacts],
            findings=findings,
            non_compliant=not outcome.compliant,
            data={
                "profile": result.model_dump(mode="json"),
                "table": outcome.table,
            },
        )


def _profile_run(
    ctx: AppContext, plan: _Plan, options: ProfileOptions
) -> tuple[ProfilingResult, str]:
    """Run the wrapped command, collect, render, hash (lock held by the caller)."""
    from perfinvest.adapters.profilers.base import RunFacts, hotspots_of
    from perfinvest.adapters.profilers.render import write_flamegraph, write_speedscope
    from perfinvest.adapters.runner import RunSpec, run_command
    from perfinvest.core.profiling.hotspots import format_table, to_collapsed

    profile_plan = plan.plan
    progress = options.measure.progress
    progress.run_started(f"profile-{plan.number}", 1, 1, plan.duration_s)
    started = ctx.now()
    run = run_command(
        RunSpec(
            argv=profile_plan.argv,
            cwd=plan.cwd,
            env=plan.env,
            mode="duration",
            duration_s=plan.duration_s,
            artifact_dir=plan.out_dir,
            sample_hz=0,
        ),
        on_progress=progress.run_progress,
        stop=options.measure.stop,
    )
    if run.interrupted:
        raise KeyboardInterrupt
    facts = RunFacts(run.wall_s, run.exit_code, run.stderr_tail, run.survivors_killed)
    collected = profile_plan.collect(facts)
    files: list[tuple[Path, str]] = list(collected.files)
    if collected.stacks is not None:
        hotspots = hotspots_of(collected, ctx.repo_root, [plan.cwd], top=options.top)
        canonical = plan.out_dir / "stacks.collapsed.txt"
        canonical.write_text(to_collapsed(collected.stacks), encoding="utf-8")
        title = f"{profile_plan.profiler}: {' '.join(profile_plan.argv[-4:])}"
        files.append((canonical, "collapsed stacks (all profilers' common format)"))
        files.append(
            (
                write_speedscope(collected.stacks, plan.out_dir / "profile.speedscope.json", title),
                "speedscope JSON (open at https://www.speedscope.app)",
            )
        )
        files.append(
            (
                write_flamegraph(collected.stacks, plan.out_dir / "flamegraph.svg", title),
                "flamegraph SVG",
            )
        )
    else:
        hotspots = hotspots_of(collected, ctx.repo_root, top=options.top)
    if not hotspots:
        from perfinvest.adapters.profilers.base import no_samples

        raise no_samples(profile_plan.profiler, facts)
    table = format_table(hotspots)
    table_path = plan.out_dir / "hotspots.md"
    table_path.write_text(table + "\n", encoding="utf-8")
    files.append((table_path, "hotspot table"))
    for name, description in (("stdout.log", "stdout (capped)"), ("stderr.log", "stderr (capped)")):
        if (plan.out_dir / name).is_file():
            files.append((plan.out_dir / name, description))
    note = collected.note
    if not run.valid and run.invalid_reason:
        note = (note + "; " if note else "") + f"the profiled run was invalid: {run.invalid_reason}"
    result = ProfilingResult(
        number=plan.number,
        profiler=profile_plan.profiler,
        reason=plan.reason,
        command=list(profile_plan.argv),
        created_at=started,
        duration_s=run.wall_s,
        rate_hz=profile_plan.rate_hz,
        total_samples=collected.total_samples,
        exit_code=run.exit_code,
        run_valid=run.valid,
        note=note,
        artifacts=[artifact_ref(ctx, path, text) for path, text in files if path.is_file()],
        hotspots=hotspots,
    )
    return result, table


# --- profile diff ---------------------------------------------------------------------------


def _hotspots_of(ctx: AppContext, inv: Investigation, ref: str) -> tuple[str, list[Hotspot]]:
    """A profile by number (``3`` or ``profile-3``) or by path (collapsed file or folder)."""
    from perfinvest.adapters.profilers.base import stack_hotspots
    from perfinvest.core.errors import state_error
    from perfinvest.core.profiling.hotspots import ProfileFormatError, parse_collapsed

    label = ref.removeprefix("profile-")
    if label.isdigit():
        for result in inv.profiling:
            if result.number == int(label):
                return f"profile-{label}", list(result.hotspots)
        known = ", ".join(str(p.number) for p in inv.profiling if p.number) or "none"
        raise usage_error(f"no profile {label} in {inv.id} (profiles: {known})")
    path = Path(ref)
    if not path.is_absolute():
        candidates = [Path.cwd() / path, ctx.paths.perf_dir / path]
        path = next((c for c in candidates if c.exists()), candidates[0])
    if path.is_dir():
        found = path / "stacks.collapsed.txt"
        if not found.is_file():
            found = next(iter(sorted(path.glob("*.collapsed.txt"))), found)
        path = found
    if not path.is_file():
        raise usage_error(f"{ref}: no such profile number or collapsed-stacks file")
    try:
        stacks = parse_collapsed(path.read_text(encoding="utf-8", errors="replace"))
    except ProfileFormatError as exc:
        raise state_error(f"{path}: {exc}") from None
    return str(path), stack_hotspots(
        stacks, ctx.repo_root, [path.parent], top=None, lines_kept=None
    )


def profile_diff(ctx: AppContext, a: str, b: str, top: int) -> tuple[CommandResult, str]:
    """Rank the frames whose share of samples changed most from profile A to profile B."""
    from perfinvest.app.queries import describe
    from perfinvest.core.profiling.hotspots import diff_hotspots

    if top < 1:
        raise usage_error("--top must be at least 1")
    inv = ctx.store.load_active()
    label_a, hot_a = _hotspots_of(ctx, inv, a)
    label_b, hot_b = _hotspots_of(ctx, inv, b)
    changes = diff_hotspots(hot_a, hot_b, top=top)
    result = describe("profile diff", inv)
    result.findings = [diff_finding(c) for c in changes[:5]]
    result.data["a"] = label_a
    result.data["b"] = label_b
    result.data["changes"] = [c.as_dict() for c in changes]
    lines = [f"profile diff {label_a} -> {label_b} (percentage points of samples)"]
    lines.append(f"{'self A':>7} {'self B':>7} {'delta':>7} {'total d':>8}  function  location")
    for c in changes:
        where = f"{c.file}:{c.line}" if c.file and c.line else (c.file or "")
        lines.append(
            f"{c.self_a:7.1f} {c.self_b:7.1f} {c.self_delta:+7.1f} {c.total_delta:+8.1f}  "
            f"{c.function}  {where}"
        )
        for change in c.lines[:3]:
            if abs(change.self_delta) >= 0.05:
                lines.append(
                    f"{change.self_a:7.1f} {change.self_b:7.1f} {change.self_delta:+7.1f} "
                    f"{'':>8}    line {c.file}:{change.line}"
                )
    return result, "\n".join(lines)


def diff_finding(change: HotspotChange) -> str:
    """``hot: self 50.0% -> 90.0% (+40.0 pts), most at a.py:5 (+38.0 pts)``."""
    text = (
        f"{change.function}: self {change.self_a:.1f}% -> {change.self_b:.1f}% "
        f"({change.self_delta:+.1f} pts)"
    )
    if change.hot_line and change.lines:
        text += f", most at {change.hot_line} ({change.lines[0].self_delta:+.1f} pts)"
    return text
