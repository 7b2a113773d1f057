"""py-spy's cost on a CPU-bound Python target (rule 7: profilers cost little, measured).

Not a test: a script that measures the ratio and exits non-zero when the target is missed.

The target does a fixed amount of pure-Python work (no sleeping, so every pause py-spy
makes to read a stack shows up in its wall time) and prints its own elapsed time. Two ways
of running it, interleaved round by round in a shuffled (seeded) order so machine drift
hits both alike:

  plain      python target.py
  py-spy     py-spy record --nonblocking --rate 100 --format raw --full-filenames --subprocesses \
               -o F --
             python target.py
             (exactly how `perfinvest profile` wraps a Python command)

The time compared is the target's own work time (measured inside it with perf_counter),
so py-spy's start-up and its writing of the output are not counted: the question is how
much the sampling slows the program while it runs.

Target: median(py-spy) / median(plain) <= 1.05 at 100 Hz. One JSON line per side, a
summary line, then PASS or FAIL (exit 1).

Usage: .venv/bin/python benchmarks/pyspy_overhead.py [--rounds 10] [--rate 100] [--work N]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

TARGET = 1.05

TARGET_PY = """\
import sys, time


def step(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def main(work):
    start = time.perf_counter()
    for _ in range(work):
        step(10000)
    print("WORK_S", time.perf_counter() - start)


main(int(sys.argv[1]))
"""


def run(argv: list[str]) -> float:
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("WORK_S "))
    return float(line.split()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--work", type=int, default=1500, help="steps of 10k iterations")
    parser.add_argument("--target", type=float, default=TARGET)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    pyspy = Path(sys.executable).parent / "py-spy"
    rng = random.Random(args.seed)
    samples: dict[str, list[float]] = {"plain": [], "py-spy": []}
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "target.py"
        target.write_text(TARGET_PY)
        python = [sys.executable, str(target), str(args.work)]
        sides = {
            "plain": python,
            "py-spy": [
                str(pyspy),
                "record",
                "--nonblocking",
                "--rate",
                f"{args.rate:g}",
                "--format",
                "raw",
                "--full-filenames",
                "--subprocesses",
                "--output",
                str(Path(tmp) / "out.txt"),
                "--",
                *python,
            ],
        }
        run(python)  # warm the page cache
        for _ in range(args.rounds):
            order = list(sides)
            rng.shuffle(order)
            for side in order:
                samples[side].append(run(sides[side]))
    medians = {side: statistics.median(values) for side, values in samples.items()}
    for side, values in samples.items():
        print(
            json.dumps(
                {
                    "side": side,
                    "median_s": round(medians[side], 4),
                    "min_s": round(min(values), 4),
                    "max_s": round(max(values), 4),
                    "n": len(values),
                }
            )
        )
    ratio = medians["py-spy"] / medians["plain"]
    best = min(samples["py-spy"]) / min(samples["plain"])  # least disturbed round of each
    summary = {"rate_hz": args.rate, "ratio": round(ratio, 4), "min_ratio": round(best, 4)}
    print(json.dumps({**summary, "target": args.target}))
    ok = ratio <= args.target
    print(
        "PASS" if ok else "FAIL",
        f"py-spy at {args.rate:g} Hz: {ratio:.3f}x (target <= {args.target})",
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
