"""What the harness costs per iteration: against a bare perf_counter loop and pytest-benchmark.

Not a test: a script that measures and prints one JSON object. The same empty function is
timed ``--iterations`` times three ways, and the cost per iteration is the wall time of
the timing loop divided by the iterations (the function's own cost is in all three):

* ``bare``: ``t0 = perf_counter_ns(); fn(); t1 = perf_counter_ns(); samples.append(t1 - t0)``;
* ``harness``: ``Benchmark(...).run(fn)`` (loop only: ``Result.elapsed_s``; and in full,
  with warmup, timer calibration and the summary statistics);
* ``pytest_benchmark`` and ``perf_fixture``: inside one real pytest process,
  ``benchmark.pedantic(fn, rounds=N, iterations=1)`` and the ``perf`` fixture on the same
  function, timed around the call.

Usage: .venv/bin/python benchmarks/harness_overhead.py [--iterations 200000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from importlib.metadata import entry_points
from pathlib import Path

from perfinvest.harness import Benchmark

# once the package is installed its pytest11 entry point loads the plugin; naming it again
# with -p would register it twice (pytest refuses), so -p only when it is not installed
PLUGIN = (
    ()
    if any(ep.value == "perfinvest.harness.pytest_plugin" for ep in entry_points(group="pytest11"))
    else ("-p", "perfinvest.harness.pytest_plugin")
)

PYTEST_FILE = """\
import json, time

def noop():
    return None

def test_pytest_benchmark(benchmark):
    t0 = time.perf_counter()
    benchmark.pedantic(noop, rounds=N, iterations=1, warmup_rounds=0)
    OUT["pytest_benchmark"] = (time.perf_counter() - t0) / N

def test_perf_fixture(perf):
    t0 = time.perf_counter()
    perf(noop, iterations=N, warmup=0)
    OUT["perf_fixture"] = (time.perf_counter() - t0) / N

OUT = {}

def teardown_module():
    with open(PATH, "w") as handle:
        json.dump(OUT, handle)
"""


def noop() -> None:
    return None


def bare(iterations: int) -> float:
    timer = time.perf_counter_ns
    samples = []
    t0 = time.perf_counter()
    for _ in range(iterations):
        a = timer()
        noop()
        b = timer()
        samples.append(b - a)
    return (time.perf_counter() - t0) / iterations


def harness(iterations: int) -> tuple[float, float]:
    t0 = time.perf_counter()
    result = Benchmark("noop", iterations=iterations, warmup=0, report=False).run(noop)
    full = (time.perf_counter() - t0) / iterations
    return result.elapsed_s / iterations, full


def in_pytest(iterations: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out.json"
        test = Path(folder) / "test_overhead.py"
        test.write_text(
            PYTEST_FILE.replace("N,", f"{iterations},").replace("/ N", f"/ {iterations}")
            .replace("iterations=N", f"iterations={iterations}")
            .replace("PATH", repr(str(out)))
        )  # fmt: skip
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                *PLUGIN,
                "-p",
                "no:cacheprovider",
                str(test),
            ],
            cwd=folder,
            env=env,
            check=True,
            capture_output=True,
        )
        loaded: dict[str, float] = json.loads(out.read_text())
        return loaded


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3, help="best of this many")
    args = parser.parse_args()
    n = args.iterations
    bare_s = min(bare(n) for _ in range(args.repeats))
    loops = [harness(n) for _ in range(args.repeats)]
    harness_loop = min(loop for loop, _ in loops)
    harness_full = min(full for _, full in loops)
    tests = [in_pytest(n) for _ in range(args.repeats)]
    pb = min(t["pytest_benchmark"] for t in tests)
    pf = min(t["perf_fixture"] for t in tests)
    ns = 1e9
    print(
        json.dumps(
            {
                "iterations": n,
                "per_iteration_ns": {
                    "bare_perf_counter_loop": round(bare_s * ns, 1),
                    "harness_loop": round(harness_loop * ns, 1),
                    "harness_with_stats": round(harness_full * ns, 1),
                    "pytest_benchmark_pedantic": round(pb * ns, 1),
                    "perf_fixture": round(pf * ns, 1),
                },
                "ratios": {
                    "harness_loop_vs_bare": round(harness_loop / bare_s, 2),
                    "harness_with_stats_vs_bare": round(harness_full / bare_s, 2),
                    "pytest_benchmark_vs_bare": round(pb / bare_s, 2),
                    "perf_fixture_vs_pytest_benchmark": round(pf / pb, 2),
                },
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
