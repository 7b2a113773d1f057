"""The `simulate` and `capacity` tools through the official MCP stdio client.

Real parts: a real ``python -m perfinvest mcp`` server running the real simulator on the
bundled scenario and the real USL fit on points from known λ, σ, κ; each answer is compared
with what the in-process CLI prints for the same arguments.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import anyio
import pytest
from tests.cli.test_capacity import LEVELS, TRUE, write_csv
from tests.mcp.test_mcp_guardrails import calls, same_answer
from tests.mcp.test_mcp_server import structured

from perfinvest.core.capacity.fit import synthetic
from perfinvest.core.export.perfmetrics import problems


def test_simulate_is_deterministic_per_seed_and_names_a_bad_field(repo: Path, cli: Any) -> None:
    seeded = {"scenario": "api-route", "seed": 7}
    requests: list[tuple[str, dict[str, Any]]] = [
        ("simulate", seeded),
        ("simulate", seeded),
        ("simulate", {"scenario": "api-route", "seed": 8}),
        ("simulate", {**seeded, "output": "sim.json", "overrides": ["arrival.rate_per_s=100"]}),
        ("simulate", {"list_scenarios": True}),
        ("simulate", {"scenario": "api-route", "overrides": ["arrival.rate_per_s=-5"]}),
        ("simulate", {"scenario": "no-such-scenario"}),
        ("simulate", {}),
        ("simulate", {"scenario": "api-route", "seed": -1}),
    ]
    replies = anyio.run(lambda: calls(repo, *requests))
    first, again, other, written, listed, negative, unknown, none = map(structured, replies[:-1])

    assert first["ok"] is True and first["exit_code"] == 0, first
    assert first == again  # the same scenario and seed: the same answer
    same_answer(first, cli("simulate", "api-route", "--seed", "7", "--json").json)
    simulation = first["data"]["simulation"]
    assert simulation["seed"] == 7 and simulation["scenario"] == "api-route"
    assert {r["route"] for r in simulation["routes"]} == {"browse", "checkout"}
    assert other["data"]["simulation"]["overall"] != simulation["overall"]  # the seed reached it

    # the override and the PerfMetrics file: a lower arrival rate, fewer requests
    assert written["ok"] is True, written
    lighter = written["data"]["simulation"]["overall"]
    assert lighter["arrived"] < simulation["overall"]["arrived"]
    doc = json.loads((repo / "sim.json").read_text())
    assert problems(doc) == []

    assert "api-route" in {s["name"] for s in listed["data"]["scenarios"]}

    # bad input: the CLI's usage errors, exit 2, naming what is wrong
    assert negative["exit_code"] == 2 and negative["error"]["kind"] == "usage"
    assert "arrival.rate_per_s" in negative["error"]["message"]
    assert unknown["exit_code"] == 2 and "no-such-scenario" in unknown["error"]["message"]
    assert none["exit_code"] == 2 and "give a SCENARIO" in none["error"]["message"]
    # a negative seed never reaches perfinvest: the tool's schema refuses it
    assert replies[-1].isError and "seed" in replies[-1].content[0].text


def test_capacity_fits_and_refuses_as_the_cli_does(repo: Path, cli: Any) -> None:
    points = [(p.concurrency, p.throughput) for p in synthetic(LEVELS, *TRUE)]
    write_csv(repo / "points.csv", points)
    write_csv(repo / "few.csv", [(1, 100), (2, 190), (4, 340)])
    (repo / "bad.csv").write_text("users,rps\n1,2\n")
    requests: list[tuple[str, dict[str, Any]]] = [
        ("capacity", {"from_file": "points.csv", "current": 10}),
        ("capacity", {"from_file": "few.csv"}),
        ("capacity", {"from_file": "bad.csv"}),
        ("capacity", {}),
    ]
    fitted, few, bad, nothing = (structured(r) for r in anyio.run(lambda: calls(repo, *requests)))

    assert fitted["ok"] is True and fitted["exit_code"] == 0, fitted
    same_answer(fitted, cli("capacity", "--from", "points.csv", "--current", "10", "--json").json)
    fit = fitted["data"]["fit"]
    assert fit["lam"]["value"] == pytest.approx(TRUE[0], rel=1e-6)
    assert fit["peak"]["concurrency"]["value"] == pytest.approx(math.sqrt(950), rel=1e-5)
    assert fit["headroom"]["extra_concurrency"] == pytest.approx(math.sqrt(950) - 10, rel=1e-4)

    # three concurrencies cannot support a fit: exit 4 with the CLI's reason and message
    refused = cli("capacity", "--from", "few.csv", "--json")
    assert few["exit_code"] == refused.code == 4
    assert few["error"] == refused.json["error"]
    assert few["error"]["kind"] == "capacity_too_few_points"
    assert "at least 4" in few["error"]["message"]
    assert few["data"]["refusal"]["reason"] == "too_few_points"

    assert bad["exit_code"] == 2 and "the header must name the columns" in bad["error"]["message"]
    # no file and no investigation: nothing to fit, exit 3 naming what to give
    assert nothing["exit_code"] == 3 and nothing["error"]["needs"] == ["--from FILE"]
