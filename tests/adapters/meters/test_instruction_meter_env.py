"""The instruction meter's fixed environment: unchanged code counts the same from
``baseline`` and ``run`` (real valgrind, a real Python program), and the gate passes it.

Before the fixed environment, ``run`` and ``baseline`` gave a Python program different
environments (artifact folder, label, investigation id of different lengths, everything
perfinvest itself inherited), its count moved with their size, and unchanged code failed
``history check --enforce`` (exit 8) against baselines measured by ``baseline``.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import START_ARGS

from perfinvest.adapters.meters.environment import ARTIFACT_BASE, metered_env

pytestmark = pytest.mark.skipif(
    shutil.which("valgrind") is None, reason="needs valgrind (scripts/bootstrap.sh installs it)"
)

WORK = """\
import os, pathlib
total = sum(i * i for i in range(20000))
pathlib.Path(os.environ["PERF_ARTIFACT_DIR"], "seen.json").write_text(
    __import__("json").dumps(dict(os.environ))
)
print(total)
"""


def _instructions(doc: dict[str, Any]) -> list[float]:
    return [
        next(m["value"] for m in run["metrics"] if m["name"] == "instructions")
        for run in doc["runs"]
        if run["valid"]
    ]


@pytest.mark.slow
@pytest.mark.serial  # exact equal counts: under four workers the first run differed by 104
def test_unchanged_code_passes_the_gate_from_baseline_and_from_run(
    repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "work.py").write_text(WORK)
    args = list(START_ARGS)
    args[args.index("--command") + 1] = f"{sys.executable} work.py"
    assert cli(*args, "--no-checkpoint", "--json").code == 0
    for i in range(4):
        # perfinvest's own environment changes between baselines: none of it may count
        monkeypatch.setenv("PERFINVEST_TEST_NOISE", "x" * (20 * i + 1))
        done = cli(
            "baseline", "--meter", "instructions", "--runs", "2", "--no-checkpoint", "--json"
        )
        assert done.code == 0, done.out
    history = cli("history", "--json")  # every baseline kept, archived ones included
    assert history.code == 0, history.out
    assert [r["status"] for r in history.json["data"]["rows"]][3:] == ["within"]
    perf = repo / ".claude" / "perf"
    baselines = sorted(p for p in perf.rglob("*.json") if "baselines" in p.parts)
    counts = [c for path in baselines for c in _instructions(json.loads(path.read_text()))]
    assert len(counts) == 8 and len(set(counts)) == 1, counts  # exact, whatever the env
    monkeypatch.setenv("PERFINVEST_TEST_NOISE", "y" * 62)
    current = repo / "current.json"
    ran = cli(
        "run",
        "--meter",
        "instructions",
        "--export",
        str(current),
        "--json",
        "--",
        sys.executable,
        "work.py",
    )
    assert ran.code == 0, ran.out
    runs = json.loads(current.read_text())
    runs = runs if isinstance(runs, list) else [runs]
    assert _instructions({"runs": runs}) == counts[:1]
    for checked in (current, perf / "baselines" / "v1.json"):
        gate = cli("history", "check", str(checked), "--enforce", "--json")
        assert gate.code == 0, gate.out
        assert gate.json["data"]["verdict"]["status"] == "within", gate.out
    # the run recorded the environment the program had, and the program saw exactly it
    recorded = runs[0]["environment"]["env_overrides"]
    assert recorded["PERF_RUN_MODE"] == "oneshot" and recorded["PERF_RUN_DURATION"] == "0"
    seen_files = list((repo / ".claude" / "perf").rglob("seen.json"))
    assert seen_files, "the program's artifact did not reach the run's folder"
    seen = json.loads(sorted(seen_files)[-1].read_text())
    assert "PERFINVEST_TEST_NOISE" not in seen and "PERF_INVESTIGATION_ID" not in seen
    assert seen["PERF_ARTIFACT_DIR"].startswith(ARTIFACT_BASE)
    assert {k: v for k, v in seen.items() if k in recorded} == {
        k: v for k, v in recorded.items() if k != "PERF_ARTIFACT_DIR"
    } | {"PERF_ARTIFACT_DIR": seen["PERF_ARTIFACT_DIR"]}
    assert not Path(seen["PERF_ARTIFACT_DIR"]).exists()  # released after the run


def test_the_metered_environment_is_cleared_fixed_and_keeps_the_benchmarks_own() -> None:
    contract = {
        "PERF_RUN_MODE": "duration",
        "PERF_RUN_DURATION": "60",
        "PERF_RUN_LABEL": "baseline",
        "PERF_ARTIFACT_DIR": "/some/long/run/folder",
        "PERF_INVESTIGATION_ID": "inv-123",
        "PERF_PARAM_VALUE": "16",  # the benchmark's own (breaking point) variable
        "DATABASE_URL": "sqlite://",  # setup --env
    }
    inherited = {"PATH": "/usr/bin", "HOME": "/home/u", "SECRET": "s", "LANG": "de_DE.UTF-8"}
    env = metered_env(contract, "/tmp/perfinvest-meter-00000000", inherited)
    assert env == {
        "PATH": "/usr/bin",
        "HOME": "/home/u",
        "LANG": "C",
        "LC_ALL": "C",
        "PYTHONHASHSEED": "0",
        "PERF_RUN_MODE": "oneshot",
        "PERF_RUN_DURATION": "0",
        "PERF_RUN_LABEL": "meter",
        "PERF_ARTIFACT_DIR": "/tmp/perfinvest-meter-00000000",
        "PERF_PARAM_VALUE": "16",
        "DATABASE_URL": "sqlite://",
    }
    assert metered_env({}, "/x", {**inherited, "PYTHONHASHSEED": "7"})["PYTHONHASHSEED"] == "7"
