"""Go: ``go test -cpuprofile`` (pprof), read with ``go tool pprof -raw``.

Every location names the line it was executing (``file:line``) and, from Go 1.20, the
function's start line (``s=N``; older profiles write ``s=0``: the source is read instead).
"""

from __future__ import annotations

import re
import shutil
import subprocess

from perfinvest.adapters.profilers.base import (
    Collected,
    ProfilePlan,
    ProfileRequest,
    RunFacts,
    collected_stacks,
    no_samples,
    require_tool,
)
from perfinvest.adapters.profilers.launchers import detect, with_go_cpuprofile
from perfinvest.core.errors import benchmark_failed
from perfinvest.core.profiling.hotspots import Stack

NAME = "go"
INSTALL_HINT = "apt-get install golang-go (go tool pprof reads the profile)"
PROFILE_NAME = "cpu.pprof"
COLLAPSED_NAME = "go.collapsed.txt"
_SAMPLE = re.compile(r"^\s*(?P<count>\d+)\s+\d+:\s*(?P<ids>[\d ]+)\s*$")
_LOCATION = re.compile(r"^\s*(?P<id>\d+):\s+0x[0-9a-f]+\s+(?:M=\d+\s+)?(?P<rest>.*)$")
_LINE = re.compile(r"^(?P<function>\S+)\s+(?P<file>\S+):(?P<line>\d+)(?:\s+s=(?P<start>\d+))?\s*$")


def read_pprof_raw(text: str) -> tuple[list[Stack], dict[tuple[str, str], int]]:
    """``go tool pprof -raw`` → collapsed stacks and the start lines pprof knows."""
    samples: list[tuple[int, list[int]]] = []
    locations: dict[int, list[tuple[str, str, int]]] = {}
    starts: dict[tuple[str, str], int] = {}
    section = ""
    current: int | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped in ("Samples:", "Locations", "Mappings"):
            section = stripped
            continue
        if section == "Samples:":
            match = _SAMPLE.match(line)
            if match:
                samples.append((int(match["count"]), [int(i) for i in match["ids"].split()]))
        elif section == "Locations":
            match = _LOCATION.match(line)
            rest = match["rest"] if match else stripped
            if match:
                current = int(match["id"])
                locations[current] = []
            parsed = _LINE.match(rest)
            if parsed and current is not None:
                function, file = parsed["function"], parsed["file"]
                locations[current].append((function, file, int(parsed["line"])))
                if parsed["start"] and int(parsed["start"]) > 0:
                    starts[(function, file)] = int(parsed["start"])
    stacks = []
    for count, ids in samples:
        frames: list[str] = []
        for location in ids:  # leaf first; inlined entries innermost first
            for function, file, number in locations.get(location, []):
                frames.append(f"{function} ({file}:{number})")
        if frames and count:
            stacks.append(Stack(tuple(reversed(frames)), count))
    return stacks, starts


def plan(request: ProfileRequest) -> ProfilePlan:
    tool = require_tool(NAME, INSTALL_HINT)
    launcher = detect(request.command, request.shell)
    output = request.out_dir / PROFILE_NAME
    argv = with_go_cpuprofile(launcher, output)
    collapsed = request.out_dir / COLLAPSED_NAME

    def collect(facts: RunFacts) -> Collected:
        if not output.is_file() or output.stat().st_size == 0:
            raise no_samples(NAME, facts)
        done = subprocess.run(
            [tool, "tool", "pprof", "-raw", str(output)],
            capture_output=True,
            text=True,
            check=False,
            cwd=request.cwd,
        )
        if done.returncode != 0:
            first = (done.stderr.strip().splitlines() or ["unknown error"])[-1]
            raise benchmark_failed(f"go tool pprof could not read {PROFILE_NAME}: {first}")
        stacks, starts = read_pprof_raw(done.stdout)
        return collected_stacks(
            stacks, NAME, facts, [(output, "Go pprof CPU profile")], collapsed, starts
        )

    return ProfilePlan(NAME, argv, {}, None, collect)


def is_available() -> bool:
    return shutil.which(NAME) is not None
