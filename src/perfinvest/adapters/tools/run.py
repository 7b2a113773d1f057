"""Running a benchmark tool so that it fills the duration, then reading its export.

The pure rewriting is :mod:`perfinvest.core.tools.recognise`; this module peeks at named files to
recognise a tool, calibrates hyperfine, runs the tool through the runner's public
:func:`run_command` (its lock, process-tree handling, capture and resource sampling), parses
the export with the registered metric format, and checks from the export that each
scenario's measured time fills the duration (else the run is invalid, like a duration-mode
run that exits early).
"""

from __future__ import annotations

import shlex
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from perfinvest.adapters.formats.base import FormatError, ParseResult
from perfinvest.adapters.formats.registry import parse
from perfinvest.adapters.runner import RunOutcome, RunSpec, captured_stdout, run_command
from perfinvest.adapters.tools import measured as measured_time
from perfinvest.core.errors import usage_error
from perfinvest.core.tools import calls as tool_calls
from perfinvest.core.tools import recognise as tools

#: ``on_progress(elapsed_s, iterations)``, as the runner calls it.
ProgressCallback = Callable[[float, int], None]
_PEEK_LIMIT = 1 << 20
#: A tool-driven run is stopped after this many durations (many scenarios take longer).
TIMEOUT_DURATIONS = 20
CALIBRATION_TIMEOUT_S = 600.0
#: A run whose tool fell short is re-run (asking for more) at most this often.
MAX_REFILLS = 2
MAX_REFILL_FACTOR = 4.0


def peek(cwd: Path) -> Callable[[str], str | None]:
    """A reader of small text files under ``cwd``, for recognising scripts and test files."""

    def read(name: str) -> str | None:
        path = cwd / name
        try:
            if not path.is_file() or path.stat().st_size > _PEEK_LIMIT:
                return None
            return path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None

    return read


def command_words(argv: Sequence[str], shell: bool) -> list[str] | None:
    """The command as argv (a ``--shell`` line split when it is one plain command)."""
    if not shell:
        return list(argv)
    return tools.split_shell(argv[0]) if argv else None


def detect(argv: Sequence[str], shell: bool, cwd: Path) -> str | None:
    """The benchmark tool ``argv`` runs, if perfinvest knows how to drive it."""
    words = command_words(argv, shell)
    return tools.recognise(words, peek(cwd)) if words else None


@dataclass
class ToolRun:
    """A tool-driven run: the outcome, the call made, its parsed export and verdict."""

    outcome: RunOutcome
    call: tools.ToolCall
    parsed: ParseResult | None = None
    measured_s: dict[str, float] = field(default_factory=dict)
    reason: str | None = None  # why the run is invalid, beyond the outcome's own reason
    export_path: Path | None = None
    notes: list[str] = field(default_factory=list)


def _spec_for(
    spec: RunSpec, words: Sequence[str], duration_s: float, prefix: Sequence[str] = ()
) -> RunSpec:
    """``spec`` running ``words`` (under the wrapper ``prefix``), as one long run."""
    argv = [shlex.join(words)] if spec.shell else [*prefix, *words]
    return replace(
        spec,
        argv=argv,
        mode="duration",
        min_duration_s=0.0,
        timeout_s=duration_s * tools.FILL_MARGIN * TIMEOUT_DURATIONS + 120,
    )


def _calibrate_hyperfine(
    spec: RunSpec,
    words: list[str],
    run_dir: Path,
    duration_s: float,
    stop: threading.Event | None,
    prefix: Sequence[str],
) -> list[float]:
    """hyperfine has no time-based option: a short run gives each command's mean time."""
    export = run_dir / "hyperfine-calibration.json"
    calibration_dir = run_dir / "calibration"
    calibration_dir.mkdir(parents=True, exist_ok=True)
    argv = tool_calls.hyperfine_calibration(words, str(export))
    outcome = run_command(
        replace(
            _spec_for(spec, argv, duration_s, prefix),
            timeout_s=max(CALIBRATION_TIMEOUT_S, 3 * duration_s),
            artifact_dir=calibration_dir,
            sample_hz=0.0,
        ),
        stop=stop,
    )
    if not outcome.valid or not export.is_file():
        why = outcome.invalid_reason or "no export written"
        raise _CalibrationError(f"hyperfine calibration run failed: {why}", outcome)
    means = measured_time.hyperfine_means(export.read_text(encoding="utf-8"))
    if not means:
        raise _CalibrationError("hyperfine calibration run measured no command", outcome)
    return means


class _CalibrationError(Exception):
    def __init__(self, message: str, outcome: RunOutcome) -> None:
        super().__init__(message)
        self.message = message
        self.outcome = outcome


