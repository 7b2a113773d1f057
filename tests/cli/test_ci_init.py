"""``perfinvest ci init``: templates valid against the GitHub workflow schema (and
actionlint where installed), minimal permissions, current action majors, no overwrite."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from perfinvest.app.guardrails.ci_workflows import DEFAULT_SPEC

#: check-jsonschema from the environment running the tests (the virtualenv's bin folder).
BIN = Path(sys.executable).parent
CHECK = BIN / "check-jsonschema"
#: node24 majors (node20 ones are deprecated on GitHub's runners)
MAJORS = {
    "actions/checkout": "v5",
    "actions/setup-python": "v6",
    "actions/upload-artifact": "v6",
    "actions/download-artifact": "v7",
    "actions/github-script": "v8",
    "pypa/gh-action-pypi-publish": "release/v1",
}


def _workflows(out: Path) -> list[Path]:
    return sorted((out / ".github/workflows").glob("*.yml"))


def actionlint() -> str | None:
    return shutil.which("actionlint") or shutil.which(str(BIN / "actionlint"))


@pytest.mark.slow
def test_ci_init_writes_valid_workflows_and_never_overwrites(
    cli: Any, repo: Path, tmp_path: Path
) -> None:
    out = tmp_path / "proj"
    answer = cli("ci", "init", "--dir", str(out), "--release", "--json")
    assert answer.code == 0, answer.out
    assert DEFAULT_SPEC in " ".join(answer.json["findings"])
    workflows = _workflows(out)
    assert [w.name for w in workflows] == ["perf-budgets.yml", "perf-nightly.yml", "release.yml"]
    check = shutil.which("check-jsonschema") or str(CHECK)
    done = subprocess.run(
        [check, "--builtin-schema", "vendor.github-workflows", *map(str, workflows)],
        check=False, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    mine = out / "perf/budgets.yaml"
    mine.write_text("budgets: []\n")
    again = cli("ci", "init", "--dir", str(out), "--json")
    assert again.code == 2 and "already exists" in again.out
    assert mine.read_text() == "budgets: []\n"
    assert cli("ci", "init", "--dir", str(out), "--force").code == 0
    assert "max_regression_pct: 20" in mine.read_text()


def test_workflows_use_current_majors_and_minimal_permissions(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "proj"
    (out / ".github/workflows").mkdir(parents=True)
    (out / ".github/workflows/perf-history.yml").write_text("name: old\n")
    answer = cli("ci", "init", "--dir", str(out), "--release", "--json")
    assert any("perf-history.yml" in f and "superseded" in f for f in answer.json["findings"])
    docs = {w.name: yaml.safe_load(w.read_text()) for w in _workflows(out)}
    for name, doc in docs.items():
        if name == "perf-history.yml":
            continue
        assert doc["permissions"] == {"contents": "read"}, name  # the default for every job
        for job_name, job in doc["jobs"].items():
            for step in job["steps"]:
                if "uses" in step:
                    action, _, ref = step["uses"].partition("@")
                    assert MAJORS[action] == ref, (name, step["uses"])
                else:  # no expression inside a script: variables reach it through env
                    assert "${{" not in step["run"], (name, job_name, step["run"])
    pr = docs["perf-budgets.yml"]["jobs"]
    assert "permissions" not in pr["compare"]  # read-only: it runs the pull request's code
    assert pr["comment"]["permissions"] == {"pull-requests": "write"}
    assert "head.repo.full_name == github.repository" in pr["comment"]["if"]  # not for forks
    install = next(s for s in pr["compare"]["steps"] if s.get("name") == "Install perfinvest")
    assert install["env"]["SPEC"] == f"${{{{ vars.PERFINVEST_SPEC || '{DEFAULT_SPEC}' }}}}"
    assert re.fullmatch(r"git\+https://github\.com/[\w-]+/perfinvest@v\d+\.\d+\.\d+", DEFAULT_SPEC)
    compare = next(s for s in pr["compare"]["steps"] if "ci compare" in s.get("run", ""))
    assert compare["env"]["BASE"] == "${{ steps.base.outputs.sha }}"
    assert docs["perf-nightly.yml"]["jobs"]["nightly"]["permissions"] == {"contents": "write"}
    release = docs["release.yml"]["jobs"]
    assert release["publish"]["permissions"] == {"id-token": "write"}
    assert "twine check --strict" in release["build"]["steps"][-2]["run"]


@pytest.mark.skipif(
    actionlint() is None, reason="actionlint is not installed (see docs/guardrails.md)"
)
def test_actionlint_passes_the_workflows(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "proj"
    assert cli("ci", "init", "--dir", str(out), "--release").code == 0
    done = subprocess.run(
        [str(actionlint()), *map(str, _workflows(out))],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
