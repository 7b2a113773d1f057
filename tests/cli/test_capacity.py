"""`perfinvest capacity` through the CLI: --from files, and a real investigation's probes.

The probed target (``usl_sim.py``) answers like a system that follows the USL with known
λ, σ, κ: its throughput at the concurrency ``PERF_PARAM_VALUE``, and by Little's law a
latency of N / X, so the breaking-point search fails above a latency and the probes along
the way are points on a known curve.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import START_ARGS

from perfinvest.core.capacity.fit import synthetic, usl

TRUE = (100.0, 0.05, 0.001)
LEVELS = [1, 2, 4, 8, 16, 32, 48, 64]

USL_SIM = """\
import os, time
n = float(os.environ.get("PERF_PARAM_VALUE", "4"))
lam, sigma, kappa = {params}
x = lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))
time.sleep(float(os.environ["PERF_RUN_DURATION"]))
print(f"PERF_METRICS p95_ms={{1000 * n / x}} throughput_rps={{x}}")
"""


def write_csv(path: Path, points: list[tuple[float, float]]) -> Path:
    path.write_text("concurrency,throughput\n" + "".join(f"{n},{x}\n" for n, x in points))
    return path


def test_from_a_csv_file_text_and_json(tmp_path: Path, cli: Any, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)  # no repository, no investigation: answered, nothing kept
    points = [(p.concurrency, p.throughput) for p in synthetic(LEVELS, *TRUE)]
    path = write_csv(tmp_path / "points.csv", points)
    text = cli("capacity", "--from", str(path), "--current", "10")
    assert text.code == 0, text.out + text.err
    assert "λ (one client)     100" in text.out and "σ (contention)     0.05" in text.out
    assert "peak concurrency   N* = 30.82" in text.out
    assert "headroom at N = 10: 72% of the peak" in text.out
    assert text.out.rstrip().splitlines()[-2].startswith("phase: ")  # the closing block
    answer = cli("capacity", "--from", str(path), "--current", "10", "--json").json
    assert answer["ok"] and answer["investigation"] is None and "artifact" not in answer["data"]
    fit = answer["data"]["fit"]
    assert fit["lam"]["value"] == pytest.approx(100, rel=1e-6)
    assert fit["kappa"]["value"] == pytest.approx(0.001, rel=1e-5)
    assert fit["peak"]["concurrency"]["value"] == pytest.approx(math.sqrt(950), rel=1e-5)
    assert fit["headroom"]["extra_concurrency"] == pytest.approx(math.sqrt(950) - 10, rel=1e-4)
    assert fit["points"][0]["source"] == "points.csv:2"
    assert not (tmp_path / ".claude").exists()


def test_from_a_json_file_with_a_current_throughput(tmp_path: Path, cli: Any) -> None:
    points = [
        {"concurrency": p.concurrency, "throughput": p.throughput} for p in synthetic(LEVELS, *TRUE)
    ]
    path = tmp_path / "points.json"
    path.write_text(json.dumps({"points": points}))
    answer = cli("capacity", "--from", str(path), "--current-throughput", "500", "--json").json
    room = answer["data"]["fit"]["headroom"]
    assert room["given"] == "throughput" and room["current_throughput"] == 500
    assert usl(room["current_concurrency"], *TRUE) == pytest.approx(500, rel=1e-6)


def test_too_few_points_and_bad_input_are_clear_errors(tmp_path: Path, cli: Any) -> None:
    few = write_csv(tmp_path / "few.csv", [(1, 100), (2, 190), (4, 340)])
    refused = cli("capacity", "--from", str(few), "--json")
    assert refused.code == 4
    error = refused.json["error"]
    assert error["kind"] == "capacity_too_few_points" and "at least 4" in error["message"]
    assert refused.json["data"]["refusal"]["reason"] == "too_few_points"
    assert refused.json["status"] == "blocked" and "4 or more" in refused.json["next"]
    text = cli("capacity", "--from", str(few))
    assert text.code == 4 and "capacity: no fit (too_few_points)" in text.out
    assert "perfinvest: error: 3 distinct concurrencies" in text.err
    valley = write_csv(
        tmp_path / "valley.csv", [(1, 100), (2, 190), (4, 340), (8, 250), (16, 560), (32, 800)]
    )
    assert cli("capacity", "--from", str(valley), "--json").json["error"]["kind"] == (
        "capacity_non_monotonic"
    )
    (tmp_path / "bad.csv").write_text("users,rps\n1,2\n")
    bad = cli("capacity", "--from", str(tmp_path / "bad.csv"))
    assert bad.code == 2 and "bad.csv:1: the header must name the columns" in bad.err
    missing = cli("capacity", "--from", str(tmp_path / "nope.csv"), "--json")
    assert missing.code == 2 and "no such file" in missing.json["error"]["message"]
    both = cli("capacity", "--from", str(few), "--current", "3", "--current-throughput", "9")
    assert both.code == 2 and "not both" in both.err
    negative = cli("capacity", "--from", str(few), "--current", "-1")
    assert negative.code == 2 and "positive" in negative.err


def test_nothing_to_fit_asks_for_a_file(repo: Path, cli: Any) -> None:
    answer = cli("capacity", "--json")
    assert answer.code == 3 and answer.json["error"]["needs"] == ["--from FILE"]
    assert cli("capacity", "--source", "load", "--json").code == 4  # no load run anywhere


def test_breaking_point_probes_of_a_real_investigation(repo: Path, cli: Any) -> None:
    (repo / "usl_sim.py").write_text(USL_SIM.format(params=TRUE))
    args = list(START_ARGS)
    args[args.index("--command") + 1] = f"{sys.executable} usl_sim.py"
    inv_id = str(cli(*args, "--json").json["investigation"])
    assert cli("baseline", "--runs", "2", "--duration", "0.15", "--json").code == 0
    # latency N/X in ms: 10 at N=1, 34 at the peak, 82 at N=64; the search fails above 50
    search = cli(
        "breaking-point", "--duration", "0.15", "--fail-when", "p95_ms>50",
        "--min", "1", "--max", "100", "--json",
    )  # fmt: skip
    assert search.code == 0, search.out
    probes = search.json["data"]["breaking_point"]["probes"]
    assert len({p["value"] for p in probes}) >= 4
    answer = cli("capacity", "--current", "20", "--json")
    assert answer.code == 0, answer.out
    data = answer.json["data"]
    assert data["source"].startswith("breaking-point probes (PERF_PARAM_VALUE")
    assert "throughput_rps" in data["source"]
    fit = data["fit"]
    assert fit["n_points"] == len(probes)
    assert fit["lam"]["value"] == pytest.approx(100, rel=1e-4)
    assert fit["sigma"]["value"] == pytest.approx(0.05, abs=1e-4)
    assert fit["kappa"]["value"] == pytest.approx(0.001, rel=1e-3)
    assert fit["peak"]["concurrency"]["value"] == pytest.approx(math.sqrt(950), rel=1e-3)
    # kept: the artifact, a note in the state, a section of the reviewer's log
    perf = repo / ".claude" / "perf"
    kept = json.loads((perf / data["artifact"]).read_text())
    assert kept["result"]["kind"] == "perfinvest.capacity-fit"
    state = json.loads((perf / "investigation.json").read_text())
    notes = [e for e in state["events"] if e["kind"] == "capacity"]
    assert len(notes) == 1 and data["artifact"] in notes[0]["message"]
    log = (perf / "investigations" / f"{inv_id}.md").read_text()
    assert "### Note: capacity" in log and "USL fit on" in log and "N\\* = 30.8" in log
    # the log is what the state renders (a repair finds nothing missing)
    assert cli("log", "--json").code == 0
    from perfinvest.core.models import Investigation
    from perfinvest.core.report.logbook import missing_sections

    assert missing_sections(Investigation.model_validate(state), log) == []
    # a metric the probes lack: refused with what they report
    wrong = cli("capacity", "--metric", "ops", "--json")
    message = wrong.json["error"]["message"]
    assert wrong.code == 4 and "no metric 'ops'" in message
    assert "p95_ms" in message and "throughput_rps" in message


@pytest.mark.slow
def test_load_runs_at_several_user_counts(repo: Path, cli: Any) -> None:
    """Four real Locust runs against a loopback server that serves each request in 50 ms:
    throughput grows about linearly with users (20 rps each), so the fit's λ is ~20 and the
    points are in the near-linear region."""
    from tests.support.server import Behaviour, serve

    with serve(Behaviour(routes={"/work": (0.05, 200)})) as url:
        targets = repo / "t.yaml"
        targets.write_text(f"base_url: {url}\nroutes:\n  - {{name: work, path: /work}}\n")
        for users in (1, 2, 3, 4):
            run = cli(
                "load", "run", "--profile", "baseline", "--targets", str(targets),
                "--users", str(users), "--duration", "3",
                "--allow-short", "tests use short runs", "--json",
            )  # fmt: skip
            assert run.code == 0, run.out
    answer = cli("capacity", "--source", "load", "--json")
    data = answer.json["data"]
    assert data["source"].startswith("load runs (users as concurrency")
    assert data["n_points"] == 4
    result = data.get("fit") or data["refusal"]
    points = sorted((p["concurrency"], p["throughput"]) for p in result["points"])
    assert [n for n, _ in points] == [1, 2, 3, 4]
    for n, x in points:  # each user completes about one request per 50 ms
        assert 0.6 * 20 * n < x < 1.05 * 20 * n, points
    assert answer.code == 0, answer.out
    assert data["fit"]["lam"]["value"] == pytest.approx(20, rel=0.3)
    # the latest baseline run's users is the current load
    assert data["current_from"].startswith("the latest baseline load run load/load-baseline-")
    # linear: no peak, no ceiling, so no headroom even with a current load; all said
    assert not data["fit"]["kappa_identified"] and data["fit"]["headroom"] is None
    assert any("κ is not identifiable" in f for f in answer.json["findings"])
    assert any("no headroom" in f for f in answer.json["findings"])
    # a ramp adds one point per second at the users running then (repeats: noise measured)
    with serve(Behaviour(routes={"/work": (0.05, 200)})) as url:
        targets.write_text(f"base_url: {url}\nroutes:\n  - {{name: work, path: /work}}\n")
        ramp = cli(
            "load", "run", "--profile", "ramp", "--targets", str(targets), "--users", "6",
            "--duration", "8", "--allow-short", "tests use short runs", "--json",
        )  # fmt: skip
        assert ramp.code == 0, ramp.out
    again = cli("capacity", "--source", "load", "--json")
    result = again.json["data"].get("fit") or again.json["data"]["refusal"]
    ramped = [p for p in result["points"] if "load-ramp-" in p["source"]]
    assert len(ramped) >= 4 and {p["concurrency"] for p in ramped} <= set(range(1, 7))
    assert any("a ramp," in f for f in again.json["findings"])


def test_probes_without_a_throughput_name_what_they_report(repo: Path, cli: Any) -> None:
    """The breaking-point tests' target reports p95_ms, error_rate and its own parameter
    (``value``): no throughput by name, so it must be named; ``value`` (= N) is linear."""
    from tests.cli.test_breaking_point import search, setup_sim

    setup_sim(repo, cli, capacity=37)
    assert search(cli, "--min", "1", "--max", "100").code == 0
    refused = cli("capacity", "--json")
    assert refused.code == 4 and refused.json["error"]["needs"] == ["--metric NAME"]
    assert (
        "no throughput metric (they report: error_rate, p95_ms"
        in (refused.json["error"]["message"])
    )
    linear = cli("capacity", "--metric", "value", "--current", "20", "--json")
    assert linear.code == 0, linear.out
    fit = linear.json["data"]["fit"]
    assert fit["lam"]["value"] == pytest.approx(1.0, rel=1e-6) and fit["r2"] == pytest.approx(1)
    assert not fit["kappa_identified"] and fit["peak"] is None and fit["headroom"] is None
    assert any("scales about linearly" in f for f in linear.json["findings"])