def plan(
    tool: str, words: list[str], duration_s: float, run_dir: Path, cwd: Path, runs: int = 0
) -> tools.ToolCall:
    """The rewritten call for ``tool`` (hyperfine needs its calibrated ``runs``)."""
    export = str(run_dir / tools.EXPORT_NAMES[tool]) if tool in tools.EXPORT_NAMES else ""
    if tool == tools.HYPERFINE:
        return tool_calls.hyperfine_call(words, export, runs)
    if tool == tools.PYTEST_BENCHMARK:
        return tool_calls.pytest_call(words, duration_s, export)
    if tool == tools.PYPERF:
        return tool_calls.pyperf_call(words, duration_s, export, peek(cwd))
    if tool == tools.GO_TEST:
        return tool_calls.go_call(words, duration_s)
    raise usage_error(f"unknown tool {tool!r}; known tools: {', '.join(tools.TOOLS)}")


def run_tool(
    tool: str,
    spec: RunSpec,
    *,
    needed_s: float,
    prefix_words: int = 0,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
    on_spawn: Callable[[int | None], None] | None = None,
) -> ToolRun:
    """Run ``spec``'s command as a driven ``tool``: fill ``spec.duration_s``, read the export.

    ``needed_s`` is the measured time each scenario must reach for the run to be valid;
    the first ``prefix_words`` of the command are a wrapper (taskset, prlimit) kept as is.
    """
    prefix = () if spec.shell else tuple(spec.argv[:prefix_words])
    words = command_words(list(spec.argv[len(prefix) :]), spec.shell)
    if not words:
        raise usage_error(
            f"tool-driven mode cannot rewrite the --shell command {spec.argv[0]!r}: run the "
            "tool without --shell (pipes, ; and $ expansions need the shell)"
        )
    run_dir = spec.artifact_dir or spec.cwd
    duration_s = spec.duration_s
    means: list[float] = []
    if tool == tools.HYPERFINE:
        try:
            means = _calibrate_hyperfine(spec, words, run_dir, duration_s, stop, prefix)
        except _CalibrationError as failed:
            call = tool_calls.hyperfine_call(words, "", 0)
            return ToolRun(failed.outcome, call, reason=failed.message)
    target_s = duration_s
    retried: list[str] = []
    while True:
        runs = max((tool_calls.hyperfine_runs(target_s, mean) for mean in means), default=0)
        call = plan(tool, words, target_s, run_dir, spec.cwd, runs)
        attempt = replace(spec, argv=[*prefix, *call.argv], duration_s=target_s)  # its timeout
        result = _attempt(tool, attempt, call, needed_s, on_progress, stop, on_spawn)
        result.notes[:0] = retried
        lacking = [s for s in result.measured_s.values() if s < needed_s]
        if not lacking or result.parsed is None or len(retried) >= MAX_REFILLS:
            return result
        if not result.outcome.valid or (stop is not None and stop.is_set()):
            return result
        # The tool sized its run from cold first iterations and fell short: ask for more.
        factor = min(MAX_REFILL_FACTOR, needed_s / max(min(lacking), 1e-9) * 1.1)
        target_s *= factor
        retried.append(f"{tool} fell short ({result.reason}); re-run asking for {target_s:.3g} s")
        if result.export_path is not None:
            result.export_path.unlink(missing_ok=True)


def _attempt(
    tool: str,
    spec: RunSpec,
    call: tools.ToolCall,
    needed_s: float,
    on_progress: ProgressCallback | None,
    stop: threading.Event | None,
    on_spawn: Callable[[int | None], None] | None = None,
) -> ToolRun:
    """One run of the rewritten call, its export read and its measured time checked."""
    outcome = run_command(
        _spec_for(spec, spec.argv, spec.duration_s),
        on_progress=on_progress,
        stop=stop,
        on_spawn=on_spawn,  # rule 1: the lock records the tool's group (F2)
    )
    result = ToolRun(outcome, call)
    export_path = Path(call.export) if call.export else None
    if export_path is not None:
        if not export_path.is_file():
            result.reason = f"{tool} wrote no export ({export_path.name})"
            return result
        text = export_path.read_text(encoding="utf-8", errors="replace")
        result.export_path = export_path
        for target in call.user_exports:
            destination = spec.cwd / target
            try:
                shutil.copyfile(export_path, destination)
                result.notes.append(f"{tool} export copied to {destination}")
            except OSError as error:
                result.notes.append(f"could not copy the export to {destination}: {error}")
    else:
        text = captured_stdout(outcome)
    try:
        result.parsed = parse(text, call.export_format)
        result.measured_s = measured_time.READERS[tool](text)
    except FormatError as error:
        result.reason = f"{tool} export unreadable: {error.message}"
        return result
    if not result.measured_s:
        result.reason = f"{tool} measured no scenario"
        return result
    short = tools.shortfalls(result.measured_s, needed_s)
    if short:
        result.reason = (
            f"{tool} did not fill the duration (rule 2): {'; '.join(short)} "
            f"({needed_s:g} s needed, measured by the tool)"
        )
    return result
