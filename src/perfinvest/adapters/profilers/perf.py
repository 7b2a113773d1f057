"""Linux perf: native stacks for any language.

``perf record -F 99 --call-graph dwarf`` (frame-pointer stacks are too shallow in optimised
code), then ``perf script -F ...,srcline`` whose sample blocks are folded here into collapsed
stacks. A frame whose DWARF line info names a source file that exists reads
``symbol (file:line)`` (the line executing: the hot line, or a caller's call site); without
debug info it reads ``symbol (dso)``. Reading lines costs ``addr2line`` time: when that takes
longer than ``SRCLINE_TIMEOUT_S`` the stacks are read without lines (and the profile says so).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from perfinvest.adapters.profilers.base import (
    Collected,
    ProfilePlan,
    ProfileRequest,
    RunFacts,
    collected_stacks,
    require_tool,
    stderr_hint,
)
from perfinvest.adapters.profilers.launchers import detect
from perfinvest.core.errors import PerfError, benchmark_failed, environment_error
from perfinvest.core.profiling.hotspots import Stack

NAME = "perf"
DEFAULT_RATE = 99.0
INSTALL_HINT = "apt-get install linux-perf (Debian) or linux-tools-$(uname -r) (Ubuntu)"
DATA_NAME = "perf.data"
COLLAPSED_NAME = "perf.collapsed.txt"
_FRAME = re.compile(r"^\s*[0-9a-fA-F]+\s+(?P<symbol>.+?)\s+\((?P<dso>[^()]*)\)\s*$")
_OFFSET = re.compile(r"\+0x[0-9a-fA-F]+$")
_SRCLINE = re.compile(r"^\s+(?P<file>[^\s].*?):(?P<line>\d+)(?:\s+\(inlined\))?\s*$")
SRCLINE_TIMEOUT_S = 120.0
_PARANOID = Path("/proc/sys/kernel/perf_event_paranoid")


def _forbidden(facts: RunFacts, detail: str) -> PerfError:
    paranoid = _PARANOID.read_text().strip() if _PARANOID.is_file() else "?"
    return environment_error(
        f"perf cannot record here{detail or stderr_hint(facts)}; kernel.perf_event_paranoid "
        f"is {paranoid}: run as root or set it to 1 or lower (sysctl "
        "kernel.perf_event_paranoid=1); in a container allow perf_event_open (seccomp, "
        "CAP_PERFMON)"
    )


def fold_perf_script(text: str, source_root: Path | None = None) -> list[Stack]:
    """``perf script`` sample blocks (leaf-first frames) → collapsed stacks (root-first).

    A frame followed by a srcline (``  hot.c:6``) whose file exists (as named, or relative
    to ``source_root``, where the build ran) becomes ``symbol (/abs/hot.c:6)``.
    """
    stacks: dict[tuple[str, ...], int] = {}
    frames: list[str] = []
    in_sample = False
    last: tuple[str, str] | None = None  # (symbol, dso) of the frame a srcline may follow
    sources: dict[str, str | None] = {}

    def source(file: str) -> str | None:
        if file not in sources:
            path = Path(file)
            if not path.is_absolute() and source_root is not None:
                path = source_root / path
            sources[file] = str(path.resolve()) if file != "??" and path.is_file() else None
        return sources[file]

    def flush() -> None:
        if in_sample and frames:
            key = tuple(reversed(frames))
            stacks[key] = stacks.get(key, 0) + 1

    for line in text.splitlines():
        if not line.strip():
            flush()
            frames = []
            in_sample = False
            last = None
            continue
        if not line[0].isspace():
            flush()
            frames = []
            in_sample = True
            last = None
            continue
        match = _FRAME.match(line)
        if match and in_sample:
            symbol = _OFFSET.sub("", match.group("symbol").strip())
            dso = match.group("dso").strip()
            frames.append(f"{symbol} ({dso})" if dso else symbol)
            last = (symbol, dso)
            continue
        srcline = _SRCLINE.match(line)
        if srcline and in_sample and last is not None:
            found = source(srcline.group("file"))
            if found and int(srcline.group("line")) > 0:
                frames[-1] = f"{last[0]} ({found}:{int(srcline.group('line'))})"
        last = None
    flush()
    return [Stack(frames, count) for frames, count in stacks.items()]


def _perf_script(tool: str, data: Path, with_lines: bool) -> subprocess.CompletedProcess[str]:
    fields = "comm,tid,time,event,ip,sym,dso" + (",srcline" if with_lines else "")
    return subprocess.run(
        [tool, "script", "-i", str(data), "-F", fields],
        capture_output=True,
        text=True,
        check=False,
        errors="replace",
        timeout=SRCLINE_TIMEOUT_S if with_lines else None,
    )


def plan(request: ProfileRequest) -> ProfilePlan:
    tool = require_tool(NAME, INSTALL_HINT)
    launcher = detect(request.command, request.shell)
    rate = request.rate_hz or DEFAULT_RATE
    data = request.out_dir / DATA_NAME
    collapsed = request.out_dir / COLLAPSED_NAME
    wrapped = [
        tool,
        "record",
        "-F",
        f"{rate:g}",
        "--call-graph",
        "dwarf",
        "-o",
        str(data),
        "--",
        *launcher.argv,
    ]

    def collect(facts: RunFacts) -> Collected:
        tail = facts.stderr_tail
        if not data.is_file() or data.stat().st_size == 0:
            if "perf_event_paranoid" in tail or "Permission denied" in tail:
                raise _forbidden(facts, "")
            raise benchmark_failed(f"perf wrote no {DATA_NAME}{stderr_hint(facts)}")
        note = ""
        try:
            done = _perf_script(tool, data, with_lines=True)
        except subprocess.TimeoutExpired:
            note = (
                f"perf: reading source lines took over {SRCLINE_TIMEOUT_S:g} s (addr2line), "
                "hotspots name functions and binaries only"
            )
            done = _perf_script(tool, data, with_lines=False)
        if done.returncode != 0:
            first = (done.stderr.strip().splitlines() or ["unknown error"])[-1]
            raise benchmark_failed(f"perf script could not read {DATA_NAME}: {first}")
        stacks = fold_perf_script(done.stdout, request.cwd)
        collected = collected_stacks(stacks, NAME, facts, [(data, "perf record data")], collapsed)
        collected.note = note
        return collected

    return ProfilePlan(NAME, wrapped, {}, rate, collect)


def check_recording() -> str | None:
    """None when ``perf record`` works here, else why not (a one-line reason)."""
    import shutil

    tool = shutil.which(NAME)
    if tool is None:
        return f"perf is not installed: {INSTALL_HINT}"
    done = subprocess.run(
        [tool, "record", "-q", "-F", "99", "-o", "/dev/null", "--", "true"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        return lines[0] if lines else f"perf record failed with exit code {done.returncode}"
    return None
