"""A benchmark that labels its primary metric with a scenario goes through a whole
investigation (issue 22.4): baseline, experiment start/run, decide, consolidate, in every
PERF_METRICS form a scenario can be given in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import SHORT, START_ARGS, git

SKIPPED = ("breaking-point", "constraints", "hypotheses", "code-paths", "profile")

#: How each form prints p95_ms for scenario "checkout"; V is the value, S two samples.
FORMS = {
    "line": 'print(f"PERF_METRICS p95_ms={V} scenario=checkout")',
    "line-quoted": 'print(f"PERF_METRICS scenario=\\"checkout\\" p95_ms={V}")',
    "block-top-level": (
        'print("PERF_METRICS_START"); '
        'print(json.dumps({"scenario": "checkout", "p95_ms": V})); print("PERF_METRICS_END")'
    ),
    "block-nested": (
        'print("PERF_METRICS_START"); '
        'print(json.dumps({"checkout": {"p95_ms": V}})); print("PERF_METRICS_END")'
    ),
    "block-nested-detail": (
        'print("PERF_METRICS_START"); print(json.dumps({"checkout": {"p95_ms": '
        '{"value": V, "unit": "ms", "direction": "lower"}}})); print("PERF_METRICS_END")'
    ),
    "block-nested-samples": (
        'print("PERF_METRICS_START"); '
        'print(json.dumps({"checkout": {"p95_ms": S}})); print("PERF_METRICS_END")'
    ),
    "two-scenarios": (
        'print(f"PERF_METRICS p95_ms={V} scenario=checkout"); '
        'print(f"PERF_METRICS p99_ms={V * 2} scenario=search")'
    ),
}

BENCH = """\
import json, os, time
time.sleep(float(os.environ["PERF_RUN_DURATION"]))
import sys; sys.path.insert(0, os.getcwd())
from work import V
S = [V * 0.99, V * 1.01]
{form}
"""


def bench_repo(repo: Path, form: str) -> None:
    (repo / "bench.py").write_text(BENCH.format(form=FORMS[form]))
    (repo / "work.py").write_text("V = 12.0\n")
    git(repo, "add", "bench.py", "work.py")
    git(repo, "commit", "-qm", "scenario bench")


@pytest.mark.parametrize("form", sorted(FORMS))
def test_a_scenario_labelled_metric_runs_the_whole_investigation(
    form: str, repo: Path, cli: Any
) -> None:
    bench_repo(repo, form)
    assert cli(*START_ARGS, "--json").code == 0
    baseline = cli("baseline", "--runs", "2", *SHORT, "--json")
    assert baseline.code == 0, baseline.out
    for phase in SKIPPED:
        assert cli(phase, "--skip-reason", "not needed here", "--json").code == 0, phase
    assert cli("experiment", "start", "--change", "faster work", "--json").code == 0
    (repo / "work.py").write_text("V = 6.0\n")  # the candidate halves the latency
    done = cli("experiment", "run", "--runs", "2", *SHORT, "--json")
    assert done.code == 0, done.out
    experiment = done.json["data"]["experiment"]
    assert experiment["state"] == "measured", experiment
    assert experiment["candidate_mean"] == pytest.approx(6.0)
    assert experiment["baseline_mean"] == pytest.approx(12.0)
    assert experiment["relative_change"] == pytest.approx(-0.5)
    decided = cli("decide", "--verdict", "stop", "--rationale", "goal met", "--json")
    assert decided.code == 0, decided.out
    done = cli("consolidate", "--json")
    assert done.code == 0, done.out
    assert done.json["status"] == "complete"
    state = json.loads((repo / ".claude" / "perf" / "investigation.json").read_text())
    assert state["status"] == "complete"
