"""Measuring: one or more sequential runs of a benchmark, turned into Run records.

Every phase that measures (baseline, breaking point, constraints, experiments, ad-hoc
``perfinvest run``) comes through here, so the benchmark contract, the duration policy
(rule 2), the quiet-machine check (rule 6), reproducibility re-runs (rule 5) and the
artifacts are the same everywhere. The caller holds the host-wide lock (rule 1) around
all of it, so interleaved A/B measurements are one locked session.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from perfinvest.adapters import fingerprint, hostlock
from perfinvest.adapters.formats.base import FormatError, ParseResult
from perfinvest.adapters.formats.registry import parse
from perfinvest.adapters.runner import RunOutcome, RunSpec, captured_stdout, run_command
from perfinvest.adapters.spans_reader import read_span_metrics
from perfinvest.app.load_errors import failed_requests
from perfinvest.core.errors import PerfError, environment_error, refused
from perfinvest.core.models import ArtifactRef, Metric, Run, RunMode
from perfinvest.core.policy import DurationDecision

if TYPE_CHECKING:
    from perfinvest.adapters.meters import InstructionMeter

CV_THRESHOLD = 0.05


class Progress:
    """What the CLI shows while runs go on; the default shows nothing."""

    def run_started(self, label: str, index: int, total: int, duration_s: float) -> None:
        """A run begins."""

    def run_progress(self, elapsed_s: float, iterations: int) -> None:
        """Called up to ~10 times a second during a run."""

    def run_finished(self, run: Run) -> None:
        """A run ended (valid or not)."""

    def note(self, message: str) -> None:
        """A warning a person should see now (rule 6 load, rule 5 re-runs)."""


@dataclass(frozen=True)
class Benchmark:
    """What to run and how its results are read."""

    command: Sequence[str]
    shell: bool
    cwd: Path
    mode: RunMode
    metrics_format: str | None = None
    metrics_file: str | None = None  # relative to cwd, read after each run
    env: Mapping[str, str] = field(default_factory=dict)  # PERF_PARAM_VALUE, PERF_EXPERIMENT, ...
    cgroup_procs: Sequence[Path] = ()  # cgroup.procs files the process joins before exec
    meter: str | None = None  # "instructions": once per run under cachegrind (adapters/meters)
    tool: str | None = None  # mode "tool": the benchmark tool perfinvest drives (core/tools.py)
    tool_prefix: int = 0  # leading words of ``command`` that wrap the tool (taskset, prlimit)


@dataclass(frozen=True)
class Session:
    """Where a measurement belongs and what it must respect."""

    repo_root: Path
    artifact_root: Path  # artifacts/<id>/ (or a temporary folder for ad-hoc runs)
    perf_dir: Path | None  # paths in Run.artifacts are made relative to this
    investigation_id: str | None
    duration: DurationDecision
    strict_quiet: bool = False
    progress: Progress = field(default_factory=Progress)
    stop: threading.Event | None = None
    state_dir: Path | None = None  # excluded from the git dirty flag


@dataclass
class Measurement:
    runs: list[Run]
    warnings: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)

    @property
    def valid_runs(self) -> list[Run]:
        return [r for r in self.runs if r.valid]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _artifact(path: Path | None, session: Session, description: str) -> ArtifactRef | None:
    if path is None or not path.is_file():
        return None
    shown = path
    if session.perf_dir is not None:
        try:
            shown = path.relative_to(session.perf_dir)
        except ValueError:
            shown = path
    return ArtifactRef(
        path=shown.as_posix(),
        sha256=_sha256(path),
        size_bytes=path.stat().st_size,
        description=description,
    )


def _timing_metrics(outcome: RunOutcome) -> list[Metric]:
    """Repeat mode: hyperfine-style per-iteration timings, raw samples kept."""
    if not outcome.iterations:
        return []

    def timing(name: str, samples: list[float], unit: str) -> Metric:
        return Metric(
            name=name,
            value=sum(samples) / len(samples),
            unit=unit,
            direction="lower",
            samples=samples,
        )

    iterations = outcome.iterations
    rss = [float(i.max_rss_bytes) for i in iterations]
    return [
        timing("wall_ms", [i.wall_s * 1000 for i in iterations], "ms"),
        timing("user_ms", [i.user_s * 1000 for i in iterations], "ms"),
        timing("sys_ms", [i.sys_s * 1000 for i in iterations], "ms"),
        Metric(name="max_rss_bytes", value=max(rss), unit="bytes", direction="lower", samples=rss),
        Metric(name="iterations", value=float(len(iterations)), unit="", direction=None),
    ]


def _resource_metrics(outcome: RunOutcome) -> list[Metric]:
    res = outcome.resources
    if res is None or res.samples == 0:
        return []
    return [
        Metric(
            name="resource_peak_rss_bytes",
            value=float(res.peak_rss_bytes),
            unit="bytes",
            direction="lower",
        ),
        Metric(
            name="resource_cpu_mean_pct",
            value=res.mean_cpu_percent,
            unit="%",
            direction="lower",
        ),
    ]


def _parsed_metrics(parsed: ParseResult) -> list[Metric]:
    return [
        Metric(
            name=m.name,
            value=m.value,
            unit=m.unit,
            direction=m.direction,
            samples=list(m.samples),
            scenario=m.scenario,
        )
        for m in parsed.metrics
    ]


def _read_output_metrics(
    benchmark: Benchmark, outcome: RunOutcome
) -> tuple[list[Metric], str | None, str | None]:
    """Metrics from the metrics file or stdout, the reason when there are none, the format."""
    if benchmark.metrics_file:
        path = benchmark.cwd / benchmark.metrics_file
        if not path.is_file():
            return [], f"the metrics file {path} was not written", None
        text = path.read_text(encoding="utf-8", errors="replace")
    else:
        text = captured_stdout(outcome)
    try:
        parsed = parse(text, benchmark.metrics_format)
    except FormatError as error:
        return [], error.message, None
    metrics = _parsed_metrics(parsed)
    if parsed.failed_thresholds:
        metrics.append(Metric(name="failed_thresholds", value=float(len(parsed.failed_thresholds))))
    missing = None if metrics else f"{parsed.format} output held no metrics"
    return metrics, missing, parsed.format


def contract_env(
    benchmark: Benchmark, session: Session, run_dir: Path, label: str
) -> dict[str, str]:
    """The benchmark contract of DESIGN.md: what perfinvest tells the benchmark."""
    env = {
        "PERF_RUN_DURATION": f"{session.duration.duration_s:g}",
        "PERF_RUN_MODE": "duration" if benchmark.mode == "duration" else "oneshot",
        "PERF_ARTIFACT_DIR": str(run_dir),
        "PERF_RUN_LABEL": label,
    }
    if session.investigation_id:
        env["PERF_INVESTIGATION_ID"] = session.investigation_id
    env.update(benchmark.env)
    return env


def run_once(
    benchmark: Benchmark,
    session: Session,
    label: str,
    index: int,
    total: int,
    git: tuple[str | None, bool | None] | None = None,
) -> Run:
    """One run: quiet check, fingerprint, the command, its metrics, its artifacts."""
    benchmark = resolve_tool_mode(benchmark, session.progress if index == 1 else None)
    started = datetime.now(UTC)
    # microseconds: runs are sequential (rule 1), so no two runs on a host share an id
    run_id = f"{label}-{started:%Y%m%dT%H%M%S%f}-{index}"
    run_dir = session.artifact_root / run_id
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise environment_error(
            f"cannot create the run's artifact folder {run_dir}: {exc.strerror or exc}; "
            "free space there or point AI_STATE_DIR elsewhere"
        ) from exc
    # the busy-process scan waits 0.2 s: once per measurement, then the load average only
    quiet = fingerprint.check_quiet(sample_processes=index == 1)
    if not quiet.quiet:
        if session.strict_quiet:
            raise refused(
                f"the machine is not quiet ({quiet.describe()}); rule 6 with --strict refuses "
                "to measure: wait for it to calm down or drop --strict"
            )
        session.progress.note(f"machine not quiet: {quiet.describe()}")
    env = contract_env(benchmark, session, run_dir, label)
    # a metered run is another measurement than a timed one: never merged or compared as one
    configuration = fingerprint.config_hash(
        benchmark.command,
        f"meter:{benchmark.meter}" if benchmark.meter else benchmark.mode,
        benchmark.shell,
        str(benchmark.cwd),
        benchmark.env,
    )
    environment = fingerprint.capture(
        session.repo_root,
        benchmark.command,
        env,
        configuration,
        session.state_dir,
        git=git,
        quiet=quiet,
    )
    duration = session.duration
    spec = RunSpec(
        argv=list(benchmark.command),
        shell=benchmark.shell,
        cwd=benchmark.cwd,
        env=env,
        mode="duration" if benchmark.mode == "tool" else benchmark.mode,
        duration_s=duration.duration_s,
        min_duration_s=duration.valid_after_s if benchmark.mode == "duration" else 0.0,
        artifact_dir=run_dir,
        preexec_cgroup_procs=benchmark.cgroup_procs,
    )
    meter = _meter(benchmark, run_dir)
    if meter is not None:
        try:
            spec = meter.wrap(spec)
        except PerfError:  # the command is not there: leave no empty run folder
            with contextlib.suppress(OSError):
                run_dir.rmdir()
            raise
    session.progress.run_started(label, index, total, duration.duration_s)
    tool_run = None
    try:
        if benchmark.mode == "tool" and benchmark.tool is not None and meter is None:
            from perfinvest.adapters.tools.run import run_tool

            tool_run = run_tool(
                benchmark.tool,
                replace(spec, mode="duration"),
                needed_s=duration.valid_after_s,
                prefix_words=benchmark.tool_prefix,
                on_progress=session.progress.run_progress,
                stop=session.stop,
                on_spawn=hostlock.note_benchmark,
            )
            outcome = tool_run.outcome
            if index == 1:
                session.progress.note(f"tool-driven run, {tool_run.call.describe()}")
        else:
            outcome = run_command(
                spec,
                on_progress=session.progress.run_progress,
                stop=session.stop,
                on_spawn=hostlock.note_benchmark,
            )
    except PerfError:
        # a run that could not be made leaves no folder (unless the benchmark wrote there)
        with contextlib.suppress(OSError):
            run_dir.rmdir()
        raise
    metrics: list[Metric]
    reason = outcome.invalid_reason
    if outcome.ended_early and tool_run is None:
        reason = (
            f"{reason}: a duration-mode benchmark must keep running for PERF_RUN_DURATION "
            f"seconds ({env['PERF_RUN_DURATION']} here); make it honour the variable, or "
            "measure a short command in repeat mode (--mode repeat)"
        )
    load_errors: str | None = None
    missing: str | None = None
    if tool_run is not None:
        metrics = _parsed_metrics(tool_run.parsed) if tool_run.parsed is not None else []
        metrics.extend(
            Metric(name="measured_s", value=seconds, unit="s", scenario=scenario)
            for scenario, seconds in tool_run.measured_s.items()
        )
        reason = reason or tool_run.reason
        for message in tool_run.notes:
            session.progress.note(message)
    elif meter is not None:
        metrics, missing = meter.metrics()
        if reason is None and missing is not None:
            reason = f"no metrics: {missing}"
    elif benchmark.mode == "repeat":
        metrics = _timing_metrics(outcome)
    else:
        metrics, missing, fmt = _read_output_metrics(benchmark, outcome)
        if reason is None and missing is not None:
            reason = f"no metrics: {missing}"
        if (
            reason is not None
            and missing is None
            and not (outcome.timed_out or outcome.interrupted)
            and outcome.wall_s >= spec.min_duration_s
        ):
            load_errors = failed_requests(outcome.exit_code, fmt, metrics)
            reason = None if load_errors is not None else reason
    spans = read_span_metrics(run_dir)  # perfinvest.spans artifacts are metrics too
    metrics.extend(spans.metrics)
    if spans.metrics and missing is not None and reason == f"no metrics: {missing}":
        reason = None
    metrics.extend(_resource_metrics(outcome))
    artifacts = [
        a
        for a in (
            _artifact(outcome.stdout_path, session, "stdout (capped)"),
            _artifact(outcome.stderr_path, session, "stderr (capped)"),
            _artifact(tool_run.export_path, session, f"{benchmark.tool} export")
            if tool_run is not None
            else None,
            *(_artifact(p, session, "span summary (perfinvest.spans)") for p in spans.files),
            *(_artifact(p, session, "span timeline (Chrome trace)") for p in spans.traces),
        )
        if a is not None
    ]
    for problem in spans.problems:
        session.progress.note(f"span artifact ignored: {problem}")
    if spans.unclosed:
        names = ", ".join(f"{n} ({c}x)" for n, c in sorted(spans.unclosed.items()))
        session.progress.note(f"spans never ended (not measured): {names}")
    run = Run(
        run_id=run_id,
        started_at=outcome.started_at,
        ended_at=outcome.ended_at,
        mode=spec.mode if meter is not None else benchmark.mode,  # a metered run is oneshot
        requested_duration_s=duration.duration_s,
        duration_s=outcome.wall_s,
        exit_code=outcome.exit_code,
        valid=reason is None,
        invalid_reason=reason,
        compliant=duration.compliant,
        compliance_note=_compliance_note(duration.note, meter is not None),
        metrics=metrics,
        environment=environment,
        artifacts=artifacts,
        survivors_killed=outcome.survivors_killed,
        load_errors=load_errors,
        meter=benchmark.meter,
    )
    session.progress.run_finished(run)
    for note in run_notes(run):
        session.progress.note(note)
    return run


def _meter(benchmark: Benchmark, run_dir: Path) -> InstructionMeter | None:
    """The run's meter when it is not timed (``--meter instructions``), else ``None``."""
    if benchmark.meter is None:
        return None
    from perfinvest.adapters.meters import InstructionMeter

    return InstructionMeter(run_dir / "cachegrind")


