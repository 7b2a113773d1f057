"""The simulator against queueing theory's closed forms (tolerances in docs/simulate.md).

Mean waiting times of M/M/1 and M/M/c within 5 % of the formulas with 200 000-400 000
simulated customers (the standard error there is about 1-2 %: five seeds were within
2.4 % when the sizes were chosen), Little's law, M/M/1/K blocking, timeouts.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import pytest

from perfinvest.core.simulation.engine import SimulationResult, run_simulation
from perfinvest.core.simulation.scenario import parse_scenario

SEED = 2026
MEAN_MS = 1.0  # service time: mu = 1000 per second


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in M/M/c (offered load a = lambda / mu)."""
    below = math.fsum(a**k / math.factorial(k) for k in range(c))
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (below + top)


def mmc_wait_ms(c: int, rho: float) -> float:
    mu = 1000.0 / MEAN_MS
    lam = rho * c * mu
    return erlang_c(c, lam / mu) / (c * mu - lam) * 1000.0


def _scenario(rate: float, stage: dict[str, Any], customers: int) -> Any:
    duration = customers / rate
    return parse_scenario(
        {
            "name": "queue",
            "arrival": {"kind": "open", "rate_per_s": rate},
            "duration_s": duration,
            "warmup_s": duration * 0.01,
            "routes": [{"name": "r", "stages": [{"name": "s", **stage}]}],
        },
        "test",
    )


@cache
def mmc(c: int, rho: float, customers: int) -> SimulationResult:
    stage = {"workers": c, "service": {"kind": "exponential", "mean_ms": MEAN_MS}}
    return run_simulation(_scenario(rho * c * 1000.0 / MEAN_MS, stage, customers), SEED)


@pytest.mark.parametrize(
    ("c", "rho", "customers"),
    [(1, 0.5, 200_000), (1, 0.8, 400_000), (2, 0.7, 400_000), (4, 0.7, 400_000)],
)
def test_mean_wait_matches_mmc(c: int, rho: float, customers: int) -> None:
    result = mmc(c, rho, customers)
    stage = result.stages[0]
    expected = mmc_wait_ms(c, rho)
    assert stage.mean_wait_ms is not None
    assert stage.served > customers * 0.95
    assert stage.mean_wait_ms == pytest.approx(expected, rel=0.05)
    # the utilization is rho, the sojourn is the wait plus one mean service
    assert stage.utilization == pytest.approx(rho, rel=0.02)
    assert result.overall.mean_latency_ms == pytest.approx(expected + MEAN_MS, rel=0.05)
    assert result.overall.rejected == result.overall.timed_out == 0


@pytest.mark.parametrize(
    ("service", "mean", "second_moment", "rho"),
    [
        ({"kind": "fixed", "value_ms": 1.0}, 1.0, 1.0, 0.7),  # M/D/1
        # lognormal, median 1, sigma 0.5: E[S] = e^(s^2/2), E[S^2] = e^(2 s^2)
        (
            {"kind": "lognormal", "median_ms": 1.0, "sigma": 0.5},
            math.exp(0.125),
            math.exp(0.5),
            0.6,
        ),
        # empirical: each sample equally likely, here in microseconds
        ({"kind": "empirical", "samples": [500, 1000, 1500], "unit": "us"}, 1.0, 3.5 / 3, 0.6),
    ],
)
def test_mg1_mean_wait_is_pollaczek_khinchine(
    service: dict[str, Any], mean: float, second_moment: float, rho: float
) -> None:
    """M/G/1: W_q = lambda E[S^2] / (2 (1 - rho)); checks the fixed, lognormal, empirical draws."""
    rate_per_ms = rho / mean
    expected = rate_per_ms * second_moment / (2 * (1 - rho))
    scenario = _scenario(rate_per_ms * 1000.0, {"workers": 1, "service": service}, 200_000)
    stage = run_simulation(scenario, SEED).stages[0]
    assert stage.mean_wait_ms == pytest.approx(expected, rel=0.05)
    assert stage.utilization == pytest.approx(rho, rel=0.02)


def test_littles_law() -> None:
    """L_q = lambda W_q, both measured: time-average queue length against arrivals x waits."""
    stage = mmc(2, 0.7, 400_000).stages[0]
    assert stage.mean_wait_ms is not None
    assert stage.mean_queue_length == pytest.approx(
        stage.arrival_rate_per_s * stage.mean_wait_ms / 1000.0, rel=0.01
    )


