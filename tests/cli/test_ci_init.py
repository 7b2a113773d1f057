"""``perfinvest ci init``: templates valid against the GitHub workflow schema, no overwrite."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

#: check-jsonschema from the environment running the tests (the virtualenv's bin folder).
CHECK = Path(sys.executable).parent / "check-jsonschema"


@pytest.mark.slow
def test_ci_init_writes_valid_workflows_and_never_overwrites(
    cli: Any, repo: Path, tmp_path: Path
) -> None:
    out = tmp_path / "proj"
    answer = cli("ci", "init", "--dir", str(out), "--json")
    assert answer.code == 0, answer.out
    workflows = sorted((out / ".github/workflows").glob("*.yml"))
    assert [w.name for w in workflows] == [
        "perf-budgets.yml",
        "perf-history.yml",
        "perf-nightly.yml",
    ]
    check = shutil.which("check-jsonschema") or str(CHECK)
    done = subprocess.run(
        [check, "--builtin-schema", "vendor.github-workflows", *map(str, workflows)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    pr = (out / ".github/workflows/perf-budgets.yml").read_text()
    assert 'history="--history $WINDOW"' in pr  # the opt-in history gate
    assert 'perfinvest diff --history "$WINDOW" perf-current.json' in pr
    mine = out / "perf/budgets.yaml"
    mine.write_text("budgets: []\n")
    again = cli("ci", "init", "--dir", str(out), "--json")
    assert again.code == 2 and "already exists" in again.out
    assert mine.read_text() == "budgets: []\n"
    assert cli("ci", "init", "--dir", str(out), "--force").code == 0
    assert "max_regression_pct: 20" in mine.read_text()
