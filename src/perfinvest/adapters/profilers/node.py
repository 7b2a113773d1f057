"""Node.js: V8's ``--cpu-prof`` writes ``.cpuprofile`` JSON, parsed here into stacks.

Each node's ``positionTicks`` say on which lines its own samples were: they become the
leaf frames' lines (the hot lines); ``callFrame.lineNumber`` is the function's own line.

``node --cpu-prof --cpu-prof-dir DIR script.js``; for ``npm run x``/``npx``/``yarn`` and shell
lines the flags go through ``NODE_OPTIONS`` so every node process started underneath writes
its own profile (all of them are merged).
"""

from __future__ import annotations

import json
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
from perfinvest.core.profiling.hotspots import Stack

NAME = "node"
INSTALL_HINT = "apt-get install nodejs (Node 12 or newer has --cpu-prof)"
COLLAPSED_NAME = "node.collapsed.txt"


def _location(call: dict[str, Any]) -> tuple[str, str, int | None]:
    """(function, file or "", definition line or None) of a V8 call frame."""
    name = call.get("functionName") or "(anonymous)"
    url = str(call.get("url") or "")
    if url.startswith("file://"):
        url = url[len("file://") :]
    line = int(call.get("lineNumber", -1))
    return name, url, line + 1 if line >= 0 else None


def _frame(call: dict[str, Any], line: int | None = None) -> str:
    name, url, _ = _location(call)
    if not url:
        return name
    return f"{name} ({url}:{line})" if line else f"{name} ({url})"


def _line_split(node: dict[str, Any], count: int) -> list[tuple[int | None, int]]:
    """A node's self samples per source line (V8's ``positionTicks``, 1-based lines); what
    the ticks do not cover stays without a line."""
    split: list[tuple[int | None, int]] = []
    left = count
    ticks = sorted(
        (int(t["line"]), int(t["ticks"]))
        for t in node.get("positionTicks") or []
        if int(t.get("line", 0)) > 0 and int(t.get("ticks", 0)) > 0
    )
    for line, hits in sorted(ticks, key=lambda t: -t[1]):
        taken = min(hits, left)
        if taken:
            split.append((line, taken))
            left -= taken
    if left:
        split.append((None, left))
    return split


def read_cpuprofile(
    text: str, source: str = ".cpuprofile"
) -> tuple[list[Stack], dict[tuple[str, str], int]]:
    """A V8 ``.cpuprofile`` → collapsed stacks and each function's definition line.

    Callers' frames carry no line (V8 records no call sites); a leaf frame carries the line
    its ticks were on (``positionTicks``); the function's own line is ``callFrame.lineNumber``.
    """
    try:
        document = json.loads(text)
        nodes = {int(n["id"]): n for n in document["nodes"]}
        samples = [int(s) for s in document.get("samples", [])]
    except (ValueError, KeyError, TypeError) as exc:
        raise benchmark_failed(
            f"{source} is not a readable V8 CPU profile (truncated or malformed: {exc})"
        ) from None
    parent: dict[int, int] = {}
    definitions: dict[tuple[str, str], int] = {}
    for node_id, node in nodes.items():
        for child in node.get("children", []):
            parent[int(child)] = node_id
        name, url, defined = _location(node.get("callFrame", {}))
        if url and defined:
            definitions.setdefault((name, url), defined)
    counts: dict[int, int] = {}
    if samples:
        for node_id in samples:
            counts[node_id] = counts.get(node_id, 0) + 1
    else:  # some writers keep only hitCount
        counts = {i: int(n.get("hitCount", 0)) for i, n in nodes.items() if n.get("hitCount")}
    stacks = []
    for node_id, count in counts.items():
        if node_id not in nodes:
            continue
        callers = []
        current: int | None = parent.get(node_id)
        while current is not None and current in nodes:
            callers.append(_frame(nodes[current]["callFrame"]))
            current = parent.get(current)
        root_first = tuple(reversed(callers))
        leaf = nodes[node_id]
        for line, hits in _line_split(leaf, count):
            stacks.append(Stack((*root_first, _frame(leaf["callFrame"], line)), hits))
    return stacks, definitions


def parse_cpuprofile(text: str, source: str = ".cpuprofile") -> list[Stack]:
    """A V8 ``.cpuprofile`` (nodes with children, samples as node ids) → collapsed stacks."""
    return read_cpuprofile(text, source)[0]


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
        definitions: dict[tuple[str, str], int] = {}
        for path in files:
            read, defined = read_cpuprofile(path.read_text(encoding="utf-8"), path.name)
            stacks.extend(read)
            definitions.update(defined)
        return collected_stacks(
            stacks, NAME, facts, [(p, "V8 .cpuprofile") for p in files], collapsed, definitions
        )

    return ProfilePlan(NAME, argv, env, request.rate_hz, collect)