@pytest.mark.parametrize(("rho", "queue_limit"), [(0.8, 3), (1.5, 5)])
def test_mm1k_blocking_probability(rho: float, queue_limit: int) -> None:
    """M/M/1/K (K = 1 in service + queue_limit): P_block = (1-r) r^K / (1 - r^(K+1))."""
    k = 1 + queue_limit
    expected = (1 - rho) * rho**k / (1 - rho ** (k + 1))
    stage = {
        "workers": 1,
        "queue_limit": queue_limit,
        "service": {"kind": "exponential", "mean_ms": MEAN_MS},
    }
    result = run_simulation(_scenario(rho * 1000.0, stage, 100_000), SEED)
    overall = result.overall
    assert overall.rejected > 0
    assert overall.rejected / overall.arrived == pytest.approx(expected, rel=0.05)
    assert overall.error_rate == pytest.approx(overall.rejected / overall.arrived, rel=1e-3)


def test_queue_limit_zero_is_erlang_b() -> None:
    """M/M/c/c (no waiting room): the blocking probability is Erlang B."""
    c, a = 3, 2.0
    below = math.fsum(a**k / math.factorial(k) for k in range(c + 1))
    expected = a**c / math.factorial(c) / below
    stage = {
        "workers": c,
        "queue_limit": 0,
        "service": {"kind": "exponential", "mean_ms": MEAN_MS},
    }
    result = run_simulation(_scenario(a * 1000.0, stage, 100_000), SEED)
    assert result.overall.rejected / result.overall.arrived == pytest.approx(expected, rel=0.05)
    assert result.stages[0].mean_wait_ms == 0.0


def test_timeouts_without_queueing_are_the_service_tail() -> None:
    """Plenty of workers (no wait): P(timeout) = P(S > T) = exp(-T / mean)."""
    stage = {
        "workers": 500,
        "timeout_ms": 150.0,
        "service": {"kind": "exponential", "mean_ms": 100.0},
    }
    result = run_simulation(_scenario(200.0, stage, 40_000), SEED)
    overall = result.overall
    ended = overall.completed + overall.timed_out
    assert overall.timed_out / ended == pytest.approx(math.exp(-1.5), rel=0.05)
    assert overall.error_rate == pytest.approx(overall.timed_out / ended)
    # no completed request took longer than its timeout
    assert max(overall.latencies_ms) <= 150.0 + 1e-9


def test_timed_out_work_still_occupies_the_worker() -> None:
    """The caller gives up at its deadline; the worker finishes the work anyway."""
    scenario = parse_scenario(
        {
            "name": "wasted",
            "arrival": {
                "kind": "closed",
                "users": 1,
                "think_time": {"kind": "fixed", "value_ms": 10},
            },
            "duration_s": 20,
            "routes": [
                {
                    "name": "r",
                    "stages": [
                        {
                            "name": "s",
                            "timeout_ms": 50,
                            "service": {"kind": "fixed", "value_ms": 100},
                        }
                    ],
                }
            ],
        },
        "test",
    )
    result = run_simulation(scenario, SEED)
    assert result.overall.completed == 0
    assert result.overall.timed_out > 100
    assert result.overall.error_rate == 1.0
    assert result.stages[0].utilization > 0.9  # busy the whole time, for nothing


def mva(users: int, think_ms: float, demands_ms: list[float]) -> tuple[float, float]:
    """Exact mean value analysis of a closed product-form network: X (per s) and R (ms)."""
    queue = [0.0] * len(demands_ms)
    x = r = 0.0
    for n in range(1, users + 1):
        times = [d * (1 + q) for d, q in zip(demands_ms, queue, strict=True)]
        r = math.fsum(times)
        x = n / (think_ms + r)  # per ms
        queue = [x * t for t in times]
    return x * 1000.0, r


@pytest.mark.parametrize("users", [1, 4, 16])
def test_closed_network_matches_mean_value_analysis(users: int) -> None:
    """A closed system (think time, two exponential single-worker stages) against MVA."""
    think, demands = 20.0, [4.0, 6.0]
    scenario = parse_scenario(
        {
            "name": "closed",
            "arrival": {
                "kind": "closed",
                "users": users,
                "think_time": {"kind": "exponential", "mean_ms": think},
            },
            "duration_s": 600.0,
            "warmup_s": 6.0,
            "routes": [
                {
                    "name": "r",
                    "stages": [
                        {"name": f"s{i}", "service": {"kind": "exponential", "mean_ms": d}}
                        for i, d in enumerate(demands)
                    ],
                }
            ],
        },
        "test",
    )
    throughput, response = mva(users, think, demands)
    result = run_simulation(scenario, SEED)
    assert result.overall.throughput_rps == pytest.approx(throughput, rel=0.02)
    assert result.overall.mean_latency_ms == pytest.approx(response, rel=0.03)
