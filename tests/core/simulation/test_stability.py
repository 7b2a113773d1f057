"""Offered utilisation rho of each stage and the warning when rho >= 1 (an unstable queue)."""

from __future__ import annotations

from typing import Any

import pytest

from perfinvest.core.simulation.engine import run_simulation
from perfinvest.core.simulation.output import render_table, stability_warnings
from perfinvest.core.simulation.scenario import offered_loads, parse_scenario


def _open(rate: float, workers: int = 1, **stage: Any) -> Any:
    return parse_scenario(
        {
            "name": "s",
            "arrival": {"kind": "open", "rate_per_s": rate},
            "duration_s": 20,
            "routes": [
                {
                    "name": "api",
                    "stages": [
                        {
                            "name": "app",
                            "workers": workers,
                            "service": {"kind": "exponential", "mean_ms": 10},
                            **stage,
                        }
                    ],
                }
            ],
        },
        "test",
    )


def test_rho_is_rate_times_mean_service_over_workers() -> None:
    (load,) = offered_loads(_open(150, workers=2))
    assert load.where == "api/app" and load.rho == pytest.approx(150 * 0.010 / 2)


def test_pools_add_their_routes_and_weights_split_the_rate() -> None:
    shared = {"workers": 2, "pool": "web", "service": {"kind": "fixed", "value_ms": 20}}
    scenario = parse_scenario(
        {
            "name": "p",
            "arrival": {"kind": "open", "rate_per_s": 100},
            "duration_s": 10,
            "routes": [
                {"name": "a", "weight": 3, "stages": [{"name": "app", **shared}]},
                {
                    "name": "b",
                    "weight": 1,
                    "stages": [
                        {"name": "app", **shared},
                        {"name": "db", "service": {"kind": "fixed", "value_ms": 50}},
                    ],
                },
            ],
        },
        "test",
    )
    pool, db = offered_loads(scenario)
    assert (pool.where, pool.rate_per_s, pool.rho) == ("pool web", 100, pytest.approx(1.0))
    assert (db.where, db.rate_per_s, db.rho) == ("b/db", 25, pytest.approx(25 * 0.05))


def test_a_closed_population_has_no_offered_load() -> None:
    scenario = parse_scenario(
        {
            "name": "c",
            "arrival": {
                "kind": "closed",
                "users": 50,
                "think_time": {"kind": "fixed", "value_ms": 0},
            },
            "duration_s": 5,
            "routes": [
                {
                    "name": "r",
                    "stages": [{"name": "s", "service": {"kind": "exponential", "mean_ms": 10}}],
                }
            ],
        },
        "test",
    )
    assert offered_loads(scenario) == []


def test_rho_over_one_warns_with_the_unfinished_requests() -> None:
    scenario = _open(150)  # rho 1.5
    result = run_simulation(scenario, 1)
    assert result.overall.unfinished > 500  # the backlog the run ends with
    (warning,) = stability_warnings(offered_loads(scenario), result)
    assert warning.startswith("api/app: offered utilisation rho = 1.50 >= 1 (150 req/s x 10 ms")
    assert "the queue is unstable" in warning
    assert f"{result.overall.unfinished:,} requests were unfinished" in warning
    table = render_table(result, [warning])
    assert "unfinished" in table.splitlines()[2]  # the routes' header
    (all_row,) = [line for line in table.splitlines() if line.startswith("all ")]
    assert all_row.split()[5] == str(result.overall.unfinished)
    assert table.endswith(f"WARNING: {warning}")


def test_a_bounded_queue_is_overloaded_not_unstable_and_a_stable_one_is_quiet() -> None:
    bounded = _open(150, queue_limit=20)
    (warning,) = stability_warnings(offered_loads(bounded), run_simulation(bounded, 1))
    assert "overloaded; only its queue_limit/timeouts keep the queue finite" in warning
    stable = _open(50)  # rho 0.5
    assert stability_warnings(offered_loads(stable), run_simulation(stable, 1)) == []
