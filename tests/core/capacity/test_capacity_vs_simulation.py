"""The USL fit on a simulated closed system: the capacity it reports is the system's own.

A closed system of N users (exponential think time Z = 20 ms) in front of c = 2 workers
(exponential service S = 10 ms) has a known capacity, c/S = 200 req/s, and a known
single-user throughput, 1/(S + Z) = 33.3 req/s. Fitted to the simulation at N = 1..16 (three
seeds each), the law must find both. The simulation has no coherency cost, so the κ it
fits only bends the saturation knee: the peak *throughput* is the capacity, the peak
*concurrency* is where the queue starts, not a retrograde point (docs/capacity.md).
"""

from __future__ import annotations

import pytest

from perfinvest.app.simulation.run import closed_curve
from perfinvest.core.capacity.fit import fit_usl
from perfinvest.core.capacity.records import CapacityFit, Point
from perfinvest.core.simulation.scenario import parse_scenario

SERVICE_MS = 10.0
THINK_MS = 20.0
WORKERS = 2
USERS = [1, 2, 3, 4, 6, 8, 12, 16]


def _scenario(service_ms: float) -> dict[str, object]:
    return {
        "name": "two-workers",
        "arrival": {
            "kind": "closed",
            "users": 1,
            "think_time": {"kind": "exponential", "mean_ms": THINK_MS},
        },
        "duration_s": 30,
        "warmup_s": 2,
        "routes": [
            {
                "name": "work",
                "stages": [
                    {
                        "name": "server",
                        "workers": WORKERS,
                        "service": {"kind": "exponential", "mean_ms": service_ms},
                    }
                ],
            }
        ],
    }


def _fit(service_ms: float) -> CapacityFit:
    scenario = parse_scenario(_scenario(service_ms), "test")
    points = [
        Point(p.users, p.throughput_rps)
        for seed in (1, 2, 3)
        for p in closed_curve(scenario, USERS, seed=seed)
    ]
    fit = fit_usl(points)
    assert isinstance(fit, CapacityFit), fit
    return fit


@pytest.mark.parametrize("service_ms", [SERVICE_MS, SERVICE_MS / 2])
def test_usl_fit_on_simulated_closed_system_finds_its_capacity(service_ms: float) -> None:
    fit = _fit(service_ms)
    capacity = WORKERS * 1000.0 / service_ms
    single_user = 1000.0 / (service_ms + THINK_MS)

    assert fit.r2 > 0.99
    assert fit.lam.value == pytest.approx(single_user, rel=0.10)
    ceiling = fit.peak.throughput.value if fit.peak is not None else fit.asymptote
    assert ceiling is not None
    assert ceiling == pytest.approx(capacity, rel=0.05)
    # the model never promises much more than the hardware can give anywhere in range
    assert max(fit.predict(n) for n in range(1, 65)) < capacity * 1.06
