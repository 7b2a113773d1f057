"""The pull-request workflow `ci init` writes, run as a runner would (issue 24): every
`run:` step in order, in a scratch clone whose pull request makes `./bench` 50 % slower,
with perfinvest installed by the workflow's own install step from this checkout
(vars.PERFINVEST_SPEC) into a fresh virtualenv. See tests/cli/workflow_runner.py for what
stands in for the `uses:` steps."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.cli.workflow_runner import run_job
from tests.conftest import git
from tests.packaging import ROOT

from perfinvest.app.guardrails.ci_workflows import PR_WORKFLOW
from perfinvest.core.guardrails.ci_comment import MARKER

#: real timing judged against thresholds: alone, after the parallel tiers (scripts/test.sh)
pytestmark = pytest.mark.serial


def _pull_request(tmp_path: Path) -> tuple[Path, str]:
    """An upstream with main (the base) and a branch 50 % slower; a clone at its head."""
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    git(upstream, "init", "-q", "-b", "main")
    for seconds, message in ((0.04, "base"), (0.06, "pull request: 50 % slower")):
        (upstream / "bench").write_text(f"#!/bin/sh\nexec sleep {seconds}\n")
        (upstream / "bench").chmod(0o755)
        git(upstream, "add", "bench")
        git(upstream, "commit", "-q", "-m", message)
        if seconds == 0.04:
            base = git(upstream, "rev-parse", "HEAD").strip()
            git(upstream, "checkout", "-q", "-b", "feature")
    git(upstream, "checkout", "-q", "main")
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(upstream), str(work))
    git(work, "checkout", "-q", "--detach", "origin/feature")  # actions/checkout's detached HEAD
    return work, base


@pytest.mark.slow
@pytest.mark.xdist_group("installed_venv")  # the worker that built the wheel venv
def test_the_pr_workflow_runs_step_by_step_and_writes_the_comment(
    cli: Any, installed_venv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work, base = _pull_request(tmp_path)
    monkeypatch.chdir(work)
    assert cli("ci", "init", "--json").code == 0
    workflow = (work / ".github/workflows/perf-budgets.yml").read_text()
    assert workflow == PR_WORKFLOW
    scratch = tmp_path / "runner"
    scratch.mkdir()
    summary = scratch / "summary.md"
    variables = {"PERFINVEST_SPEC": str(ROOT), "PERF_RUNS": "3", "PERF_DURATION": "0.3"}
    env = {
        "PATH": f"{installed_venv}{os.pathsep}{os.environ['PATH']}",  # setup-python's python
        "GITHUB_BASE_REF": "main",
        "GITHUB_EVENT_NAME": "pull_request",
    }
    job = run_job(workflow, "compare", work, variables=variables, env=env, summary=summary,
                  scratch=scratch)  # fmt: skip
    assert job.code == 0, job.log  # warn-only by default
    assert job.ran == ["Install perfinvest", "Find the merge base", "Compare base and head on this runner"]  # fmt: skip
    assert job.uses == ["actions/checkout@v5", "actions/setup-python@v6", "actions/upload-artifact@v6"]  # fmt: skip
    assert job.outputs["base"]["sha"] == base  # the merge base of main and the pull request
    comment = (work / "perf-report" / "comment.md").read_text()
    assert comment.startswith(MARKER) and "Performance budget breached: wall_ms +" in comment
    assert "(warn-only)" in comment.splitlines()[1]
    assert summary.read_text() == comment
    upload = yaml.safe_load(workflow)["jobs"]["compare"]["steps"][-1]
    assert upload["with"]["path"] == "perf-report/"  # what the comment job downloads
    assert git(work, "status", "--porcelain") == "?? .github/\n?? perf-report/\n?? perf/\n"

    enforced = run_job(
        workflow,
        "compare",
        work,
        variables=variables | {"PERF_ENFORCE": "1"},
        env=env,
        summary=summary,
        scratch=scratch,
        skip=("Install perfinvest",),
    )  # fmt: skip  (installed by the first run)
    assert enforced.code == 8, enforced.log
    assert "(enforced: this check fails)" in (work / "perf-report" / "comment.md").read_text()
    assert git(work, "worktree", "list").count("\n") == 1  # no worktree left behind
