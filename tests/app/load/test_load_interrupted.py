"""An interrupted `perfinvest load run` (SIGTERM/SIGINT to perfinvest) is recorded from
Locust's dump, marked interrupted, never judged, logged, and shown by `status`.

A real Locust subprocess under a real `perfinvest` process, against a loopback server.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import START_ARGS
from tests.support.server import Behaviour, serve


@pytest.fixture
def url() -> Iterator[str]:
    with serve(Behaviour(routes={"/fast": (0.002, 200)})) as base:
        yield base


def _targets(repo: Path, url: str) -> Path:
    path = repo / "t.yaml"
    path.write_text(
        f"base_url: {url}\nslo_defaults: ['p95_ms <= 80']\nroutes:\n"
        "  - {name: fast, path: /fast}\n"
    )
    return path


def test_a_refusal_inside_an_investigation_names_it(repo: Path, url: str, cli: Any) -> None:
    assert cli(*START_ARGS, "--json").code == 0
    inv = cli("status", "--json").json["investigation"]
    targets = _targets(repo, url)
    refused = cli("load", "run", "--targets", str(targets), "--users", "61", "--json")
    assert refused.code == 3, refused.out
    assert refused.json["investigation"] == inv


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_is_recorded_not_judged_logged_and_in_status(
    sig: signal.Signals, repo: Path, url: str, cli: Any
) -> None:
    assert cli(*START_ARGS, "--json").code == 0
    inv = cli("status", "--json").json["investigation"]
    targets = _targets(repo, url)
    artifacts = repo / ".claude" / "perf" / "artifacts" / inv
    proc = subprocess.Popen(
        [sys.executable, "-m", "perfinvest", "load", "run", "--profile", "baseline"]
        + ["--targets", str(targets), "--users", "2", "--duration", "30", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not list(artifacts.glob("load-*/plan.json")):
        time.sleep(0.1)
    time.sleep(2.5)  # Locust is sending load
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=40)
    assert proc.returncode == 130, out + err
    answer = json.loads(out)
    assert answer["error"]["kind"] == "interrupted"
    assert answer["investigation"] == inv  # not null while one is active
    data = answer["data"]
    folder = Path(data["output_dir"])
    assert folder.parent == artifacts
    assert str(folder) in answer["error"]["message"]
    assert data["interrupted"] is True and data["passed"] is None and data["verdicts"] == []

    document = json.loads((folder / "result.json").read_text())
    assert document["interrupted"] is True and document["passed"] is None
    assert document["verdicts"] == []
    assert document["routes"]["all"]["requests"] > 0  # the partial run's own numbers
    assert document["routes"]["all"]["rps"] > 0  # over the seconds it ran, not the plan's
    run = document["run"]
    assert run["valid"] is False and run["invalid_reason"].startswith("interrupted")
    assert run["duration_s"] < 15
    (on_disk,) = json.loads((folder / "runs.json").read_text())
    assert on_disk["valid"] is False
    matrix = (folder / "slo_matrix.md").read_text()
    assert "(interrupted: stopped after" in matrix and "| not judged |" in matrix
    assert "| PASS |" not in matrix and "| FAIL |" not in matrix

    log = (repo / ".claude" / "perf" / "investigations" / f"{inv}.md").read_text()
    (section,) = [s for s in log.split("\n## ") if s.startswith("Load run: baseline")]
    assert "(interrupted)" in section.splitlines()[0]
    assert " UTC" in section.splitlines()[0]
    assert "**Command:** `perfinvest load run --profile baseline --targets" in section
    assert "**Interrupted:** stopped after" in section
    assert f"artifacts/{inv}/{folder.name}" in section
    assert "\n### SLO matrix: baseline" in section
    assert "\n# SLO matrix" not in log  # no bare top-level heading in the log

    status = cli("status", "--json")
    assert status.code == 0, status.out
    (row,) = status.json["data"]["load_runs"]
    assert row == {
        "profile": "baseline",
        "at": row["at"],
        "verdict": "interrupted",
        "folder": f"artifacts/{inv}/{folder.name}",
    }
    assert row["at"].endswith(" UTC")
    assert any("load run baseline" in f and "interrupted" in f for f in status.json["findings"])
    # excluded from the verdicts of what reads load runs: capacity leaves it out
    capacity = cli("capacity", "--source", "load", "--json")
    assert "interrupted (a partial run), left out" in json.dumps(capacity.json)
