"""Tool-driven runs with the real tools: hyperfine, pytest-benchmark, pyperf, go test.

Each test runs the real tool through ``perfinvest run`` and ``perfinvest baseline`` under
the short-run policy and checks what a user of the tool would: the samples perfinvest
stores are exactly the tool's own export (count and values), and the tool's measured time
fills the duration (read from the export, not from perfinvest's clock).
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import START_ARGS, git

from perfinvest.core.policy import VALID_SHARE

pytestmark = pytest.mark.slow

DURATION = 2.0
NEEDED = DURATION * VALID_SHARE
SHORT = ("--duration", f"{DURATION:g}")
ALLOW = ("--allow-short", "live tool tests")

PYTEST_FILE = """\
def work():
    return sum(range(200))


def test_work(benchmark):
    benchmark(work)
"""

PYPERF_SCRIPT = """\
import pyperf

runner = pyperf.Runner()
runner.timeit("sum200", "sum(range(200))")
"""

GO_MOD = "module example.com/fib\n\ngo 1.19\n"
GO_TEST = """\
package fib

import "testing"

func fib(n int) int {
	if n < 2 {
		return n
	}
	return fib(n-1) + fib(n-2)
}

func BenchmarkFib12(b *testing.B) {
	for i := 0; i < b.N; i++ {
		fib(12)
	}
}

