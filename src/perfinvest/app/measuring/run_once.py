"""One run of a benchmark, turned into a Run record with its metrics and artifacts.

The benchmark contract (``contract_env``), the quiet-machine check (rule 6), the meter or
the tool driver, and the artifacts (with sha256) are made here, the same for every phase.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perfinvest.adapters import fingerprint, hostlock
from perfinvest.adapters.runner import RunOutcome, RunSpec, run_command
from perfinvest.adapters.spans_reader import read_span_metrics
from perfinvest.app.measuring.load_errors import failed_requests
from perfinvest.app.measuring.run_metrics import (
    parsed_metrics,
    read_output_metrics,
    resource_metrics,
    timing_metrics,
)
from perfinvest.app.measuring.spec import Benchmark, Session, resolve_tool_mode
from perfinvest.core.errors import PerfError, environment_error, refused
from perfinvest.core.models import ArtifactRef, Metric, Run

if TYPE_CHECKING:
    from perfinvest.adapters.meters import InstructionMeter


def sha256_file(path: Path) -> str:
    """The file's sha256, read in 1 MiB chunks (artifacts can be large)."""
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
        sha256=sha256_file(path),
        size_bytes=path.stat().st_size,
        description=description,
    )


def contract_env(
    benchmark: Benchmark, session: Session, run_dir: Path, label: str
) -> dict[str, str]:
    """The benchmark contract of docs/architecture.md: what perfinvest tells the benchmark."""
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
    """One run: quiet check, fingerprint, the command, its metrics, its artifacts.

    ``benchmark`` is best resolved by the caller (:func:`resolve_tool_mode`, once for all
    its runs); an unresolved one is resolved here, for this run only.
    """
    if not benchmark.mode_resolved:  # measure() and the phases' loops resolve it once
        benchmark = resolve_tool_mode(benchmark, session.progress if index == 1 else None)
    started = datetime.now(UTC)
    # microseconds: runs are sequential (rule 1), so no two runs on a host share an id
    run_id = f"{label}-{started:%Y%m%dT%H%M%S%f}-{index}"
    run_dir = _run_dir(session, run_id)
    quiet = _quiet(session, index)
    env = contract_env(benchmark, session, run_dir, label)
    meter = _meter(benchmark, run_dir)
    if meter is not None:  # its whole, fixed environment is what the fingerprint records
        env = meter.environment(env)
    # a metered run is another measurement than a timed one: never merged or compared as one
    configuration = fingerprint.config_hash(
        benchmark.command,
        f"meter:{benchmark.meter}" if benchmark.meter else benchmark.mode,
        benchmark.shell,
        fingerprint.checkout_workdir(benchmark.cwd),
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
    if meter is not None:
        try:
            spec = meter.wrap(spec)
        except PerfError:  # the command is not there: leave no empty run folder
            meter.release()
            with contextlib.suppress(OSError):
                run_dir.rmdir()
            raise
    session.progress.run_started(label, index, total, duration.duration_s)
    outcome, tool_run = _execute(benchmark, session, spec, meter, index, run_dir)
    metrics, reason, load_errors, missing = _metrics(
        benchmark, session, spec, meter, outcome, tool_run
    )
    spans = read_span_metrics(run_dir)  # perfinvest.spans artifacts are metrics too
    metrics.extend(spans.metrics)
    if spans.metrics and missing is not None and reason == f"no metrics: {missing}":
        reason = None
    metrics.extend(resource_metrics(outcome))
    artifacts = _artifacts(benchmark, session, outcome, tool_run, spans)
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
    for note in [*run_notes(run), *outcome.notes]:
        session.progress.note(note)
    return run


def _run_dir(session: Session, run_id: str) -> Path:
    run_dir = session.artifact_root / run_id
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise environment_error(
            f"cannot create the run's artifact folder {run_dir}: {exc.strerror or exc}; "
            "free space there or point AI_STATE_DIR elsewhere"
        ) from exc
    return run_dir


def _quiet(session: Session, index: int) -> Any:
    """Rule 6: refuse (``--strict``) or note a busy machine."""
    # the busy-process scan waits 0.2 s: once per measurement, then the load average only
    quiet = fingerprint.check_quiet(sample_processes=index == 1)
    if not quiet.quiet:
        if session.strict_quiet:
            raise refused(
                f"the machine is not quiet ({quiet.describe()}); rule 6 with --strict refuses "
                "to measure: wait for it to calm down or drop --strict"
            )
        session.progress.note(f"machine not quiet: {quiet.describe()}")
    return quiet


def _execute(
    benchmark: Benchmark,
    session: Session,
    spec: RunSpec,
    meter: InstructionMeter | None,
    index: int,
    run_dir: Path,
) -> tuple[RunOutcome, Any]:
    """The command itself (or its tool driver): the outcome, and the tool run if any."""
    tool_run = None
    try:
        if benchmark.mode == "tool" and benchmark.tool is not None and meter is None:
            from perfinvest.adapters.tools.run import run_tool

            tool_run = run_tool(
                benchmark.tool,
                replace(spec, mode="duration"),
                needed_s=session.duration.valid_after_s,
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
    except BaseException as exc:
        if meter is not None:  # interrupted too: the fixed folder is freed for the next run
            meter.release()
        if isinstance(exc, PerfError):
            # a run that could not be made leaves no folder (unless the benchmark wrote there)
            with contextlib.suppress(OSError):
                run_dir.rmdir()
        raise
    return outcome, tool_run


def _metrics(
    benchmark: Benchmark,
    session: Session,
    spec: RunSpec,
    meter: InstructionMeter | None,
    outcome: RunOutcome,
    tool_run: Any,
) -> tuple[list[Metric], str | None, str | None, str | None]:
    """The run's metrics, why it is invalid (None: valid), failed load requests, and what
    the output lacked (``missing``)."""
    metrics: list[Metric]
    missing: str | None = None
    reason = outcome.invalid_reason
    if outcome.ended_early and tool_run is None:
        reason = (
            f"{reason}: a duration-mode benchmark must keep running for PERF_RUN_DURATION "
            f"seconds ({spec.env['PERF_RUN_DURATION']} here); make it honour the variable, or "
            "measure a short command in repeat mode (--mode repeat)"
        )
    load_errors: str | None = None
    if tool_run is not None:
        metrics = parsed_metrics(tool_run.parsed) if tool_run.parsed is not None else []
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
        metrics = timing_metrics(outcome)
    else:
        metrics, missing, fmt = read_output_metrics(benchmark, outcome)
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
    return metrics, reason, load_errors, missing


def _artifacts(
    benchmark: Benchmark, session: Session, outcome: RunOutcome, tool_run: Any, spans: Any
) -> list[ArtifactRef]:
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
    return artifacts


def _meter(benchmark: Benchmark, run_dir: Path) -> InstructionMeter | None:
    """The run's meter when it is not timed (``--meter instructions``), else ``None``."""
    if benchmark.meter is None:
        return None
    from perfinvest.adapters.meters import InstructionMeter

    return InstructionMeter(run_dir / "cachegrind", run_dir)


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
