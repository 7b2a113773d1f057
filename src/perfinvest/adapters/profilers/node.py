"""Node.js: V8's ``--cpu-prof`` writes ``.cpuprofile`` JSON, parsed here into stacks.

``node --cpu-prof --cpu-prof-dir DIR script.js``; for ``npm run x``/``npx``/``yarn`` and shell
lines the flags go through ``NODE_OPTIONS`` so every node process started underneath writes
its own profile (all of them are merged).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from perfinvest.adapters.profilers.base import (
    Collected,
    ProfilePlan,
    ProfileRequest,
    RunFacts,
    collected_stacks,
    no_samples,
    require_tool,
)
from perfinvest.adapters.profilers.launchers import detect, with_node_flags
from perfinvest.core.errors import benchmark_failed
from perfinvest.core.hotspots import Stack

NAME = "node"
INSTALL_HINT = "apt-get install nodejs (Node 12 or newer has --cpu-prof)"
COLLAPSED_NAME = "node.collapsed.txt"


def _frame(call: dict[str, Any]) -> str:
    name = call.get("functionName") or "(anonymous)"
    url = str(call.get("url") or "")
    if url.startswith("file://"):
        url = url[len("file://") :]
    line = int(call.get("lineNumber", -1))
    if not url:
        return name
    return f"{name} ({url}:{line + 1})" if line >= 0 else f"{name} ({url})"


def parse_cpuprofile(text: str, source: str = ".cpuprofile") -> list[Stack]:
    """A V8 ``.cpuprofile`` (nodes with children, samples as node ids) → collapsed stacks."""
    try:
        document = json.loads(text)
        nodes = {int(n["id"]): n for n in document["nodes"]}
        samples = [int(s) for s in document.get("samples", [])]
    except (ValueError, KeyError, TypeError) as exc:
        raise benchmark_failed(
            f"{source} is not a readable V8 CPU profile (truncated or malformed: {exc})"
        ) from None
    parent: dict[int, int] = {}
    for node_id, node in nodes.items():
        for child in node.get("children", []):
            parent[int(child)] = node_id
    counts: dict[int, int] = {}
    if samples:
        for node_id in samples:
            counts[node_id] = counts.get(node_id, 0) + 1
    else:  # some writers keep only hitCount
        counts = {i: int(n.get("hitCount", 0)) for i, n in nodes.items() if n.get("hitCount")}
    stacks = []
    for node_id, count in counts.items():
        frames = []
        current: int | None = node_id
        while current is not None and current in nodes:
            frames.append(_frame(nodes[current]["callFrame"]))
            current = parent.get(current)
        stacks.append(Stack(tuple(reversed(frames)), count))
    return stacks


def plan(request: ProfileRequest) -> ProfilePlan:
    require_tool(NAME, INSTALL_HINT)
    launcher = detect(request.command, request.shell)
    profile_dir = request.out_dir / "cpuprofiles"
    flags = ["--cpu-prof", f"--cpu-prof-dir={profile_dir}"]
    if request.rate_hz:
        flags.append(f"--cpu-prof-interval={max(1, int(1_000_000 / request.rate_hz))}")
    argv, env = with_node_flags(launcher, flags)
    collapsed = request.out_dir / COLLAPSED_NAME

    def collect(facts: RunFacts) -> Collected:
        files = sorted(profile_dir.glob("*.cpuprofile")) if profile_dir.is_dir() else []
        if not files:
            raise no_samples(NAME, facts)
        stacks: list[Stack] = []
        for path in files:
            stacks.extend(parse_cpuprofile(path.read_text(encoding="utf-8"), path.name))
        return collected_stacks(
            stacks, NAME, facts, [(p, "V8 .cpuprofile") for p in files], collapsed
        )

    return ProfilePlan(NAME, argv, env, request.rate_hz, collect)


def read_profile(path: Path) -> list[Stack]:
    return parse_cpuprofile(path.read_text(encoding="utf-8"), path.name)