// BenchmarkIgnoresN does not loop b.N times: no benchtime can make it measure anything.
func BenchmarkIgnoresN(b *testing.B) {
	fib(1)
}
"""
GO_RESULT = re.compile(r"^(Benchmark\w+)-\d+\s+(\d+)\s+(\S+) ns/op", re.MULTILINE)


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (scripts/bootstrap.sh installs it)")


def only_run(answer: dict[str, Any]) -> dict[str, Any]:
    runs = answer["data"]["runs"]
    assert len(runs) == 1
    run: dict[str, Any] = runs[0]
    assert run["mode"] == "tool" and run["valid"], run["invalid_reason"]
    assert not run["compliant"] and "live tool tests" in run["compliance_note"]
    return run


def metric(run: dict[str, Any], name: str) -> dict[str, Any]:
    found = [m for m in run["metrics"] if m["name"] == name]
    assert len(found) == 1, [m["name"] for m in run["metrics"]]
    return found[0]


def baseline_runs(repo: Path, cli: Any, command: str, metric_name: str) -> list[dict[str, Any]]:
    args = list(START_ARGS)
    args[args.index("--command") + 1] = command
    args[args.index("--metric") + 1] = metric_name
    started = cli(*args, "--json")
    assert started.code == 0, started.out
    result = cli("baseline", "--runs", "2", *SHORT, "--json")
    assert result.code == 0, result.out + result.err
    assert "tool-driven" in result.err
    doc = json.loads((repo / ".claude" / "perf" / "baselines" / "v1.json").read_text())
    runs: list[dict[str, Any]] = doc["runs"]
    assert len(runs) >= 2 and all(r["mode"] == "tool" and r["valid"] for r in runs)
    return runs


def export_of(repo: Path, run: dict[str, Any], description: str) -> Path:
    paths = [a["path"] for a in run["artifacts"] if a["description"] == description]
    assert len(paths) == 1, run["artifacts"]
    return repo / ".claude" / "perf" / paths[0]


# --- hyperfine ----------------------------------------------------------------------------


def test_hyperfine_run_fills_the_duration_and_keeps_its_times(repo: Path, cli: Any) -> None:
    need("hyperfine")
    result = cli(
        "run", *ALLOW, *SHORT, "--json", "--", "hyperfine", "-N", "--runs", "3",
        "--export-json", "mine.json", "sleep 0.02",
    )  # fmt: skip
    assert result.code == 0, result.out + result.err
    assert "hyperfine recognised: tool-driven mode" in result.err
    assert "replaced --runs 3 by --runs" in result.err
    run = only_run(result.json)
    export = json.loads((repo / "mine.json").read_text())  # perfinvest copies it back
    times = export["results"][0]["times"]
    assert len(times) > 3  # the user's --runs 3 was replaced to fill the duration
    assert metric(run, "mean_s")["samples"] == times
    assert metric(run, "runs")["value"] == len(times)
    assert sum(times) >= NEEDED
    assert metric(run, "measured_s")["value"] == pytest.approx(sum(times))


def test_hyperfine_baseline_samples_are_the_export(repo: Path, cli: Any) -> None:
    need("hyperfine")
    runs = baseline_runs(repo, cli, "hyperfine -N 'sleep 0.02'", "mean_s")
    for run in runs:
        export = json.loads(export_of(repo, run, "hyperfine export").read_text())
        times = export["results"][0]["times"]
        assert metric(run, "mean_s")["samples"] == times
        assert sum(times) >= NEEDED


# --- pytest-benchmark ---------------------------------------------------------------------


def pytest_command() -> list[str]:
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_speed.py"]


def test_pytest_benchmark_run_keeps_every_round(repo: Path, cli: Any) -> None:
    (repo / "test_speed.py").write_text(PYTEST_FILE)
    result = cli(
        "run", *ALLOW, *SHORT, "--json", "--", *pytest_command(), "--benchmark-json=mine.json"
    )
    assert result.code == 0, result.out + result.err
    assert "pytest-benchmark recognised" in result.err
    run = only_run(result.json)
    stats = json.loads((repo / "mine.json").read_text())["benchmarks"][0]["stats"]
    assert len(stats["data"]) == stats["rounds"] > 100
    assert metric(run, "mean_s")["samples"] == stats["data"]
    measured = stats["total"] * stats["iterations"]
    assert measured >= NEEDED
    assert metric(run, "measured_s")["value"] == pytest.approx(measured)


def test_pytest_benchmark_baseline(repo: Path, cli: Any) -> None:
    (repo / "test_speed.py").write_text(PYTEST_FILE)
    command = " ".join(pytest_command())  # the benchmark fixture in the file is recognised
    for run in baseline_runs(repo, cli, command, "mean_s"):
        doc = json.loads(export_of(repo, run, "pytest-benchmark export").read_text())
        stats = doc["benchmarks"][0]["stats"]
        assert metric(run, "mean_s")["samples"] == stats["data"]
        assert stats["total"] * stats["iterations"] >= NEEDED


# --- pyperf -------------------------------------------------------------------------------


def pyperf_values(doc: dict[str, Any]) -> tuple[list[float], float]:
    loops = doc["metadata"]["loops"]
    values = [v for r in doc["benchmarks"][0]["runs"] for v in r.get("values", [])]
    return values, sum(values) * loops


def test_pyperf_timeit_run_keeps_every_value(repo: Path, cli: Any) -> None:
    result = cli(
        "run", *ALLOW, *SHORT, "--json", "--", sys.executable, "-m", "pyperf", "timeit",
        "--quiet", "-p", "4", "-o", "mine.json", "sum(range(200))",
    )  # fmt: skip
    assert result.code == 0, result.out + result.err
    run = only_run(result.json)
    values, measured = pyperf_values(json.loads((repo / "mine.json").read_text()))
    assert len(values) == 4 * 3  # 4 processes (the user's) x 3 values (pyperf's default)
    assert metric(run, "mean_s")["samples"] == values
    assert measured >= NEEDED


def test_pyperf_script_baseline(repo: Path, cli: Any) -> None:
    (repo / "bench_pyperf.py").write_text(PYPERF_SCRIPT)
    command = f"{sys.executable} bench_pyperf.py --quiet -p 3"  # a Runner script: recognised
    for run in baseline_runs(repo, cli, command, "mean_s"):
        doc = json.loads(export_of(repo, run, "pyperf export").read_text())
        values, measured = pyperf_values(doc)
        assert len(values) == 3 * 3
        assert metric(run, "mean_s")["samples"] == values
        assert measured >= NEEDED


# --- go test ------------------------------------------------------------------------------


def write_go(repo: Path) -> None:
    (repo / "go.mod").write_text(GO_MOD)
    (repo / "fib_test.go").write_text(GO_TEST)


def go_results(text: str, name: str) -> list[tuple[int, float]]:
    return [(int(n), float(v)) for b, n, v in GO_RESULT.findall(text) if b == name]


def test_go_bench_baseline_json_samples_are_the_output(
    repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    need("go")
    monkeypatch.setenv("GOFLAGS", "-mod=mod")
    monkeypatch.setenv("GOPROXY", "off")
    write_go(repo)
    runs = baseline_runs(repo, cli, "go test -run ^$ -bench Fib12 -json .", "time_per_op_ns")
    for run in runs:
        stdout = export_of(repo, run, "stdout (capped)").read_text()
        assert stdout.lstrip().startswith("{")  # test2json events, read by go-test-json
        plain = "".join(
            event.get("Output", "") for event in map(json.loads, stdout.splitlines()) if event
        )
        results = go_results(plain, "BenchmarkFib12")
        assert len(results) == 5  # -count=5 added
        assert metric(run, "time_per_op_ns")["samples"] == [v for _n, v in results]
        assert sum(n * v for n, v in results) * 1e-9 >= NEEDED


def test_go_bench_that_cannot_fill_the_duration_is_invalid(
    repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    need("go")
    monkeypatch.setenv("GOFLAGS", "-mod=mod")
    monkeypatch.setenv("GOPROXY", "off")
    write_go(repo)
    result = cli("run", *ALLOW, *SHORT, "--json", "--", "go", "test", "-bench", "IgnoresN", ".")
    assert result.code == 5, result.out
    answer = result.json
    run = answer["data"]["runs"][0]
    assert run["mode"] == "tool" and not run["valid"]
    assert "did not fill the duration (rule 2)" in run["invalid_reason"]
    assert "BenchmarkIgnoresN" in run["invalid_reason"]
    assert "re-run asking for" in result.err  # it was asked for more, twice, in vain


# --- other phases -------------------------------------------------------------------------


def test_hyperfine_under_constraints_is_driven_through_the_wrapper(repo: Path, cli: Any) -> None:
    need("hyperfine")
    need("taskset")
    baseline_runs(repo, cli, "hyperfine -N 'sleep 0.02'", "mean_s")
    assert cli("breaking-point", "--skip-reason", "not this time", "--json").code == 0
    result = cli(
        "constraints", "--cpu", "1", "--backend", "fallback", "--runs", "1", *SHORT, "--json"
    )
    assert result.code == 0, result.out + result.err
    [record] = result.json["data"]["constraints"]
    assert record["approximate"] and record["valid_runs"] == 1, record
    [run_id] = record["runs"]
    artifacts = next((repo / ".claude" / "perf" / "artifacts").iterdir()) / run_id
    times = json.loads((artifacts / "hyperfine.json").read_text())["results"][0]["times"]
    assert sum(times) >= NEEDED  # hyperfine filled the duration under taskset
    means = [v for k, v in record["metrics"].items() if k.endswith(":mean_s")]
    assert means == [pytest.approx(sum(times) / len(times))]
    assert "tool-driven run, hyperfine" in result.err


WORK = "def compute():\n    return sum(range(200))\n"
SLOWER = "def compute():\n    return sum(sum(range(200)) for _ in range(50))\n"
PYTEST_WORK = """\
from work import compute


