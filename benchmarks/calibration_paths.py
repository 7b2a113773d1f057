"""The comparison paths calibrated by ``benchmarks/calibration.py``: one trial each.

Every trial calls the real statistics function the path's command calls (``compare_runs``
for ``compare``/``experiment``/``diff``, ``check_budgets`` for ``budget check``,
``history.judge`` for ``history check``, the pytest plugin's ``compare_rounds``, ``slo.judge``
on a percentile for load SLOs, the breaking-point ``Search``) on simulated measurements
with a known truth, and answers whether the verdict called a change.

The noise model (a noisy host): a run's value is ``truth x (1 + RUN_CV x z)``; the samples
inside a run scatter around the run's value by ``SAMPLE_CV`` (iterations inside one process
share its state, so they are *not* independent replicates of the truth); interleaved
experiment runs share a slow drift of the machine.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from perfinvest.core.breaking.search import Search
from perfinvest.core.breaking.thresholds import parse_thresholds
from perfinvest.core.guardrails.budgets import Budget, check_budgets
from perfinvest.core.guardrails.history_gate import judge as history_judge
from perfinvest.core.load.slo import judge as slo_judge
from perfinvest.core.load.slo import percentile as slo_percentile
from perfinvest.core.models import Metric, Run
from perfinvest.core.stats.comparing import compare_runs
from perfinvest.harness.report import MIN_THRESHOLD as PLUGIN_THRESHOLD
from perfinvest.harness.report import compare_rounds

RUN_CV = 0.03  # run-to-run noise: what `baseline` measures between runs
SAMPLE_CV = 0.10  # iteration-to-iteration noise inside one run
SAMPLES_PER_RUN = 40
DRIFT_CV = 0.02  # a slow drift of the host over an interleaved experiment
NOW = datetime(2026, 12, 7, tzinfo=UTC)
MEAN = 100.0

Trial = Callable[[np.random.Generator, float], bool]  # (rng, planted effect) -> change called


@dataclass(frozen=True)
class PathSpec:
    name: str
    trial: Trial
    effect: float  # the planted effect of the power trials (a relative change)
    design: str  # what one trial is, in words
    gated: bool = True  # counted for the exit code
    why_not_gated: str = ""


def _runs(rng: np.random.Generator, truth: float, n: int, *, drift: float = 0.0) -> list[Run]:
    """``n`` runs of a latency metric (lower is better) with samples inside each."""
    out = []
    for i in range(n):
        value = truth * (1 + RUN_CV * float(rng.standard_normal())) * (1 + drift * i)
        samples = value * (1 + SAMPLE_CV * rng.standard_normal(SAMPLES_PER_RUN))
        metric = Metric(
            name="latency_ms",
            value=float(samples.mean()),
            unit="ms",
            direction="lower",
            samples=[float(s) for s in samples],
        )
        out.append(Run(run_id=f"r{i}", started_at=NOW, metrics=[metric]))
    return out


def _changed(base: list[Run], cand: list[Run]) -> bool:
    table = compare_runs(base, cand, baseline_label="a", candidate_label="b")
    return table.rows[0].comparison.verdict in ("improved", "regressed")


def compare_trial(rng: np.random.Generator, effect: float) -> bool:
    """`perfinvest compare V1 V2`: two baselines of 3 runs each (the default)."""
    return _changed(_runs(rng, MEAN, 3), _runs(rng, MEAN * (1 + effect), 3))


def experiment_trial(rng: np.random.Generator, effect: float) -> bool:
    """`experiment run`: 3 interleaved runs a side; the host drifts over the experiment."""
    drift = DRIFT_CV * float(rng.standard_normal()) / 3
    base = _runs(rng, MEAN, 3, drift=drift)
    cand = _runs(rng, MEAN * (1 + effect), 3, drift=drift)
    return _changed(base, cand)


def diff_trial(rng: np.random.Generator, effect: float) -> bool:
    """`diff A.json B.json` of two `run --export` files: 1 run a side (the default)."""
    return _changed(_runs(rng, MEAN, 1), _runs(rng, MEAN * (1 + effect), 1))


def _budget_trial(rule: str) -> Trial:
    def trial(rng: np.random.Generator, effect: float) -> bool:
        """`budget check`: 3 runs a side, `max_regression_pct: 20`."""
        budget = Budget("latency_ms", max_regression_pct=20.0, rule=rule)  # type: ignore[arg-type]
        verdicts = check_budgets(
            [budget],
            _runs(rng, MEAN * (1 + effect), 3),
            _runs(rng, MEAN, 3),
            current_label="current",
        )
        return verdicts[0].status == "breach"

    return trial


def history_trial(rng: np.random.Generator, effect: float) -> bool:
    """`history check`: the mean of 3 runs against the last 10 results (t model)."""
    window = [MEAN * (1 + RUN_CV / math.sqrt(3) * float(z)) for z in rng.standard_normal(10)]
    current = MEAN * (1 + effect) * (1 + RUN_CV / math.sqrt(3) * float(rng.standard_normal()))
    found = history_judge(window, current, metric="latency_ms", direction="lower")
    return found.status == "breach"


def pytest_plugin_trial(rng: np.random.Generator, effect: float) -> bool:
    """`--perfinvest-compare`: 20 round medians a side, each session shifted by run noise.

    Two sessions are two runs: the session offset (RUN_CV) is shared by all of one side's
    rounds, which is why the plugin's floor is 20 % (harness/report.py MIN_THRESHOLD).
    """
    base_run = MEAN * (1 + RUN_CV * float(rng.standard_normal()))
    cand_run = MEAN * (1 + effect) * (1 + RUN_CV * float(rng.standard_normal()))
    round_cv = SAMPLE_CV / math.sqrt(10)  # a round's median over >= 10 iterations
    base = base_run * (1 + round_cv * rng.standard_normal(20))
    cand = cand_run * (1 + round_cv * rng.standard_normal(20))
    found = compare_rounds("median", list(base), list(cand), min_threshold=PLUGIN_THRESHOLD)
    return found.verdict in ("regressed", "improved")


def load_slo_trial(rng: np.random.Generator, effect: float) -> bool:
    """`load run`: a route's p95 against `p95_ms <= 150`, 2000 requests in the steady window.

    ``effect`` places the true p95 relative to the limit: -10 % is a target that meets the
    SLO (a FAIL is a false alarm), +10 % one that misses it (a FAIL is power).
    """
    limit = 150.0
    true_p95 = limit * (1 + effect)
    # lognormal latencies with a shape typical of a web route; scale set by the true p95
    shape = 0.5
    scale = true_p95 / math.exp(1.6449 * shape)
    host = 1 + RUN_CV * float(rng.standard_normal())  # the run's own machine state
    latencies = scale * host * np.exp(shape * rng.standard_normal(2000))
    histogram: dict[float, int] = {}
    for value in np.round(latencies):  # whole milliseconds
        histogram[float(value)] = histogram.get(float(value), 0) + 1
    values = {"p95_ms": slo_percentile(histogram, 95)}
    return not slo_judge("route", ["p95_ms <= 150"], values)[0].passed


def breaking_trial(
    rng: np.random.Generator,
    effect: float,
    result: dict[str, float] | None = None,
    at: float = 4990.0,
) -> bool:
    """`breaking-point --min 1000 --max 20000 --fail-when p95_ms>150`, 10 % noise per probe.

    ``effect`` 0: the target crosses 150 ms at 25000, past the maximum (a claimed breaking
    point is a false positive); otherwise it crosses at 4990, a value of the search's grid
    (1000 + 21 x 190: the answer is about grid values), where a probe passes and fails as
    often (a breaking point found is power, and ``result`` receives the interval); ``at``
    moves that crossing (4900: between grid values).
    """
    crossing = 25000.0 if effect == 0 else at
    slope = 150.0 / crossing
    noise = 0.10
    baseline = [slope * 3000 * (1 + noise * float(z)) for z in rng.standard_normal(5)]
    cv = float(np.std(baseline, ddof=1) / np.mean(baseline))
    [threshold] = parse_thresholds(["p95_ms>150"], ["p95_ms"])
    search = Search(1000, 20000, 190, [threshold], {"p95_ms": cv})
    while (value := search.next_value()) is not None:
        p95 = slope * value * (1 + noise * float(rng.standard_normal()))
        search.record(p95 <= 150, {"p95_ms": p95})
    outcome = search.outcome
    if result is not None:
        low = outcome.last_passing if outcome.last_passing is not None else 1000
        high = outcome.breaking_point if outcome.breaking_point is not None else 20000
        result.update(low=low, high=high, crossing=crossing, probes=len(search.records))
    return outcome.breaking_point is not None and outcome.verdict in ("found", "uncertain")


PATHS = [
    PathSpec("compare", compare_trial, 0.10, "3 runs a side, 3 % run noise; planted +10 %"),
    PathSpec(
        "experiment",
        experiment_trial,
        0.10,
        "3 interleaved runs a side, 3 % run noise, 2 % host drift; planted +10 %",
    ),
    PathSpec("diff", diff_trial, 0.10, "1 run a side (run --export), 40 samples; planted +10 %"),
    PathSpec(
        "budget_check",
        _budget_trial("point"),
        0.30,
        "3 runs a side, max_regression_pct 20, rule point; planted +30 %",
    ),
    PathSpec(
        "budget_check_ci",
        _budget_trial("ci"),
        0.30,
        "3 runs a side, max_regression_pct 20, rule ci; planted +30 %",
    ),
    PathSpec(
        "history_check",
        history_trial,
        0.10,
        "mean of 3 runs against a window of 10 (t model); planted +10 %",
    ),
    PathSpec(
        "pytest_plugin",
        pytest_plugin_trial,
        0.30,
        "20 round medians a side (compare's rule, 20 % floor); planted +30 %",
    ),
    PathSpec(
        "load_slo",
        load_slo_trial,
        0.10,
        "p95 of 2000 requests against p95_ms <= 150; A/A: true p95 10 % under the limit, "
        "planted: 10 % over",
    ),
    PathSpec(
        "breaking_point",
        breaking_trial,
        1.0,
        "[1000, 20000] at 190, 10 % noise per probe, CV from 5 baseline runs; A/A: no "
        "crossing in the range, planted: a crossing at 4990",
    ),
]


def run_path(spec: PathSpec, trials: int, seed: int) -> tuple[float, float]:
    """(false-positive rate under A/A, power under the planted effect) over ``trials`` each."""
    rng = np.random.default_rng(seed)
    null_effect = -0.10 if spec.name == "load_slo" else 0.0
    false_positives = sum(spec.trial(rng, null_effect) for _ in range(trials))
    hits = sum(spec.trial(rng, spec.effect) for _ in range(trials))
    return false_positives / trials, hits / trials
