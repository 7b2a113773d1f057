"""The load engine as the phases' benchmark: baseline measures it, breaking point searches users.

The server serves 2 requests at a time, 60 ms each: with N closed-loop users a request waits
for ceil(N/2) service slots, so p95 crosses 100 ms between 2 and 4 users.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from tests.support.server import Behaviour, serve

from perfinvest.core.load.slo import parse_slo

THRESHOLD = "p95_ms>100"


@pytest.mark.slow
@pytest.mark.serial  # p95 at each user count against 100 ms, search and sweep: judged alone (under four workers the search's ends were not clear of the noise)
def test_baseline_and_breaking_point_over_users_match_a_direct_sweep(repo: Path, cli: Any) -> None:
    behaviour = Behaviour(routes={"/work": (0.06, 200)}, capacity=threading.Semaphore(2))
    with serve(behaviour) as url:
        (repo / "t.yaml").write_text(
            f"base_url: {url}\nroutes: [{{name: work, path: /work, slo: ['error_rate < 0.5']}}]\n"
            "slo_defaults: ['p95_ms <= 100']\n"
        )
        started = cli(
            "start",
            "--scenario",
            "work under load",
            "--load-profile",
            "baseline",
            "--targets",
            "t.yaml",
            "--success",
            "p95_ms < 100",
            "--version",
            "v1",
            "--allow-short-runs",
            "tests use short runs",
            "--json",
        )
        assert started.code == 0, started.out
        base = cli("baseline", "--runs", "2", "--duration", "2", "--json")
        assert base.code == 0, base.out
        # its PerfMetrics say the route and the users each measured run had
        scenario = cli("metrics", "export", "--version", "v1", "--json").json["data"]
        scenario = scenario["perfmetrics"]["scenario"]
        assert scenario["route"] == "GET /work", scenario
        assert scenario["concurrency"] == 10, scenario  # the baseline profile's users
        # no --fail-when: the targets' default SLO (p95_ms <= 100) is the failure condition
        broke = cli(
            "breaking-point",
            "--min",
            "1",
            "--max",
            "6",
            "--resolution",
            "1",
            "--duration",
            "2",
            "--json",
        )
        assert broke.code == 0, broke.out
        found = broke.json["data"]["breaking_point"]["breaking_point"]
        # each probe's load level is in its PerfMetrics: `load bench` wrote its result.json
        for probe in broke.json["data"]["breaking_point"]["probes"]:
            (result,) = repo.glob(f".claude/perf/artifacts/*/{probe['run_id']}/load-*/result.json")
            exported = cli("metrics", "export", str(result), "--json").json["data"]
            assert exported["perfmetrics"]["scenario"]["concurrency"] == round(probe["value"])
        assert broke.json["data"]["breaking_point"]["thresholds"] == [
            THRESHOLD,
            "work:error_rate>=0.5",
        ]
        # the same server swept directly, users 1..6, with `perfinvest load run`
        slo = parse_slo("p95_ms <= 100")
        first_fail = None
        for users in range(1, 7):
            swept = cli(
                "load",
                "run",
                "--targets",
                "t.yaml",
                "--users",
                str(users),
                "--duration",
                "2",
                "--allow-short",
                "sweep",
                "--json",
            )
            assert swept.code == 0, swept.out
            if not slo.holds(swept.json["data"]["routes"]["all"]["p95_ms"]):
                first_fail = users
                break
    assert first_fail is not None and found is not None
    assert abs(found - first_fail) <= 1, (found, first_fail, json.dumps(broke.json["data"])[:800])