def test_compute(benchmark):
    benchmark(compute)
"""


@pytest.mark.serial  # a planted slowdown under pytest-benchmark: judged alone
def test_pytest_benchmark_experiment_sees_the_regression(repo: Path, cli: Any) -> None:
    (repo / "work.py").write_text(WORK)
    (repo / "test_speed.py").write_text(PYTEST_WORK)
    git(repo, "add", "work.py", "test_speed.py")
    git(repo, "commit", "-q", "-m", "pytest-benchmark benchmark")
    # experiments compare a metric by its key: scenario (the pytest node id) and name
    baseline_runs(repo, cli, " ".join(pytest_command()), "test_speed.py::test_compute:mean_s")
    for phase in ("breaking-point", "constraints", "hypotheses", "code-paths", "profile"):
        assert cli(phase, "--skip-reason", "not needed here", "--json").code == 0, phase
    assert cli("experiment", "start", "--change", "slower", "--files", "work.py").code == 0
    (repo / "work.py").write_text(SLOWER)
    done = cli("experiment", "run", "--runs", "2", *SHORT, "--json")
    assert done.code == 0, done.out + done.err
    experiment = done.json["data"]["experiment"]
    assert experiment["verdict"] == "regressed"
    assert (repo / "work.py").read_text() == WORK  # reverted and verified
    runs = json.loads((repo / ".claude" / "perf" / experiment["runs"]["path"]).read_text())
    sides = runs["baseline"] + runs["candidate"]
    assert len(sides) >= 4 and all(r["mode"] == "tool" and r["valid"] for r in sides)
    for run in sides:  # each side's samples are its own export's rounds
        [path] = [
            a["path"] for a in run["artifacts"] if a["description"] == "pytest-benchmark export"
        ]
        stats = json.loads((repo / ".claude" / "perf" / path).read_text())["benchmarks"][0]["stats"]
        assert metric(run, "mean_s")["samples"] == stats["data"]
