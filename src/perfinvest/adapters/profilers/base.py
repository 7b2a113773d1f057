"""What every profiler adapter provides: a plan to wrap the command, then what it collected."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from perfinvest.core.errors import PerfError, benchmark_failed, environment_error
from perfinvest.core.models import Hotspot
from perfinvest.core.profiling.hotspots import (
    LINES_KEPT,
    ProfileFormatError,
    Stack,
    compute_hotspots,
    parse_collapsed,
    to_collapsed,
)

PROFILERS = ("py-spy", "perf", "cprofile", "node", "go", "java")


@dataclass(frozen=True)
class ProfileRequest:
    """What to profile and where its files go."""

    command: Sequence[str]
    shell: bool
    cwd: Path
    out_dir: Path  # artifacts/<id>/profile-<n>/
    repo_root: Path
    rate_hz: float | None = None  # None: the profiler's default
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunFacts:
    """What happened to the profiled run, for the collector's error messages."""

    wall_s: float
    exit_code: int | None
    stderr_tail: str = ""
    survivors: int = 0  # processes still running when the profiler exited (then killed)


@dataclass
class Collected:
    """A profiler's result: stacks (or ready hotspots for cProfile) and its files."""

    stacks: list[Stack] | None = None
    hotspots: list[Hotspot] | None = None
    files: list[tuple[Path, str]] = field(default_factory=list)  # (path, description)
    total_samples: int = 0
    note: str = ""
    #: definition lines the profiler reports itself: (function, file as in the stacks) -> line
    definitions: dict[tuple[str, str], int] = field(default_factory=dict)


@dataclass(frozen=True)
class ProfilePlan:
    """The command line to run instead of the benchmark, and how to read the result."""

    profiler: str
    argv: list[str]
    env: dict[str, str]
    rate_hz: float | None
    collect: Callable[[RunFacts], Collected]


def find_tool(name: str) -> str | None:
    """``name`` on PATH, else next to this Python (the virtualenv's py-spy)."""
    found = shutil.which(name)
    if found:
        return found
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.is_file() else None


def require_tool(name: str, hint: str) -> str:
    found = find_tool(name)
    if found is None:
        raise environment_error(f"{name} is not installed: {hint}")
    return found


def read_stacks(path: Path, profiler: str, facts: RunFacts) -> list[Stack]:
    """Collapsed stacks written by an adapter; empty or truncated answers a clear error."""
    if not path.is_file() or path.stat().st_size == 0:
        raise no_samples(profiler, facts)
    try:
        return parse_collapsed(path.read_text(encoding="utf-8", errors="replace"))
    except ProfileFormatError as exc:
        if "no samples" in str(exc):
            raise no_samples(profiler, facts) from None
        raise benchmark_failed(f"{profiler} profile {path.name}: {exc}") from None


def no_samples(profiler: str, facts: RunFacts) -> PerfError:
    if facts.wall_s >= 1.0:
        return benchmark_failed(
            f"{profiler} recorded no samples of the program in {facts.wall_s:.1f} s (exit code "
            f"{facts.exit_code}): it was idle (sleeping or waiting on I/O, which sampling "
            "profilers leave out) or exited early; profile a run that keeps the CPU busy"
        )
    return benchmark_failed(
        f"{profiler} recorded no samples: the target exited after {facts.wall_s:.2f} s "
        f"(exit code {facts.exit_code}) before the first sample; profile a run that lasts "
        "at least a second (check the command, or raise --duration)"
    )


def hotspots_of(
    collected: Collected,
    repo_root: Path,
    search: Sequence[Path] = (),
    *,
    top: int | None = 20,
    lines_kept: int | None = LINES_KEPT,
) -> list[Hotspot]:
    """Hotspots of what a profiler collected: per function, with its definition and lines.

    Definition lines come from the profiler when it reports them, else from the source
    files (found as named, or under ``search`` and the repository for relative names).
    """
    if collected.stacks is None:
        hotspots = collected.hotspots or []
        return hotspots if top is None else hotspots[:top]
    return stack_hotspots(
        collected.stacks,
        repo_root,
        search,
        known=collected.definitions,
        top=top,
        lines_kept=lines_kept,
    )


def stack_hotspots(
    stacks: Sequence[Stack],
    repo_root: Path,
    search: Sequence[Path] = (),
    *,
    known: dict[tuple[str, str], int] | None = None,
    top: int | None = 20,
    lines_kept: int | None = LINES_KEPT,
) -> list[Hotspot]:
    """Collapsed stacks → hotspots, definition lines resolved from the sources."""
    from perfinvest.adapters.symbols import definitions_for

    definitions = definitions_for(stacks, [*search, repo_root], known, repo_root=repo_root)
    return compute_hotspots(
        stacks, repo_root=str(repo_root), top=top, definition=definitions, lines_kept=lines_kept
    )


def collected_stacks(
    stacks: list[Stack],
    profiler: str,
    facts: RunFacts,
    raw_files: list[tuple[Path, str]],
    collapsed: Path,
    definitions: dict[tuple[str, str], int] | None = None,
) -> Collected:
    """A profile read into stacks: refused when empty, else kept as collapsed stacks too."""
    if not stacks:
        raise no_samples(profiler, facts)
    collapsed.write_text(to_collapsed(stacks), encoding="utf-8")
    return Collected(
        stacks=stacks,
        files=[*raw_files, (collapsed, f"{profiler} collapsed stacks")],
        total_samples=sum(s.count for s in stacks),
        definitions=dict(definitions or {}),
    )


def stderr_hint(facts: RunFacts) -> str:
    lines = [line for line in facts.stderr_tail.strip().splitlines() if line.strip()]
    return f" (stderr: {lines[-1][:160]})" if lines else ""
