"""Cold start of ``perfinvest status --json`` against ``python -c "import click, pydantic"``.

Not a test: a script that measures the ratio and exits non-zero when the target is missed.

Agents call the CLI many times, so a command that only reads the state must start about
as fast as Python can import the two libraries every command needs anyway. Each sample is
a fresh process (``subprocess.run`` wall time, so interpreter start-up is in both sides).
The three commands are measured in the same run, interleaved round by round in a shuffled
(seeded) order, so drift of the machine hits them alike:

  reference   python -c "import click, pydantic"
  module      python -m perfinvest status --json
  script      <venv>/bin/perfinvest status --json   (the console script agents call)

The status commands run inside a temporary git repository holding one active
investigation, created once beforehand with ``perfinvest start --no-checkpoint``.

Target: median(perfinvest) / median(reference) <= 1.3 for both ways of starting
perfinvest. One JSON line per command, then a summary line, then PASS or FAIL (exit 1).

``--importtime N`` additionally prints the N largest cumulative imports of
``python -X importtime -m perfinvest status --json`` (best of 5 runs per module).

Usage: .venv/bin/python benchmarks/cold_start.py [--rounds 30] [--target 1.3] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 1.3
REFERENCE = "reference"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("AI_STATE_DIR", None)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    return env


def _console_script() -> Path:
    name = "perfinvest.exe" if os.name == "nt" else "perfinvest"
    return Path(sys.executable).parent / name


def _prepare_repo(repo: Path, env: dict[str, str]) -> str:
    """A git repository with one active investigation; returns the investigation id."""
    subprocess.run(["git", "init", "-q", str(repo)], check=True, env=env)
    started = subprocess.run(
        [
            sys.executable,
            "-m",
            "perfinvest",
            "start",
            "--scenario",
            "cold start of status",
            "--command",
            "python bench.py",
            "--metric",
            "p95_ms",
            "--direction",
            "lower",
            "--success",
            "p95_ms < 120",
            "--version",
            "v1",
            "--no-checkpoint",
            "--json",
        ],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        answer = json.loads(started.stdout)
    except json.JSONDecodeError:
        answer = {}
    if started.returncode != 0 or not answer.get("ok"):
        sys.exit(
            f"perfinvest start failed ({started.returncode}): {started.stdout}{started.stderr}"
        )
    return str(answer["investigation"])


def _check_status(argv: list[str], repo: Path, env: dict[str, str], investigation: str) -> None:
    """The command really answers (a fast failure must not pass for a fast start)."""
    done = subprocess.run(argv, cwd=repo, env=env, capture_output=True, text=True, check=False)
    try:
        answer = json.loads(done.stdout)
    except json.JSONDecodeError:
        answer = {}
    if done.returncode != 0 or answer.get("investigation") != investigation:
        sys.exit(f"{' '.join(argv)} failed ({done.returncode}): {done.stdout}{done.stderr}")


def _time_once(argv: list[str], repo: Path, env: dict[str, str]) -> float:
    began = time.perf_counter()
    done = subprocess.run(
        argv, cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} exited {done.returncode} during the measurement")
    return elapsed


def measure(
    commands: dict[str, list[str]], repo: Path, env: dict[str, str], rounds: int, seed: int
) -> dict[str, list[float]]:
    rng = random.Random(seed)
    names = list(commands)
    for name in names:  # warm-up: file caches, .pyc files, git's config
        for _ in range(3):
            _time_once(commands[name], repo, env)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(rounds):
        order = names[:]
        rng.shuffle(order)
        for name in order:
            samples[name].append(_time_once(commands[name], repo, env))
    return samples


def _summary(name: str, argv: list[str], values: list[float]) -> dict[str, object]:
    return {
        "command": name,
        "argv": argv,
        "n": len(values),
        "min_ms": round(min(values) * 1000, 2),
        "median_ms": round(statistics.median(values) * 1000, 2),
        "mean_ms": round(statistics.fmean(values) * 1000, 2),
        "stdev_ms": round(statistics.stdev(values) * 1000, 2) if len(values) > 1 else 0.0,
        "max_ms": round(max(values) * 1000, 2),
    }


def importtime_top(
    repo: Path, env: dict[str, str], top: int, runs: int = 5
) -> list[dict[str, object]]:
    """The largest cumulative imports of ``status``, best (lowest) of ``runs`` per module."""
    best_self: dict[str, int] = {}
    best_cumulative: dict[str, int] = {}
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "perfinvest", "status", "--json"],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        for line in done.stderr.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            own, cumulative, module = line.removeprefix("import time:").split("|")
            key = module.strip()
            own_us, cumulative_us = int(own), int(cumulative)
            best_self[key] = min(best_self.get(key, own_us), own_us)
            best_cumulative[key] = min(best_cumulative.get(key, cumulative_us), cumulative_us)
    ranked = sorted(best_cumulative, key=best_cumulative.__getitem__, reverse=True)[:top]
    return [
        {
            "module": module,
            "cumulative_ms": round(best_cumulative[module] / 1000, 2),
            "self_ms": round(best_self[module] / 1000, 2),
        }
        for module in ranked
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30, help="samples per command")
    parser.add_argument("--target", type=float, default=TARGET, help="max ratio of medians")
    parser.add_argument("--seed", type=int, default=1, help="seed of the interleaving order")
    parser.add_argument("--importtime", type=int, default=0, metavar="N", help="top N imports")
    args = parser.parse_args()

    env = _env()
    script = _console_script()
    if not script.exists():
        sys.exit(f"console script {script} not found: install perfinvest in this environment")
    with tempfile.TemporaryDirectory(prefix="perfinvest-cold-start-") as tmp:
        repo = Path(tmp) / "repo"
        investigation = _prepare_repo(repo, env)
        commands = {
            REFERENCE: [sys.executable, "-c", "import click, pydantic"],
            "module": [sys.executable, "-m", "perfinvest", "status", "--json"],
            "script": [str(script), "status", "--json"],
        }
        for name in ("module", "script"):
            _check_status(commands[name], repo, env, investigation)
        samples = measure(commands, repo, env, args.rounds, args.seed)
        top = importtime_top(repo, env, args.importtime) if args.importtime else []

    summaries = {name: _summary(name, argv, samples[name]) for name, argv in commands.items()}
    for summary in summaries.values():
        print(json.dumps(summary))
    ref = samples[REFERENCE]
    ratios = {
        name: {
            "median_ratio": round(statistics.median(values) / statistics.median(ref), 3),
            "min_ratio": round(min(values) / min(ref), 3),
        }
        for name, values in samples.items()
        if name != REFERENCE
    }
    worst = max(r["median_ratio"] for r in ratios.values())
    passed = worst <= args.target
    print(
        json.dumps(
            {
                "benchmark": "cold_start",
                "target_median_ratio": args.target,
                "ratios": ratios,
                "worst_median_ratio": worst,
                "rounds": args.rounds,
                "seed": args.seed,
                "python": sys.version.split()[0],
                "passed": passed,
            }
        )
    )
    for row in top:
        print(json.dumps({"importtime": row}))
    print(
        f"{'PASS' if passed else 'FAIL'}: perfinvest status --json cold start is {worst:.2f}x "
        f"`python -c 'import click, pydantic'` (median; target <= {args.target})"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