def _compliance_note(note: str | None, metered: bool) -> str | None:
    if not metered:
        return note
    from perfinvest.adapters.meters.cachegrind import NOTE

    return f"{note}; {NOTE}" if note else NOTE


def run_notes(run: Run) -> list[str]:
    """What a person should hear about a valid-or-not run beyond its metrics."""
    notes = [survivors_note(run)] if run.survivors_killed else []
    if run.load_errors:
        notes.append(f"{run.run_id}: {run.load_errors}")
    return notes


def survivors_note(run: Run) -> str:
    """The finding for processes that outlived the command (killed: they would load the next
    run)."""
    count = run.survivors_killed
    return (
        f"{run.run_id}: {count} process{'es' if count != 1 else ''} still running after the "
        "benchmark exited, killed (a benchmark should wait for its children)"
    )


def primary_values(runs: Sequence[Run], metric: str) -> list[float]:
    values = []
    for run in runs:
        found = run.metric(metric)
        if run.valid and found is not None:
            values.append(found.value)
    return values


def _cv(values: Sequence[float]) -> float | None:
    from perfinvest.core.stats import coefficient_of_variation

    return coefficient_of_variation(values) if len(values) >= 2 else None


def measure(
    benchmark: Benchmark,
    session: Session,
    *,
    label: str,
    runs: int,
    primary_metric: str | None,
    max_reruns: int = 2,
    on_run: Callable[[Run], None] | None = None,
) -> Measurement:
    """``runs`` sequential runs; rule 5 adds up to ``max_reruns`` when the CV is too high."""
    benchmark = resolve_tool_mode(benchmark, session.progress)
    result = Measurement(runs=[])
    total = runs
    index = 0
    git = fingerprint.git_state(session.repo_root, session.state_dir)  # the tree holds still
    while index < total:
        index += 1
        run = run_once(benchmark, session, label, index, total, git)
        result.runs.append(run)
        result.warnings.extend(run_notes(run))
        if on_run is not None:
            on_run(run)
        if index == total and primary_metric is not None and total < runs + max_reruns:
            cv = _cv(primary_values(result.runs, primary_metric))
            if cv is not None and cv > CV_THRESHOLD:
                total += 1
                message = (
                    f"rule 5: CV of {primary_metric} across runs is {cv:.1%} > "
                    f"{CV_THRESHOLD:.0%}; re-running ({total - runs} of {max_reruns})"
                )
                result.warnings.append(message)
                session.progress.note(message)
    if primary_metric is not None:
        cv = _cv(primary_values(result.runs, primary_metric))
        if cv is not None and cv > CV_THRESHOLD:
            result.flags.append(
                f"high variance: CV of {primary_metric} is {cv:.1%} after {len(result.runs)} "
                "runs (rule 5); treat comparisons with care"
            )
    return result


