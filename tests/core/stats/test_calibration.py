"""benchmarks/calibration.py cannot rot: its tiny mode runs every path and interval."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def test_tiny_calibration_runs_every_path_and_interval() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "calibration.py"), "--tiny", "--no-real"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    paths = [line for line in lines if line.startswith("path=")]
    intervals = [line for line in lines if line.startswith("interval=")]
    names = {line.split()[0].split("=")[1] for line in paths}
    assert {"compare", "experiment", "diff", "budget_check", "history_check"} <= names
    assert {"pytest_plugin", "load_slo", "breaking_point"} <= names
    assert all("false_positive_rate=" in line and "power=" in line for line in paths)
    assert len(intervals) >= 9 and all("coverage=" in line for line in intervals)


def test_gate_fails_on_a_false_positive_rate_above_the_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import calibration
    import calibration_paths

    always = calibration_paths.PathSpec("always", lambda rng, effect: True, 0.1, "calls always")
    monkeypatch.setattr(calibration, "PATHS", [always])
    strict = calibration.Mode("tiny", 5, 5, 2, 0, 0.10, 0.0)  # the quick bound, few trials
    monkeypatch.setattr(calibration, "MODES", {**calibration.MODES, "tiny": strict})
    assert calibration.main(["--tiny", "--no-real"]) == 1
