"""Runs of the same label and index started within one second keep apart (ids, artifacts)."""

from __future__ import annotations

from pathlib import Path

from perfinvest.app.measuring.measure import Benchmark, Session, run_once
from perfinvest.core.policy import decide_duration


def test_two_quick_runs_get_distinct_ids_and_artifact_folders(tmp_path: Path) -> None:
    benchmark = Benchmark(command=["true"], shell=False, cwd=tmp_path, mode="repeat")
    session = Session(
        repo_root=tmp_path,
        artifact_root=tmp_path / "artifacts",
        perf_dir=tmp_path,
        investigation_id=None,
        duration=decide_duration(0.05, short_policy="test"),
    )
    first = run_once(benchmark, session, "baseline", 1, 1)
    second = run_once(benchmark, session, "baseline", 1, 1)
    assert first.valid and second.valid
    assert first.run_id != second.run_id
    folders = sorted(p.name for p in (tmp_path / "artifacts").iterdir())
    assert folders == sorted([first.run_id, second.run_id])
