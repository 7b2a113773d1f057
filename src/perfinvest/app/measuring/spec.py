"""What a measurement runs and where it belongs: the benchmark, the session, progress.

Also the benchmark's run mode as perfinvest drives it (``resolve_tool_mode``): resolved once
per measurement, then handed down to every run.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from perfinvest.core.models import Run, RunMode
from perfinvest.core.policy import DurationDecision


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
    #: mode "tool": the benchmark tool perfinvest drives (core/tools/recognise.py)
    tool: str | None = None
    tool_prefix: int = 0  # leading words of ``command`` that wrap the tool (taskset, prlimit)
    #: ``resolve_tool_mode`` ran: ``mode`` and ``tool`` are final, runs use them as they are
    mode_resolved: bool = False


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


def resolve_tool_mode(benchmark: Benchmark, progress: Progress | None = None) -> Benchmark:
    """Duration mode on a recognised tool becomes tool-driven; ``mode="tool"`` needs a tool.

    A tool exits when it has measured what it was told to, so in duration mode it would end
    early (an invalid run); perfinvest drives it instead and says so (``progress.note``).
    Resolve once per measurement and hand the result down: detection reads the command's
    folder, and a resolved benchmark is returned as it is.
    """
    if benchmark.mode_resolved:
        return benchmark
    if benchmark.mode == "repeat" or (benchmark.mode == "tool" and benchmark.tool):
        return replace(benchmark, mode_resolved=True)
    from perfinvest.adapters.tools.run import detect

    command = benchmark.command[benchmark.tool_prefix :]
    tool = benchmark.tool or detect(command, benchmark.shell, benchmark.cwd)
    if tool is None:
        if benchmark.mode == "tool":
            from perfinvest.core.errors import usage_error
            from perfinvest.core.tools.recognise import TOOLS

            raise usage_error(
                "tool-driven mode: the command is not one of "
                f"{', '.join(TOOLS)} as perfinvest recognises them; name it with --tool NAME"
            )
        return replace(benchmark, mode_resolved=True)
    if progress is not None and benchmark.mode == "duration":
        progress.note(
            f"{tool} recognised: tool-driven mode (the tool fills the duration with its own "
            "options and perfinvest reads its export; --mode repeat times it as one command)"
        )
    return replace(benchmark, mode="tool", tool=tool, mode_resolved=True)


def with_env(benchmark: Benchmark, extra: Mapping[str, str]) -> Benchmark:
    return replace(benchmark, env={**benchmark.env, **extra})
