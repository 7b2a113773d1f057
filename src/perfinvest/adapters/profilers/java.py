"""Java: JDK Flight Recorder (``-XX:StartFlightRecording`` before the main class or ``-jar``),
read with ``jfr print --events jdk.ExecutionSample``; or async-profiler collapsed output.
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
    no_samples,
    require_tool,
)
from perfinvest.adapters.profilers.launchers import detect, with_java_option
from perfinvest.core.errors import benchmark_failed
from perfinvest.core.profiling.hotspots import Stack

NAME = "java"
INSTALL_HINT = "apt-get install openjdk-17-jdk-headless (java and jfr, JDK 11 or newer)"
RECORDING_NAME = "recording.jfr"
COLLAPSED_NAME = "java.collapsed.txt"
_JAVA_FRAME = re.compile(r"^\s*(?P<method>[^\s].*?\))\s+line:\s*(?P<line>-?\d+)")
_CLASS = re.compile(r"^(?P<cls>[\w.$]+)\.[\w$<>]+\(")


def parse_jfr_print(text: str, sources: dict[str, str] | None = None) -> list[Stack]:
    """``jfr print --events jdk.ExecutionSample`` text → collapsed stacks.

    Frames read ``pkg.Class.method(args) line: N`` leaf first, N the line executing (the
    method's own line is read from its source). ``sources`` maps a top-level class name to
    its source file when known; a frame without one names the method only.
    """
    samples: list[list[tuple[str, int]]] = []
    frames: list[tuple[str, int]] | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("stackTrace = ["):
            frames = []
        elif frames is not None and stripped == "]":
            samples.append(frames)
            frames = None
        elif frames is not None:
            match = _JAVA_FRAME.match(line)
            if match:
                frames.append((match["method"], int(match["line"])))
    counts: dict[tuple[str, ...], int] = {}
    for sample in samples:
        rendered = []
        for method, number in reversed(sample):
            file = _source_of(method, sources or {})
            if file and number > 0:
                rendered.append(f"{method} ({file}:{number})")
            elif file:
                rendered.append(f"{method} ({file})")
            else:
                rendered.append(method)
        if rendered:
            counts[tuple(rendered)] = counts.get(tuple(rendered), 0) + 1
    return [Stack(frames_, count) for frames_, count in counts.items()]


def _source_of(method: str, sources: dict[str, str]) -> str | None:
    match = _CLASS.match(method)
    if not match:
        return None
    top = match["cls"].split("$")[0]
    return sources.get(top) or sources.get(top.rsplit(".", 1)[-1])


def java_sources(root: Path, limit: int = 5000) -> dict[str, str]:
    """Top-level class name (simple and dotted) → absolute ``.java`` path under ``root``."""
    found: dict[str, str] = {}
    for count, path in enumerate(root.rglob("*.java")):
        if count >= limit:
            break
        found.setdefault(path.stem, str(path))
        parts = path.relative_to(root).with_suffix("").parts
        for i in range(len(parts)):  # src/main/java/com/x/Y.java → com.x.Y, ...
            found.setdefault(".".join(parts[i:]), str(path))
    return found


def plan(request: ProfileRequest) -> ProfilePlan:
    require_tool(NAME, INSTALL_HINT)
    jfr = require_tool("jfr", INSTALL_HINT)
    launcher = detect(request.command, request.shell)
    recording = request.out_dir / RECORDING_NAME
    option = f"-XX:StartFlightRecording=filename={recording},settings=profile"
    argv, env = with_java_option(launcher, option)
    collapsed = request.out_dir / COLLAPSED_NAME

    def collect(facts: RunFacts) -> Collected:
        if not recording.is_file() or recording.stat().st_size == 0:
            raise no_samples("java (JFR)", facts)
        done = subprocess.run(
            [jfr, "print", "--events", "jdk.ExecutionSample", str(recording)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            first = (done.stderr.strip().splitlines() or ["unknown error"])[-1]
            raise benchmark_failed(f"jfr could not read {RECORDING_NAME}: {first}")
        stacks = parse_jfr_print(done.stdout, java_sources(request.repo_root))
        return collected_stacks(
            stacks, "java (JFR)", facts, [(recording, "JFR recording")], collapsed
        )

    return ProfilePlan(NAME, argv, env, None, collect)
