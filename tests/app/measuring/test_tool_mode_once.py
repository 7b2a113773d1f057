"""The tool mode is resolved once per measurement and handed down to every run.

Detection reads the command's folder (``adapters/tools/run.detect``); ``measure()`` used to
resolve it, then ``run_once`` again for every run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from tests.conftest import BENCH

from perfinvest.adapters.tools import run as tools_run
from perfinvest.app.measuring.measure import Benchmark, Session, measure, resolve_tool_mode
from perfinvest.core.policy import decide_duration


def detections(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every real ``detect`` call, with the command it looked at."""
    seen: list[list[str]] = []
    real = tools_run.detect

    def detect(argv: list[str], shell: bool, cwd: Path) -> str | None:
        seen.append(list(argv))
        return real(argv, shell, cwd)

    monkeypatch.setattr(tools_run, "detect", detect)
    return seen


def session(tmp_path: Path) -> Session:
    return Session(
        repo_root=tmp_path,
        artifact_root=tmp_path / "artifacts",
        perf_dir=tmp_path,
        investigation_id=None,
        duration=decide_duration(0.2, short_policy="test"),
    )


def test_measure_resolves_the_tool_mode_once_for_all_its_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bench.py").write_text(BENCH)
    benchmark = Benchmark(
        command=[sys.executable, "bench.py"], shell=False, cwd=tmp_path, mode="duration"
    )
    seen = detections(monkeypatch)
    result = measure(benchmark, session(tmp_path), label="run", runs=3, primary_metric=None)
    assert [run.valid for run in result.runs] == [True, True, True]
    assert all(run.mode == "duration" for run in result.runs)
    assert seen == [[sys.executable, "bench.py"]]


def test_a_resolved_benchmark_is_returned_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    benchmark = Benchmark(command=["hyperfine", "true"], shell=False, cwd=tmp_path, mode="duration")
    seen = detections(monkeypatch)
    resolved = resolve_tool_mode(benchmark)
    assert (resolved.mode, resolved.tool, resolved.mode_resolved) == ("tool", "hyperfine", True)
    assert resolve_tool_mode(resolved) is resolved
    assert len(seen) == 1
    plain = resolve_tool_mode(Benchmark(command=["true"], shell=False, cwd=tmp_path, mode="repeat"))
    assert plain.mode_resolved and plain.mode == "repeat" and len(seen) == 1
