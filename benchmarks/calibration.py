"""Calibration of every verdict perfinvest gives: A/A false-positive rates, power, coverage.

Not a test: a script (docs/statistics.md pastes its full output). For each comparison path
(``compare``, experiment verdicts, ``diff``, ``budget check``, ``history check``, the pytest
plugin, load SLO verdicts, the breaking point) it runs A/A trials (no change: a verdict
that calls one is a false positive) and planted-effect trials (a verdict that calls it is
power) through the real statistics function the path's command calls, on simulated noise
(``calibration_paths.py`` says how), plus a few real timed commands. For every interval
it measures how often it holds the truth. One line each:

  path=NAME false_positive_rate=X power=Y ...
  interval=NAME coverage=Z ...

Exit 1 when a gated path's A/A false-positive rate is above 0.10 (``--quick``; 0.06 in
the full run) or an interval's coverage below 0.90 (``--quick``; 0.93 in the full run).

Usage: .venv/bin/python benchmarks/calibration.py [--quick | --tiny] [--seed S] [--no-real]
(``--quick`` takes about a minute, the full run a few; ``--tiny`` is the test's smoke run:
it checks that every path runs, not the rates).
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from calibration_paths import (
    MEAN,
    PATHS,
    RUN_CV,
    _runs,
    breaking_trial,
    run_path,
)

from perfinvest.core.capacity.fit import CapacityFit, fit_usl, synthetic, usl
from perfinvest.core.guardrails.history_gate import threshold as history_threshold
from perfinvest.core.stats.comparing import compare_runs
from perfinvest.core.stats.intervals import ASSUMED_RUN_CV
from perfinvest.core.stats.verdicts import compare


@dataclass(frozen=True)
class Mode:
    name: str
    trials: int  # per path, A/A and planted each
    interval_trials: int
    capacity_seeds: int
    real_trials: int
    max_fpr: float
    min_coverage: float


MODES = {
    "tiny": Mode("tiny", 10, 10, 4, 0, 1.0, 0.0),
    "quick": Mode("quick", 300, 300, 200, 2, 0.10, 0.90),
    "full": Mode("full", 2000, 2000, 1000, 6, 0.06, 0.93),
}


@dataclass(frozen=True)
class Line:
    kind: str  # path | interval
    name: str
    value: float  # FPR (path) or coverage (interval)
    power: float | None
    gated: bool
    detail: str

    def text(self) -> str:
        if self.kind == "path":
            head = f"path={self.name} false_positive_rate={self.value:.3f} power={self.power:.3f}"
        else:
            head = f"interval={self.name} coverage={self.value:.3f}"
        gate = "" if self.gated else "  gated=no"
        return f"{head}{gate}  # {self.detail}"


def path_lines(mode: Mode, seed: int) -> list[Line]:
    out = []
    for number, spec in enumerate(PATHS):
        fpr, power = run_path(spec, mode.trials, seed + number)
        detail = f"{spec.design}; {mode.trials} + {mode.trials} trials"
        if not spec.gated:
            detail += f"; not gated: {spec.why_not_gated}"
        out.append(Line("path", spec.name, fpr, power, spec.gated, detail))
    return out


# --- intervals -----------------------------------------------------------------------------


def compare_ci(mode: Mode, seed: int, runs: int = 3) -> Line:
    """compare's 95 % CI of the relative change (runs basis) holds the planted +10 %."""
    rng = np.random.default_rng(seed)
    held = 0
    for _ in range(mode.interval_trials):
        base = MEAN * (1 + RUN_CV * rng.standard_normal(runs))
        cand = 1.1 * MEAN * (1 + RUN_CV * rng.standard_normal(runs))
        c = compare("m", "lower", list(base), list(cand))
        held += c.ci_low is not None and c.ci_high is not None and c.ci_low <= 0.1 <= c.ci_high
    return Line(
        "interval",
        f"compare_relative_change_{runs}_runs",
        held / mode.interval_trials,
        None,
        True,
        f"Welch interval of the log ratio, {runs} runs a side, {RUN_CV:.0%} run noise, "
        f"true change +10 %; {mode.interval_trials} trials",
    )


