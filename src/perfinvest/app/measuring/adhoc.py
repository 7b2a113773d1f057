"""``perfinvest run -- COMMAND``: a measured run outside any investigation.

For engineers who would otherwise reach for hyperfine: the same lock, duration policy
(a short run needs a reason), statistics and run schema as an investigation's runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from perfinvest.adapters.tempdirs import temp_dir
from perfinvest.app.context import AppContext
from perfinvest.app.measuring.benchmark import MeasureOptions, benchmark_lock
from perfinvest.app.measuring.measure import Benchmark, Session, measure
from perfinvest.app.result import CommandResult
from perfinvest.core.errors import ExitCode, PerfError, benchmark_failed, usage_error
from perfinvest.core.models import Event, RunMode
from perfinvest.core.policy import decide_duration
from perfinvest.core.quantities import format_spread
from perfinvest.core.stats.baselines import summarize_runs
from perfinvest.store.atomic import atomic_write_text


@dataclass(frozen=True)
class AdhocRequest:
    command: tuple[str, ...]
    mode: RunMode | None = None  # None: repeat, or tool-driven for a recognised tool
    runs: int = 1
    allow_short: str | None = None
    metrics_format: str | None = None
    export: Path | None = None
    shell: bool = False
    tool: str | None = None  # --tool NAME: tool-driven mode for this tool


def _adhoc_benchmark(request: AdhocRequest, argv: list[str], options: MeasureOptions) -> Benchmark:
    """The benchmark. Without --mode: a recognised tool is driven, --format reads the output
    (duration mode), anything else is timed (repeat mode)."""
    from perfinvest.app.measuring.measure import resolve_tool_mode
    from perfinvest.core.tools.recognise import resolve_tool

    if options.meter is not None:  # counted once per run under the meter, never tool-driven
        if request.tool:
            raise usage_error("--meter counts the command itself: drop --tool or --meter")
        return Benchmark(
            command=argv,
            shell=request.shell,
            cwd=Path.cwd(),
            mode=request.mode or "repeat",
            metrics_format=request.metrics_format,
            meter=options.meter,
        )
    tool = resolve_tool(request.tool) if request.tool else None
    if tool is not None and request.mode not in (None, "tool"):
        raise usage_error(f"--tool drives the tool itself: drop --mode {request.mode} or --tool")
    if request.mode == "repeat" and request.metrics_format:
        raise usage_error(
            "--format reads the command's output, but --mode repeat only times each "
            "iteration: use --mode duration (or tool), or drop --format"
        )
    mode: RunMode = request.mode or (
        "tool" if tool else "duration" if request.metrics_format else "repeat"
    )
    benchmark = Benchmark(
        command=argv,
        shell=request.shell,
        cwd=Path.cwd(),
        mode=mode,
        metrics_format=request.metrics_format,
        tool=tool,
    )
    if request.mode is None:
        probe = resolve_tool_mode(replace(benchmark, mode="duration"), options.progress)
        if probe.mode == "tool":
            return probe
    return resolve_tool_mode(benchmark, options.progress)


def run_adhoc(ctx: AppContext, request: AdhocRequest, options: MeasureOptions) -> CommandResult:
    if not request.command:
        raise usage_error("give the command after --, e.g. perfinvest run -- python bench.py")
    if request.runs < 1:
        raise usage_error("--runs must be at least 1")
    if request.allow_short is not None and not request.allow_short.strip():
        raise usage_error("--allow-short needs a reason")
    duration = decide_duration(
        options.duration_s,
        short_policy=request.allow_short,
        env_allow_short=ctx.environ.get("PERF_ALLOW_SHORT") == "1",
        allow_flag="--allow-short REASON",
    )
    from perfinvest.adapters.meters import INSTRUCTIONS, require_meter

    require_meter(options.meter)
    if options.duration_s is None and options.meter is None:  # say it before a minute of silence
        total = duration.duration_s * request.runs
        options.progress.note(
            f"no --duration given: {request.runs} run(s) of {duration.duration_s:g} s "
            f"(rule 2's minimum), about {total:g} s; pass --duration S to choose"
        )
    # --shell: the words are one command line for /bin/sh -c, joined like "$*" (not quoted:
    # quoting would turn "sleep 1; echo x" into the name of one command, exit 127)
    argv = [" ".join(request.command)] if request.shell else list(request.command)
    benchmark = _adhoc_benchmark(request, argv, options)
    events: list[Event] = []
    with temp_dir("run") as scratch:
        session = Session(
            repo_root=ctx.repo_root,
            artifact_root=Path(scratch),
            perf_dir=None,
            investigation_id=None,
            duration=duration,
            strict_quiet=options.strict,
            progress=options.progress,
            stop=options.stop,
        )
        try:
            with benchmark_lock(ctx, None, "run: " + " ".join(argv), events):
                measurement = measure(
                    benchmark,
                    session,
                    label="run",
                    runs=request.runs,
                    primary_metric=INSTRUCTIONS
                    if options.meter
                    else "wall_ms"
                    if benchmark.mode == "repeat"
                    else None,
                )
        except KeyboardInterrupt:
            raise PerfError(
                "interrupted: the run was stopped, its processes killed, the lock released",
                ExitCode.INTERRUPTED,
                kind="interrupted",
            ) from None
    runs = [r.model_copy(update={"artifacts": []}) for r in measurement.runs]
    result = CommandResult(command="run", investigation=None, phase=None)
    valid = [r for r in runs if r.valid]
    summaries = summarize_runs(runs)
    result.findings = [*measurement.warnings, *measurement.flags]
    result.findings.extend(f"{r.run_id} invalid: {r.invalid_reason}" for r in runs if not r.valid)
    result.findings.extend(event.message for event in events)
    for key, entry in summaries.items():
        samples = entry.get("samples") or entry["runs"]
        spread = format_spread(
            samples["mean"],
            samples["stddev"],
            samples["min"],
            samples["max"],
            samples["n"],
            entry["unit"],
        )
        result.findings.append(f"{key}: {spread}")
    if not duration.compliant:
        result.findings.append(f"non-compliant: {duration.note}")
    result.data = {
        "runs": [r.model_dump(mode="json") for r in runs],
        "summaries": summaries,
        "compliant": duration.compliant,
    }
    if request.export is not None:
        atomic_write_text(
            request.export, json.dumps([r.model_dump(mode="json") for r in runs], indent=2) + "\n"
        )
        result.data["export"] = str(request.export)
    if not valid:
        error = benchmark_failed(f"no valid run: {runs[0].invalid_reason if runs else 'none'}")
        failed = CommandResult.failure("run", error)
        failed.findings, failed.data = result.findings, result.data
        return failed
    return result
