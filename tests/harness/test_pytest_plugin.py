"""The pytest plugin in a real pytest subprocess, and a harness script as a benchmark command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import SHORT, START_ARGS

from perfinvest.adapters.formats.perfmetrics import parse

# once the package is installed its pytest11 entry point loads the plugin; naming it again
# with -p would register it twice (pytest refuses), so -p only when it is not installed
PLUGIN = (
    ()
    if any(ep.value == "perfinvest.harness.pytest_plugin" for ep in entry_points(group="pytest11"))
    else ("-p", "perfinvest.harness.pytest_plugin")
)

TESTS = """\
import asyncio

def work(n):
    return sum(i * i for i in range(n))

def test_work(perf):
    result = perf(work, N, iterations=40, rounds=3)
    assert result.iterations == 120 and result.rounds == 3

def test_async(perf):
    async def nap():
        await asyncio.sleep(0.001)
    assert perf.arun(nap, iterations=5).stats["min"] >= 0.9

def test_plain():
    assert work(3) == 5
"""


def _pytest(folder: Path, n: int, *options: str) -> subprocess.CompletedProcess[str]:
    (folder / "test_bench.py").write_text(TESTS.replace("N,", f"{n},"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *PLUGIN,
            "-q",
            "-p",
            "no:cacheprovider",
            "test_bench.py",
            *options,
        ],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_without_options_the_plugin_prints_nothing(tmp_path: Path) -> None:
    done = _pytest(tmp_path, 100)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout
    assert "PERF_METRICS" not in done.stdout and "perfinvest" not in done.stdout


@pytest.mark.serial  # a planted slowdown in 3 rounds: judged alone
def test_perfinvest_prints_blocks_saves_and_compares(tmp_path: Path) -> None:
    saved = tmp_path / "base.json"
    done = _pytest(tmp_path, 1_000, "--perfinvest", f"--perfinvest-save={saved}")
    assert done.returncode == 0, done.stdout + done.stderr
    metrics = {(m.scenario, m.name): m for m in parse(done.stdout).metrics}
    assert len(metrics[("test_work", "mean_ms")].samples) == 120
    assert ("test_async", "p99_ms") in metrics
    assert saved.is_file()
    report = tmp_path / "report.md"
    slower = _pytest(
        tmp_path, 20_000, f"--perfinvest-compare={saved}", f"--perfinvest-report={report}"
    )
    assert slower.returncode == 0, slower.stdout + slower.stderr
    row = next(line for line in report.read_text().splitlines() if line.startswith("| test_work"))
    assert row.endswith("| regressed |"), report.read_text()
    missing = _pytest(tmp_path, 10, f"--perfinvest-compare={tmp_path / 'nope.txt'}")
    assert "perfinvest: cannot read the baseline" in missing.stdout


SCRIPT = """\
from perfinvest.harness import Benchmark

def work():
    return sorted(range(5000, 0, -1))

Benchmark("sort").run(work)
"""


@pytest.mark.slow
def test_a_harness_script_is_a_benchmark_command(repo: Path, cli: Any) -> None:
    (repo / "harness_bench.py").write_text(SCRIPT)
    args = list(START_ARGS)
    args[args.index("--command") + 1] = f"{sys.executable} harness_bench.py"
    args[args.index("--metric") + 1] = "mean_ms"
    args[args.index("--success") + 1] = "mean_ms < 1000"
    assert cli(*args, "--json").code == 0
    result = cli("baseline", "--runs", "2", *SHORT, "--json")
    assert result.code == 0, result.out
    doc = json.loads((repo / ".claude" / "perf" / "baselines" / "v1.json").read_text())
    runs = [run for run in doc["runs"] if run["valid"]]
    assert len(runs) >= 2
    for run in runs:
        metrics = {(m.get("scenario"), m["name"]): m for m in run["metrics"]}
        mean = metrics[("sort", "mean_ms")]
        assert mean["value"] > 0 and len(mean["samples"]) > 10
        # duration mode: min_time came from PERF_RUN_DURATION, so the run filled it
        assert run["duration_s"] >= 0.3