def diff_ci(mode: Mode, seed: int) -> Line:
    """diff of two 1-run exports: the samples' interval widened by the assumed run noise."""
    import calibration_paths

    rng = np.random.default_rng(seed)
    held = 0
    saved = calibration_paths.RUN_CV
    calibration_paths.RUN_CV = ASSUMED_RUN_CV  # the design point: run noise as assumed
    try:
        for _ in range(mode.interval_trials):
            table = compare_runs(
                _runs(rng, MEAN, 1),
                _runs(rng, 1.1 * MEAN, 1),
                baseline_label="a",
                candidate_label="b",
            )
            c = table.rows[0].comparison
            held += c.ci_low is not None and c.ci_high is not None and c.ci_low <= 0.1 <= c.ci_high
    finally:
        calibration_paths.RUN_CV = saved
    return Line(
        "interval",
        "diff_relative_change_1_run",
        held / mode.interval_trials,
        None,
        True,
        f"samples' bootstrap + assumed {ASSUMED_RUN_CV:.0%} run noise, 1 run of 40 samples a "
        f"side at {ASSUMED_RUN_CV:.0%} real run noise, true change +10 %; "
        f"{mode.interval_trials} trials",
    )


def history_interval(mode: Mode, seed: int) -> Line:
    """history check's t limits (a 95 % prediction interval) hold the next A/A result."""
    rng = np.random.default_rng(seed)
    held = 0
    for _ in range(mode.interval_trials):
        values = MEAN * (1 + RUN_CV * rng.standard_normal(11))
        limits = history_threshold(list(values[:10]))
        assert limits is not None
        held += limits.lower <= values[10] <= limits.upper
    return Line(
        "interval",
        "history_t_limits",
        held / mode.interval_trials,
        None,
        True,
        f"mean ± t·s·sqrt(1 + 1/n) over a window of 10; {mode.interval_trials} trials",
    )


def capacity_intervals(mode: Mode) -> list[Line]:
    """The USL fit's 95 % intervals of λ, σ, κ, N*, X(N*) on synthetic data, 3 % noise."""
    levels = [1, 2, 4, 8, 16, 24, 32, 48, 64]
    lam, sigma, kappa = 100.0, 0.05, 0.001
    star = math.sqrt((1 - sigma) / kappa)
    truths = {"lambda": lam, "sigma": sigma, "kappa": kappa, "n_star": star}
    truths["x_star"] = usl(star, lam, sigma, kappa)
    held = dict.fromkeys(truths, 0)
    for seed in range(mode.capacity_seeds):
        rng = np.random.default_rng(seed)
        fit = fit_usl(synthetic(levels, lam, sigma, kappa, noise_cv=0.03, repeats=3, rng=rng))
        assert isinstance(fit, CapacityFit) and fit.peak is not None
        estimates = {
            "lambda": fit.lam,
            "sigma": fit.sigma,
            "kappa": fit.kappa,
            "n_star": fit.peak.concurrency,
            "x_star": fit.peak.throughput,
        }
        for name, est in estimates.items():
            if est.ci_low is not None and est.ci_high is not None:
                held[name] += est.ci_low <= truths[name] <= est.ci_high
    detail = f"9 concurrencies x 3 repeats, 3 % noise; seeds 0-{mode.capacity_seeds - 1}"
    return [
        Line("interval", f"capacity_{name}", held[name] / mode.capacity_seeds, None, True, detail)
        for name in truths
    ]


