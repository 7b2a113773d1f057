"""The workflows `ci init` writes, run step by step: perf-history.yml fills the baselines
history that perf-budgets.yml's opt-in history gate reads.

Each `run:` step is executed for real by bash with the perfinvest of this checkout, in a
real git repository, in the order the workflow lists it. What cannot run here is stood in
for, and said: `actions/cache` save/restore is a copy of `.claude/perf/baselines` to and
from a folder, each workflow run starts from a clean checkout (no `.claude`), and the
templates' 60 s runs are shortened (`--duration 1`, `PERF_ALLOW_SHORT=1`) so the test
takes seconds; every other word of the commands is the template's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from perfinvest.app.guardrails.ci_init import HISTORY_WORKFLOW, PR_WORKFLOW

#: `${{ vars.NAME || 'default' }}` and the other expressions the steps use.
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
VARIABLES = {"vars.PERF_HISTORY_WINDOW": "3", "vars.PERF_ENFORCE": "", "runner.os": "Linux"}
SHORTEN = [("baseline --runs 5", "baseline --runs 2 --duration 1"), ("run --runs 5", "run --runs 2 --duration 1")]  # fmt: skip


def _expand(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        name, _, default = match.group(1).partition("||")
        value = VARIABLES.get(name.strip(), "")
        return value or default.strip().strip("'")

    return EXPRESSION.sub(one, text)


def _steps(workflow: str) -> list[dict[str, Any]]:
    jobs = yaml.safe_load(workflow)["jobs"]
    (job,) = jobs.values()
    return list(job["steps"])


def _run_steps(
    workflow: str, names: list[str], cwd: Path, extra_env: dict[str, str], expect: int = 0
) -> int:
    """Run the named `run:` steps, in order, as the runner would (bash -e, the step's env);
    each must exit ``expect``."""
    by_name = {step.get("name"): step for step in _steps(workflow)}
    venv_bin = str(Path(sys.executable).parent)
    for name in names:
        step = by_name[name]
        script = _expand(step["run"])
        for old, new in SHORTEN:
            script = script.replace(old, new)
        env = {
            **os.environ,
            "PATH": f"{venv_bin}{os.pathsep}{os.environ['PATH']}",
            "PERF_ALLOW_SHORT": "1",
            **{k: _expand(str(v)) for k, v in (step.get("env") or {}).items()},
            **extra_env,
        }
        env.pop("AI_STATE_DIR", None)
        done = subprocess.run(
            ["bash", "-e", "-c", script], cwd=cwd, env=env, capture_output=True, text=True,
            timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == expect, f"step {name!r}: {done.stdout}{done.stderr}"
    return expect


def _fresh_checkout(repo: Path, cache: Path) -> None:
    """A new runner: no state folder, then the cache restored (when it holds anything)."""
    shutil.rmtree(repo / ".claude", ignore_errors=True)
    if cache.is_dir():
        shutil.copytree(cache, repo / ".claude" / "perf" / "baselines")


@pytest.mark.slow
def test_the_history_workflow_fills_the_window_the_pr_gate_reads(
    cli: Any, repo: Path, tmp_path: Path
) -> None:
    (repo / "bench").write_text('#!/bin/sh\nexec python3 -c "import time; time.sleep(0.02)"\n')
    (repo / "bench").chmod(0o755)
    assert cli("ci", "init", "--json").code == 0
    assert (repo / ".github/workflows/perf-history.yml").read_text() == HISTORY_WORKFLOW
    history_steps = _steps(HISTORY_WORKFLOW)
    assert [s.get("uses", "").split("@")[0] for s in history_steps][-1] == "actions/cache/save"
    pr_restore = next(
        s for s in _steps(PR_WORKFLOW) if s.get("name") == "Restore the baselines history"
    )
    saved_key = next(s for s in history_steps if "cache/save" in s.get("uses", ""))["with"]["key"]
    assert _expand(saved_key).startswith(_expand(pr_restore["with"]["restore-keys"]))

    cache = tmp_path / "cache"
    for _ in range(3):  # three pushes to main
        _fresh_checkout(repo, cache)
        _run_steps(HISTORY_WORKFLOW, ["Measure the default branch as a baseline"], repo, {})
        shutil.rmtree(cache, ignore_errors=True)
        shutil.copytree(repo / ".claude" / "perf" / "baselines", cache)
    kept = sorted(p.name for p in cache.rglob("*.json"))
    assert len(kept) == 3 and "main.json" in kept  # one current, two archived: none lost

    _fresh_checkout(repo, cache)  # a pull request
    (repo / "perf").mkdir(exist_ok=True)
    shutil.copy(cache / "main.json", repo / "perf" / "baseline.json")  # the committed baseline
    summary = tmp_path / "summary.md"
    _run_steps(
        PR_WORKFLOW,
        ["Measure the pull request", "Check budgets", "Diff against the history"],
        repo,
        {"GITHUB_STEP_SUMMARY": str(summary)},
    )
    diff = json.loads((repo / "perf-report" / "history" / "diff.json").read_text())
    wall = next(m for m in diff["metrics"] if m["metric"].endswith("wall_ms"))
    assert wall["points"] == 3 and len(wall["window"]) == 3, wall  # the three pushes' baselines
    # (its verdict is left to the machine's noise: three 2-run points make a tight window)
    assert re.search(r"\| \S+ \| wall_ms \| history \| 3 \|", summary.read_text())  # --history 3

    # the pull request plants a slowdown: twice the sleep; enforced, the gate fails (exit 8)
    (repo / "bench").write_text('#!/bin/sh\nexec python3 -c "import time; time.sleep(0.04)"\n')
    VARIABLES["vars.PERF_ENFORCE"] = "1"
    try:
        _run_steps(PR_WORKFLOW, ["Measure the pull request"], repo, {})
        code = _run_steps(
            PR_WORKFLOW, ["Check budgets"], repo, {"GITHUB_STEP_SUMMARY": str(summary)}, expect=8
        )
    finally:
        VARIABLES["vars.PERF_ENFORCE"] = ""
    assert code == 8
    enforced = summary.read_text().split("## Performance budgets (enforced)")[1]  # appended
    assert "| **BREACH** | wall_ms | history | 3 |" in enforced
