"""Orchestration cost per phase: a command's wall time minus its benchmark's own time.

docs/architecture.md: "Orchestration outside the benchmark's own time stays under a second per
phase." This drives a real investigation in a temporary git repository through the CLI
(subprocesses, as an agent would) and, for each phase command, subtracts the time the
benchmark itself ran (the runs' ``duration_s``) from the command's wall time. What remains
is perfinvest: start-up, checks, the quiet-machine check, fingerprinting, parsing,
statistics, state, log and checkpoint commit.

Usage: python benchmarks/orchestration.py [--repeat N]   (exit 1 when a phase is over 1 s)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_S = 1.0
BENCH = """\
import os, time
time.sleep(float(os.environ["PERF_RUN_DURATION"]))
print("PERF_METRICS p95_ms=12.5 requests=100")
"""


def perfinvest(repo: Path, *args: str) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "perfinvest", *args, "--json"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    answer = json.loads(done.stdout)
    if not answer["ok"]:
        raise SystemExit(f"perfinvest {' '.join(args)} failed: {answer['error']['message']}")
    return wall, answer


def benchmark_time(answer: dict[str, Any]) -> float:
    return float(sum(run["duration_s"] for run in answer["data"].get("runs", [])))


def one_investigation(root: Path) -> dict[str, float]:
    repo = Path(tempfile.mkdtemp(dir=root))
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@b",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@b",
    }
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    (repo / "bench.py").write_text(BENCH)
    subprocess.run(["git", "add", "bench.py"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "bench"], cwd=repo, check=True, env=env)
    costs: dict[str, float] = {}
    wall, _ = perfinvest(
        repo,
        "start",
        "--scenario",
        "orchestration",
        "--command",
        f"{sys.executable} bench.py",
        "--metric",
        "p95_ms",
        "--direction",
        "lower",
        "--success",
        "p95_ms < 20",
        "--version",
        "v1",
        "--allow-short-runs",
        "orchestration benchmark",
    )
    costs["setup"] = wall
    wall, answer = perfinvest(repo, "baseline", "--runs", "3", "--duration", "1")
    costs["baseline"] = wall - benchmark_time(answer)
    for phase in ("breaking-point", "constraints"):
        costs[phase], _ = perfinvest(repo, phase, "--skip-reason", "orchestration benchmark")
    # a change after the baseline gives the history window something to read
    (repo / "bench.py").write_text(BENCH.replace("12.5", "13.5"))
    subprocess.run(["git", "commit", "-qam", "slower"], cwd=repo, check=True, env=env)
    costs["hypotheses gather"], _ = perfinvest(repo, "hypotheses", "gather")
    costs["hypotheses add"], _ = perfinvest(repo, "hypotheses", "add", "the sleep is slow")
    for phase in ("code-paths", "profile", "experiment"):
        costs[phase], _ = perfinvest(repo, phase, "--skip-reason", "orchestration benchmark")
    costs["decide"], _ = perfinvest(repo, "decide", "--verdict", "stop", "--rationale", "done")
    costs["consolidate"], _ = perfinvest(repo, "consolidate")
    costs["status"], _ = perfinvest(repo, "status")
    return costs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    samples: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="perfinvest-orchestration-") as scratch:
        os.environ["PERFINVEST_LOCK_DIR"] = scratch  # do not contend with other benchmarks
        for _ in range(options.repeat):
            for phase, cost in one_investigation(Path(scratch)).items():
                samples.setdefault(phase, []).append(cost)
    worst = 0.0
    for phase, values in samples.items():
        median = statistics.median(values)
        worst = max(worst, median)
        print(
            json.dumps(
                {"phase": phase, "median_s": round(median, 3), "max_s": round(max(values), 3)}
            )
        )
    passed = worst < TARGET_S
    print(
        json.dumps(
            {
                "benchmark": "orchestration",
                "target_s": TARGET_S,
                "worst_median_s": round(worst, 3),
                "passed": passed,
            }
        )
    )
    verdict = "PASS" if passed else "FAIL"
    print(f"{verdict}: worst phase orchestration {worst:.3f} s (target < {TARGET_S} s)")
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
