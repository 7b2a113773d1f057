"""measure() drives a recognised tool, also under a wrapper (constraints' taskset/prlimit)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from perfinvest.app.measuring.measure import Benchmark, Progress, Session, measure
from perfinvest.core.policy import decide_duration


class Notes(Progress):
    def __init__(self) -> None:
        self.notes: list[str] = []

    def note(self, message: str) -> None:
        self.notes.append(message)


@pytest.mark.slow
def test_a_wrapped_tool_is_still_driven(tmp_path: Path) -> None:
    if shutil.which("hyperfine") is None or shutil.which("taskset") is None:
        pytest.skip("hyperfine and taskset are needed")
    wrapper = ["taskset", "-c", "0"]
    benchmark = Benchmark(
        command=[*wrapper, "hyperfine", "-N", "sleep 0.02"],
        shell=False,
        cwd=tmp_path,
        mode="duration",
        tool_prefix=len(wrapper),
    )
    progress = Notes()
    session = Session(
        repo_root=tmp_path,
        artifact_root=tmp_path / "artifacts",
        perf_dir=tmp_path,
        investigation_id=None,
        duration=decide_duration(1.0, short_policy="test"),
        progress=progress,
    )
    (run,) = measure(benchmark, session, label="run", runs=1, primary_metric=None).runs
    assert run.mode == "tool" and run.valid, run.invalid_reason
    assert any("hyperfine recognised" in note for note in progress.notes)
    (export,) = [a for a in run.artifacts if a.description == "hyperfine export"]
    times = json.loads((tmp_path / export.path).read_text())["results"][0]["times"]
    mean = run.metric("mean_s")
    assert mean is not None and mean.samples == times and sum(times) >= 0.95