def resolve_tool_mode(benchmark: Benchmark, progress: Progress | None = None) -> Benchmark:
    """Duration mode on a recognised tool becomes tool-driven; ``mode="tool"`` needs a tool.

    A tool exits when it has measured what it was told to, so in duration mode it would end
    early (an invalid run); perfinvest drives it instead and says so (``progress.note``).
    """
    if benchmark.mode == "repeat" or (benchmark.mode == "tool" and benchmark.tool):
        return benchmark
    from perfinvest.adapters.tools.run import detect

    command = benchmark.command[benchmark.tool_prefix :]
    tool = benchmark.tool or detect(command, benchmark.shell, benchmark.cwd)
    if tool is None:
        if benchmark.mode == "tool":
            from perfinvest.core.errors import usage_error
            from perfinvest.core.tools import TOOLS

            raise usage_error(
                "tool-driven mode: the command is not one of "
                f"{', '.join(TOOLS)} as perfinvest recognises them; name it with --tool NAME"
            )
        return benchmark
    if progress is not None and benchmark.mode == "duration":
        progress.note(
            f"{tool} recognised: tool-driven mode (the tool fills the duration with its own "
            "options and perfinvest reads its export; --mode repeat times it as one command)"
        )
    return replace(benchmark, mode="tool", tool=tool)


def with_env(benchmark: Benchmark, extra: Mapping[str, str]) -> Benchmark:
    return replace(benchmark, env={**benchmark.env, **extra})
