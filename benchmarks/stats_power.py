"""Power and false-positive rate of ``perfinvest.core.stats.verdicts.compare`` by simulation.

Not a test: a script that checks the verdict rule against its targets and exits non-zero
when one is missed.

  (a) A/A: 1,000 comparisons of identical distributions, 3 runs per side, each run value
      the mean of 50 samples with CV 2 %. Target: improved+regressed rate <= 5 %.
  (b) 5 % shift, same design. Target: correct verdict (improved or regressed, per the
      direction) >= 90 %. Half the trials shift up, half down, and the direction
      alternates, so both verdicts and both directions are exercised.

An extra, informational scenario (no target) adds 2 % run-to-run noise on top, which is
what real machines show; it reports how often 3 runs suffice there.

compare() runs with its default n_boot=5000: the whole script takes a few seconds.

Usage: .venv/bin/python benchmarks/stats_power.py [--trials N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass

import numpy as np

from perfinvest.core.stats.verdicts import Direction, compare

RUNS = 3
SAMPLES_PER_RUN = 50
SAMPLE_CV = 0.02
SHIFT = 0.05
MEAN = 100.0
FP_TARGET = 0.05
POWER_TARGET = 0.90


def _side(rng: np.random.Generator, mean: float, run_cv: float) -> tuple[list[float], list[float]]:
    """One side: RUNS runs of SAMPLES_PER_RUN samples; returns (run means, all samples)."""
    run_means = mean * (1 + run_cv * rng.standard_normal(RUNS)) if run_cv else np.full(RUNS, mean)
    samples = run_means[:, None] * (1 + SAMPLE_CV * rng.standard_normal((RUNS, SAMPLES_PER_RUN)))
    return [float(v) for v in samples.mean(axis=1)], [float(v) for v in samples.ravel()]


@dataclass(frozen=True)
class Outcome:
    trials: int
    runs_per_side: int
    samples_per_run: int
    sample_cv: float
    run_to_run_cv: float
    shift: float
    verdicts: dict[str, int]
    false_positive_rate: float  # A/A: any change called; shift: the wrong direction called
    false_unchanged_rate: float | None  # shift only: a real change declared equivalent
    detection_rate: float | None  # shift only: the right verdict


def simulate(trials: int, shift: float, run_cv: float, seed: int) -> Outcome:
    """Run ``trials`` comparisons; count verdicts and how many were the expected one."""
    rng = np.random.default_rng(seed)
    verdicts: Counter[str] = Counter()
    correct = wrong = 0
    for i in range(trials):
        direction: Direction = "lower" if i % 2 == 0 else "higher"
        sign = 1 if (i // 2) % 2 == 0 else -1
        b_runs, b_samples = _side(rng, MEAN, run_cv)
        c_runs, c_samples = _side(rng, MEAN * (1 + sign * shift), run_cv)
        result = compare("metric", direction, b_runs, c_runs, b_samples, c_samples, seed=i)
        verdicts[result.verdict] += 1
        if shift:
            better = (sign < 0) == (direction == "lower")
            expected, opposite = ("improved", "regressed") if better else ("regressed", "improved")
            correct += result.verdict == expected
            wrong += result.verdict == opposite
    return Outcome(
        trials=trials,
        runs_per_side=RUNS,
        samples_per_run=SAMPLES_PER_RUN,
        sample_cv=SAMPLE_CV,
        run_to_run_cv=run_cv,
        shift=shift,
        verdicts=dict(sorted(verdicts.items())),
        false_positive_rate=(
            wrong / trials if shift else (verdicts["improved"] + verdicts["regressed"]) / trials
        ),
        false_unchanged_rate=verdicts["unchanged"] / trials if shift else None,
        detection_rate=correct / trials if shift else None,
    )


def report(scenario: str, outcome: Outcome, target: str | None, ok: bool | None) -> None:
    result = "INFO" if ok is None else "PASS" if ok else "FAIL"
    print(json.dumps({"scenario": scenario, **asdict(outcome), "target": target, "result": result}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()
    started = time.perf_counter()
    failed = False

    aa = simulate(args.trials, 0.0, 0.0, args.seed)
    ok = aa.false_positive_rate <= FP_TARGET
    failed |= not ok
    report("aa", aa, f"false_positive_rate <= {FP_TARGET}", ok)

    shifted = simulate(args.trials, SHIFT, 0.0, args.seed + 1)
    ok = shifted.detection_rate is not None and shifted.detection_rate >= POWER_TARGET
    failed |= not ok
    report("shift_5pct", shifted, f"detection_rate >= {POWER_TARGET}", ok)

    for k, (name, s) in enumerate(
        (("aa_run_noise_2pct", 0.0), ("shift_5pct_run_noise_2pct", SHIFT))
    ):
        report(name, simulate(args.trials, s, 0.02, args.seed + 2 + k), None, None)

    print(
        json.dumps(
            {
                "elapsed_s": round(time.perf_counter() - started, 2),
                "overall": "FAIL" if failed else "PASS",
            }
        )
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