def breaking_interval(mode: Mode, seed: int, at: float = 4990.0) -> Line:
    """The breaking-point interval [last pass, first fail] holds the true crossing."""
    rng = np.random.default_rng(seed)
    held = 0
    probes = 0.0
    for _ in range(mode.interval_trials):
        result: dict[str, float] = {}
        breaking_trial(rng, 1.0, result, at)
        held += result["low"] <= result["crossing"] <= result["high"]
        probes += result["probes"]
    where = "on the grid" if at == 4990.0 else "between grid values"
    return Line(
        "interval",
        "breaking_point" if at == 4990.0 else "breaking_point_off_grid",
        held / mode.interval_trials,
        None,
        True,
        "ends secured: each end's p95 clear of the limit by 1.28 standard errors "
        f"(core/breaking/ends.py); [1000, 20000] at 190, 10 % noise per probe, crossing at "
        f"{at:g} ({where}); {probes / mode.interval_trials:.1f} probes on average; "
        f"{mode.interval_trials} trials",
    )


# --- real timed commands -------------------------------------------------------------------

WORK = "import sys; sum(range(int(sys.argv[1])))"


def _timed_run(work: int, executions: int = 5) -> float:
    """One run: the mean wall time (ms) of ``executions`` real processes."""
    times = []
    for _ in range(executions):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", WORK, str(work)], check=True)
        times.append((time.perf_counter() - start) * 1000)
    return sum(times) / len(times)


def real_compare(mode: Mode) -> Line | None:
    """compare on real timed processes: A/A, and a planted +50 % of the loop's work."""
    if mode.real_trials == 0:
        return None
    calls = {"aa": 0, "planted": 0}
    for _ in range(mode.real_trials):
        for label, factor in (("aa", 1.0), ("planted", 1.5)):
            base, cand = [], []
            for _ in range(3):  # interleaved, as an experiment runs them
                base.append(_timed_run(3_000_000))
                cand.append(_timed_run(int(3_000_000 * factor)))
            c = compare("wall_ms", "lower", base, cand)
            calls[label] += c.verdict in ("improved", "regressed")
    n = mode.real_trials
    return Line(
        "path",
        "compare_real_commands",
        calls["aa"] / n,
        calls["planted"] / n,
        False,
        f"python -c sum(range(3e6)) vs the same (A/A) and 1.5x the work; 3 interleaved runs "
        f"of 5 processes a side; {n} + {n} trials; not gated: too few trials for a rate",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true", help="about a minute")
    group.add_argument("--tiny", action="store_true", help="seconds: a smoke run")
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--no-real", action="store_true", help="skip the real timed commands")
    args = parser.parse_args(argv)
    mode = MODES["tiny" if args.tiny else "quick" if args.quick else "full"]
    started = time.monotonic()
    print(f"calibration: mode={mode.name} seed={args.seed}", flush=True)
    lines: list[Line] = []
    for line in path_lines(mode, args.seed):
        print(line.text(), flush=True)
        lines.append(line)
    real = None if args.no_real else real_compare(mode)
    intervals = [
        compare_ci(mode, args.seed + 100),
        compare_ci(mode, args.seed + 101, runs=5),
        diff_ci(mode, args.seed + 102),
        history_interval(mode, args.seed + 103),
        *capacity_intervals(mode),
        breaking_interval(mode, args.seed + 104),
        breaking_interval(mode, args.seed + 105, 4900.0),
    ]
    for line in ([real] if real else []) + intervals:
        print(line.text(), flush=True)
        lines.append(line)
    failed = [
        line
        for line in lines
        if line.gated
        and (
            (line.kind == "path" and line.value > mode.max_fpr)
            or (line.kind == "interval" and line.value < mode.min_coverage)
        )
    ]
    paths = sum(1 for line in lines if line.kind == "path" and line.gated)
    print(
        f"calibration: {paths} gated paths, {len(intervals)} intervals, "
        f"{len(failed)} out of bounds (FPR <= {mode.max_fpr:g}, coverage >= "
        f"{mode.min_coverage:g}); {time.monotonic() - started:.0f} s",
        flush=True,
    )
    for line in failed:
        print(f"calibration: OUT OF BOUNDS: {line.text()}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
