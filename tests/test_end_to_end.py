"""A full investigation driven only through `perfinvest ... --json`, as an agent would:
each answer's `next` chooses the following command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from perfinvest.app.demo import _app_file, build_repository

PHASES = [
    "setup", "baseline", "breaking-point", "constraints", "hypotheses",
    "code-paths", "profiling", "optimization", "decision", "consolidation",
]  # fmt: skip


class Agent:
    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self.answers: list[dict[str, Any]] = []

    def __call__(self, *args: str) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, "-m", "perfinvest", *args, "--json"],
            cwd=self.repo, capture_output=True, text=True, check=False, env=dict(os.environ),
        )  # fmt: skip
        lines = [line for line in done.stdout.splitlines() if line.strip()]
        assert len(lines) == 1, (
            f"{args}: expected one JSON object, got {done.stdout!r} {done.stderr!r}"
        )
        answer: dict[str, Any] = json.loads(lines[0])
        assert answer["ok"], f"{args}: {answer.get('error')}"
        self.answers.append(answer)
        return answer


def act(agent: Agent, phase: str, repo: Path) -> dict[str, Any]:
    """What an agent runs for the phase named in `next`."""
    short = ("--duration", "1")
    if phase == "baseline":
        return agent("baseline", "--runs", "2", *short)
    if phase == "breaking-point":
        return agent(
            "breaking-point", "--min", "500", "--max", "8000", "--resolution", "1000",
            "--fail-when", "p95_ms>5", *short,
        )  # fmt: skip
    if phase == "constraints":
        return agent("constraints", "--cpu", "0.5", "--runs", "2", *short)
    if phase == "hypotheses":
        gathered = agent("hypotheses", "gather", "--since", "v0.9")
        assert gathered["next"] == "hypotheses"
        commit = next(c for c in gathered["data"]["commits"] if "textstats.py" in c["files"])
        return agent("hypotheses", "add", f"{commit['sha'][:10]} made unique_words quadratic",
                     "--evidence", commit["subject"], "--confidence", "high")  # fmt: skip
    if phase == "code-paths":
        return agent("code-paths")
    if phase == "profiling":
        return agent("profile", *short)
    if phase == "optimization":
        agent("experiment", "start", "--hypothesis", "H1", "--change", "dict keeps order",
              "--files", "textstats.py")  # fmt: skip
        (repo / "textstats.py").write_text(_app_file("textstats_fast.py"))
        return agent("experiment", "run", "--runs", "2", *short)
    if phase == "decision":
        return agent("decide", "--verdict", "stop", "--rationale", "fixed and measured")
    if phase == "consolidation":
        return agent("consolidate")
    raise AssertionError(f"unexpected next phase {phase!r}")


@pytest.mark.slow
def test_agent_drives_all_phases_by_next(tmp_path: Path) -> None:
    repo = build_repository(tmp_path)
    agent = Agent(repo)
    answer = agent(
        "start", "--scenario", "unique_words latency", "--command", "python3 bench.py",
        "--metric", "p95_ms", "--direction", "lower", "--success", "p95_ms < 0.5",
        "--version", "v1", "--allow-short-runs", "end-to-end test",
    )  # fmt: skip
    visited = ["setup"]
    while answer["next"] is not None:
        phase = answer["next"]
        assert phase == PHASES[len(visited)], (visited, phase)
        answer = act(agent, phase, repo)
        visited.append(phase)
    assert visited == PHASES and answer["status"] == "complete"

    perf = repo / ".claude" / "perf"
    state = json.loads((perf / "investigation.json").read_text())
    assert state["status"] == "complete" and state["experiments"][-1]["verdict"] == "improved"
    log = (perf / "investigations" / f"{state['id']}.md").read_text()
    for phase in PHASES:
        assert f": {phase} (attempt 1" in log, phase
    baseline = json.loads((perf / "baselines" / "v1.json").read_text())
    assert baseline["consolidated"] and len(baseline["runs"]) >= 2

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
        ).stdout

    checkpoints = [
        line.split(" ", 1)
        for line in git("log", "--format=%H %s").splitlines()
        if line.split(" ", 1)[1].startswith("perf(")
    ]
    phases_committed = set()
    for sha, _subject in checkpoints:
        files = git("show", "--name-only", "--format=", sha).split()
        assert files and all(f.startswith(".claude/perf/") for f in files), files
        trailer = git("log", "-1", "--format=%(trailers:key=Perf-Phase,valueonly)", sha).strip()
        phases_committed.add(trailer)
    assert phases_committed == set(PHASES)
    deltas = git("log", "--format=%(trailers:key=Perf-Delta,valueonly)").split()
    assert any(d.endswith("%") and d.startswith("-") for d in deltas)  # the experiment's gain
    assert git("status", "--porcelain").strip() == ""  # the user's tree is exactly as before
