"""`perfinvest load run/suite` against a real threaded HTTP server on 127.0.0.1.

Every run is a real Locust subprocess, 2-4 s long, a few users; load only goes to loopback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.server import Behaviour, serve

from perfinvest.core.load.slo import merge_histograms, percentile

SHORT = ("--allow-short", "tests use short runs")


@pytest.fixture
def server() -> Iterator[tuple[str, Behaviour]]:
    behaviour = Behaviour(
        routes={
            "/fast": (0.002, 200),
            "/slow": (0.15, 200),
            "/health": (0.0, 200),
            "/broken": (0.0, 500),
        }
    )
    with serve(behaviour) as url:
        yield url, behaviour


def write_targets(path: Path, url: str, routes: str) -> Path:
    path.write_text(
        f"base_url: {url}\nslo_defaults: ['p95_ms <= 80', 'error_rate < 0.01']\nroutes:\n{routes}"
    )
    return path


ROUTES = (
    "  - {name: fast, path: /fast, weight: 3}\n"
    "  - {name: slow, path: /slow}\n"
    "  - {name: health, path: /health, health: true}\n"
)


def _pass(answer: dict[str, Any]) -> str:
    return "PASS" if answer["data"]["passed"] else "FAIL"


def verdicts(answer: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(v["route"], v["metric"]): v["verdict"] for v in answer["data"]["verdicts"]}


@pytest.mark.slow
@pytest.mark.parametrize("profile", ["smoke", "ramp", "spike"])
def test_slow_route_fails_its_slo_the_others_pass(
    profile: str, server: tuple[str, Behaviour], repo: Path, cli: Any
) -> None:
    url, behaviour = server
    targets = write_targets(repo / "t.yaml", url, ROUTES)
    result = cli(
        "load",
        "run",
        "--profile",
        profile,
        "--targets",
        str(targets),
        "--users",
        "2",
        "--duration",
        "3",
        *SHORT,
        "--json",
    )
    assert result.code == 0, result.out
    answer = result.json
    v = verdicts(answer)
    assert v[("slow", "p95_ms")] == "FAIL"
    assert v[("fast", "p95_ms")] == "PASS" and v[("health", "p95_ms")] == "PASS"
    assert all(v[(r, "error_rate")] == "PASS" for r in ("fast", "slow", "health"))
    assert answer["data"]["passed"] is False
    out = Path(answer["data"]["output_dir"])
    matrix = (out / "slo_matrix.md").read_text()
    (slow,) = [
        r for r in answer["data"]["verdicts"] if r["route"] == "slow" and r["metric"] == "p95_ms"
    ]
    assert slow["measured"] >= 150  # the server's service time, rounded by Locust to 10 ms
    assert "| slow |" in matrix and f"`p95_ms <= 80` | {slow['measured']:.4g} | FAIL |" in matrix
    if profile == "spike":
        assert answer["data"]["routes"]["all"]["rps"] > 0  # measured over the peak
    phases = {(r["phase"], r["route"], r["metric"]): r for r in answer["data"]["phase_verdicts"]}
    if profile == "smoke":
        assert phases == {}
    else:  # judged per phase too: the slow route fails in each, the fast one passes
        names = {"ramp": {"ramp", "hold"}, "spike": {"low", "peak", "recovery"}}[profile]
        assert {p for p, _, _ in phases} == names
        assert all(phases[(p, "slow", "p95_ms")]["verdict"] == "FAIL" for p in names)
        assert all(phases[(p, "fast", "p95_ms")]["verdict"] == "PASS" for p in names)
        assert "## By phase" in matrix
    # every request the server saw is counted (nothing lost), per route
    routes = answer["data"]["routes"]
    assert routes["fast"]["requests"] == behaviour.hits["/fast"]
    assert routes["slow"]["requests"] == behaviour.hits["/slow"]
    header, *rows = (out / "latency.csv").read_text().splitlines()
    assert header.startswith("second,route,users,requests,failures,p50_ms")
    assert sum(int(r.split(",")[3]) for r in rows if ",all," in r) == routes["all"]["requests"]
    (run,) = json.loads((out / "runs.json").read_text())
    assert run["valid"] and not run["compliant"]
    assert {m["name"] for m in run["metrics"]} >= {"p95_ms", "p999_ms", "throughput_rps"}
    if profile == "spike":
        assert answer["data"]["peak_users"] == 20


@pytest.mark.slow
def test_route_returning_500s_is_a_fail_row_not_a_broken_run(
    server: tuple[str, Behaviour], repo: Path, cli: Any
) -> None:
    url, behaviour = server
    targets = write_targets(
        repo / "t.yaml", url, "  - {name: broken, path: /broken}\n  - {name: fast, path: /fast}\n"
    )
    result = cli(
        "load",
        "run",
        "--profile",
        "smoke",
        "--targets",
        str(targets),
        "--duration",
        "2",
        *SHORT,
        "--json",
    )
    assert result.code == 0, result.out
    data = result.json["data"]
    assert verdicts(result.json)[("broken", "error_rate")] == "FAIL"
    assert verdicts(result.json)[("fast", "error_rate")] == "PASS"
    assert data["routes"]["broken"]["error_rate"] == 1.0
    assert data["routes"]["broken"]["statuses"] == {"500": behaviour.hits["/broken"]}
    (run,) = data["runs"]
    assert run["valid"] and "requests failed" in run["load_errors"]
    # outside an investigation: in the state folder's load/, as the docs say, and said
    out = Path(data["output_dir"])
    assert out.parent == repo / ".claude" / "perf" / "load"
    assert f"results in {out}" in result.json["findings"]


@pytest.mark.slow
def test_two_workers_merge_exactly(server: tuple[str, Behaviour], repo: Path, cli: Any) -> None:
    url, behaviour = server
    targets = write_targets(repo / "t.yaml", url, ROUTES)
    result = cli(
        "load",
        "run",
        "--profile",
        "baseline",
        "--targets",
        str(targets),
        "--users",
        "4",
        "--duration",
        "3",
        "--workers",
        "2",
        *SHORT,
        "--json",
    )
    assert result.code == 0, result.out
    data = result.json["data"]
    assert data["workers"] == 2
    total = data["routes"]["all"]["requests"]
    assert total == sum(data["worker_requests"]) == sum(behaviour.hits.values())
    assert all(n > 0 for n in data["worker_requests"])
    dump = json.loads((Path(data["output_dir"]) / "locust-dump.json").read_text())
    merged = merge_histograms(
        {float(k): v for k, v in r["histogram"].items()} for r in dump["routes"].values()
    )
    # every response time is recorded exactly once, merged across the workers
    assert sum(cell[0] for cell in dump["exact"].values()) == total
    # percentiles are exact (core/load/exact.py), within Locust's 2-digit rounding of its own
    for key, pct in (("p95_ms", 95), ("p99_ms", 99)):
        rounded = percentile(merged, pct)
        assert abs(data["routes"]["all"][key] - rounded) <= 0.06 * rounded + 1, key
    # Locust's own CSV, read by perfinvest's locust-csv parser, agrees up to the requests
    # still in flight when it was written (it is written before the stop timeout ends)
    from perfinvest.adapters.formats.locust import parse

    csv_metrics = parse((Path(data["output_dir"]) / "locust_stats.csv").read_text()).metrics
    (csv_total,) = [m.value for m in csv_metrics if m.name == "requests" and m.scenario is None]
    assert total - 4 <= csv_total <= total


@pytest.mark.slow
def test_suite_halts_when_the_health_gate_fails(
    server: tuple[str, Behaviour], repo: Path, cli: Any
) -> None:
    url, _ = server
    targets = write_targets(
        repo / "t.yaml",
        url,
        "  - {name: health, path: /broken, health: true}\n  - {name: fast, path: /fast}\n",
    )
    result = cli(
        "load",
        "suite",
        "--profiles",
        "smoke,baseline",
        "--targets",
        str(targets),
        "--duration",
        "2",
        *SHORT,
        "--json",
    )
    assert result.code == 0, result.out
    data = result.json["data"]
    assert [p["profile"] for p in data["profiles"]] == ["smoke"]
    assert "halted after smoke" in data["halted"] and data["passed"] is False


def test_unreachable_host_is_a_clear_error(repo: Path, cli: Any) -> None:
    targets = write_targets(repo / "t.yaml", "http://127.0.0.1:9", ROUTES)
    result = cli("load", "run", "--targets", str(targets), "--duration", "2", *SHORT, "--json")
    assert result.code == 5
    assert "http://127.0.0.1:9 is unreachable" in result.json["error"]["message"]


@pytest.mark.parametrize(
    ("url", "extra", "code", "needle"),
    [
        ("http://10.255.255.1:80", (), 3, "outside loopback and allow_hosts"),
        ("http://127.0.0.1:9", ("--users", "61"), 3, "61 users (more than 60)"),
        ("http://127.0.0.1:9", ("--profile", "nope"), 2, "unknown profile 'nope'"),
        ("http://127.0.0.1:9", ("--fault",), 3, "route chaos injects errors"),
        ("http://127.0.0.1:9", ("--duration", "2"), 4, "below the 60 s minimum"),
    ],
)
def test_gates_and_bad_input_refuse_before_any_load(
    url: str, extra: tuple[str, ...], code: int, needle: str, repo: Path, cli: Any
) -> None:
    routes = ROUTES
    if extra == ("--fault",):
        routes, extra = ROUTES + "  - {name: chaos, path: /chaos, fault: true}\n", ()
    targets = write_targets(repo / "t.yaml", url, routes)
    short = () if "--duration" in extra else ("--duration", "2", *SHORT)
    result = cli("load", "run", "--targets", str(targets), *short, *extra, "--json")
    assert result.code == code, result.out
    assert needle in result.json["error"]["message"]
    assert not (repo / ".claude" / "perf" / "load").exists()  # nothing half-written


@pytest.mark.slow
def test_master_and_a_worker_process_as_across_machines(
    server: tuple[str, Behaviour], repo: Path, cli: Any
) -> None:
    import socket
    import subprocess
    import sys

    url, behaviour = server
    targets = write_targets(repo / "t.yaml", url, ROUTES)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "perfinvest",
            "load",
            "run",
            "--worker",
            "--master-host",
            "127.0.0.1",
            "--master-port",
            port,
            "--targets",
            str(targets),
            "--duration",
            "3",
            *SHORT,
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        result = cli(
            "load",
            "run",
            "--master",
            "--expect-workers",
            "1",
            "--master-port",
            port,
            "--targets",
            str(targets),
            "--users",
            "2",
            "--duration",
            "3",
            *SHORT,
            "--json",
        )
        out, err = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert result.code == 0, result.out
    assert worker.returncode == 0, out + err
    data = result.json["data"]
    assert data["routes"]["all"]["requests"] == sum(behaviour.hits.values()) > 0
    assert data["workers"] == 1
    sent = json.loads(out)["data"]
    assert sent["requests"] == data["routes"]["all"]["requests"]
    assert sent["failures"] == 0


@pytest.mark.slow
def test_soak_leak_check_fails_a_leaking_target(repo: Path, cli: Any) -> None:
    import os

    behaviour = Behaviour(routes={"/leak": (0.01, 200)}, leak_paths={"/leak"})
    with serve(behaviour) as url:  # the server runs in this process: watch our own pid
        targets = write_targets(repo / "t.yaml", url, "  - {name: leak, path: /leak}\n")
        text = targets.read_text() + f"profiles:\n  soak: {{users: 2, pid: {os.getpid()}}}\n"
        targets.write_text(text)
        result = cli(
            "load",
            "run",
            "--profile",
            "soak",
            "--targets",
            str(targets),
            "--duration",
            "3",
            *SHORT,
            "--json",
        )
    assert result.code == 0, result.out
    (row,) = [v for v in result.json["data"]["verdicts"] if v["route"] == "target"]
    assert row["metric"] == "rss_growth_mb_per_min" and row["verdict"] == "FAIL"
    # about 1 MB per request: the slope is of the order of requests per minute
    assert row["measured"] > 5.0
    assert (Path(result.json["data"]["output_dir"]) / "rss.csv").is_file()


@pytest.mark.slow
def test_burst_that_cannot_keep_its_arrival_rate_fails(repo: Path, cli: Any) -> None:
    behaviour = Behaviour(routes={"/slowish": (0.3, 200)})
    with serve(behaviour) as url:  # 2 users x 0.3 s: at most ~6.7 rps, not 10
        targets = write_targets(repo / "t.yaml", url, "  - {name: s, path: /slowish}\n")
        result = cli(
            "load",
            "run",
            "--profile",
            "burst",
            "--rate",
            "10",
            "--users",
            "2",
            "--targets",
            str(targets),
            "--duration",
            "3",
            *SHORT,
            "--json",
        )
    assert result.code == 0, result.out
    (row,) = [v for v in result.json["data"]["verdicts"] if v["metric"] == "arrival_rps"]
    assert row["verdict"] == "FAIL" and row["measured"] < 9.5


@pytest.mark.slow
def test_in_an_investigation_runs_land_in_its_artifacts_approvals_in_its_log(
    server: tuple[str, Behaviour], repo: Path, cli: Any
) -> None:
    from tests.conftest import START_ARGS

    url, _ = server
    assert cli(*START_ARGS, "--json").code == 0
    targets = write_targets(repo / "t.yaml", url, "  - {name: fast, path: /fast}\n")
    common = ("load", "run", "--profile", "smoke", "--targets", str(targets), "--duration", "2")
    refused = cli(*common, "--users", "61", "--json")
    assert refused.code == 3 and refused.json["error"]["needs"] == ['--approve "reason"']
    first = cli(*common, "--users", "61", "--approve", "loopback, checking the gate", "--json")
    assert first.code == 0, first.out
    second = cli(*common, "--json")  # the investigation's short-run policy applies
    assert second.code == 0, second.out
    inv = first.json["investigation"]
    out = Path(first.json["data"]["output_dir"])
    assert out.parent == repo / ".claude" / "perf" / "artifacts" / inv
    log = (repo / ".claude" / "perf" / "investigations" / f"{inv}.md").read_text()
    assert "Approved: loopback, checking the gate" in log and "# SLO matrix: smoke" in log
    other = Path(second.json["data"]["output_dir"])
    # each run is a section of its own: its time, its command, its folder
    assert log.count("\n## Load run: smoke ") == 2
    assert "**Command:** `perfinvest load run --profile smoke --targets" in log
    assert f"**Results:** `artifacts/{inv}/{out.name}`" in log
    # status lists them, newest first, with their verdicts
    rows = cli("status", "--json").json["data"]["load_runs"]
    assert [(r["profile"], r["folder"], r["verdict"]) for r in rows] == [
        ("smoke", f"artifacts/{inv}/{other.name}", _pass(second.json)),
        ("smoke", f"artifacts/{inv}/{out.name}", _pass(first.json)),
    ]
    pair = (str(out / "runs.json"), str(other / "runs.json"))
    refused_diff = cli("diff", *pair, "--json")  # 61 users vs 2: not the same experiment
    assert refused_diff.code == 4 and "config_hash" in refused_diff.json["error"]["message"]
    diffed = cli("diff", *pair, "--force", "--json")
    assert diffed.code == 0, diffed.out
    assert "p95_ms" in json.dumps(diffed.json["data"])


@pytest.mark.slow
def test_a_data_file_is_cycled_and_its_mistakes_are_named(
    server: tuple[str, Behaviour], repo: Path, cli: Any
) -> None:
    url, behaviour = server
    rows = [{"path": "/fast", "body": {"sku": 1}}, {"path": "/health", "body": "raw"}]
    (repo / "data.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    targets = write_targets(
        repo / "t.yaml", url, "  - {name: mixed, method: POST, path: /fast, data: data.jsonl}\n"
    )
    assert cli("load", "check", "--targets", str(targets), "--json").code == 0
    result = cli(
        "load",
        "run",
        "--profile",
        "smoke",
        "--targets",
        str(targets),
        "--duration",
        "2",
        *SHORT,
        "--json",
    )
    assert result.code == 0, result.out
    assert (
        behaviour.hits["/fast"] > 0
        and abs(behaviour.hits["/fast"] - behaviour.hits["/health"]) <= 2
    )
    assert result.json["data"]["routes"]["mixed"]["requests"] == sum(behaviour.hits.values())
    (repo / "data.jsonl").write_text('{"path": "/fast"}\nnot json\n')
    bad = cli("load", "check", "--targets", str(targets), "--json")
    assert bad.code == 2 and "data.jsonl:2: not JSON" in bad.json["error"]["message"]


@pytest.mark.slow
def test_ctrl_c_stops_locust_and_frees_the_lock(server: tuple[str, Behaviour], repo: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    url, _ = server
    targets = write_targets(repo / "t.yaml", url, ROUTES)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "perfinvest",
            "load",
            "run",
            "--targets",
            str(targets),
            "--users",
            "2",
            "--duration",
            "30",
            *SHORT,
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not list(repo.glob(".claude/perf/load/*/plan.json")):
        time.sleep(0.2)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, out + err
    assert json.loads(out)["error"]["kind"] == "interrupted"
    left = subprocess.run(
        ["pgrep", "-f", str(repo / ".claude")], capture_output=True, text=True, check=False
    )
    assert left.stdout.strip() == ""  # no locust (master or worker) left behind


@pytest.mark.slow
def test_bench_of_a_burst_takes_its_arrival_rate_from_the_parameter(
    server: tuple[str, Behaviour], repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, behaviour = server
    targets = write_targets(repo / "t.yaml", url, "  - {name: fast, path: /fast}\n")
    monkeypatch.setenv("PERF_RUN_DURATION", "3")
    monkeypatch.setenv("PERF_PARAM_VALUE", "8")
    result = cli("load", "bench", "--profile", "burst", "--targets", str(targets), "--json")
    assert result.code == 0, result.out
    data = result.json["data"]
    assert data["rate_rps"] == 8.0 and data["peak_users"] == 8
    (row,) = [v for v in data["verdicts"] if v["metric"] == "arrival_rps"]
    assert row["slo"] == "arrival_rps >= 7.6"
    # paced at 8 rps for about 3 s: the server saw roughly that many, all counted
    assert 8 <= behaviour.hits["/fast"] <= 8 * 3 + 8
    assert data["routes"]["fast"]["requests"] == behaviour.hits["/fast"]
    assert "PERF_METRICS_START" in data["perf_metrics"]


@pytest.mark.slow
def test_enforce_exits_8_on_a_fail_and_perfmetrics_carry_route_and_users(
    server: tuple[str, Behaviour], repo: Path, cli: Any
) -> None:
    url, _ = server
    run = ("load", "run", "--profile", "smoke", "--users", "2", "--duration", "2", *SHORT)
    slow = write_targets(repo / "slow.yaml", url, "  - {name: slow, path: /slow}\n")
    failed = cli(*run, "--targets", str(slow), "--enforce", "--json")
    assert failed.code == 8, failed.out
    assert failed.json["error"]["kind"] == "regression"
    assert "slow p95_ms <= 80" in failed.json["error"]["message"]
    out = Path(failed.json["data"]["output_dir"])
    assert "| FAIL |" in (out / "slo_matrix.md").read_text()  # written all the same
    # the load result, and its runs.json, export with the route and the users they had
    for source in (out / "result.json", out / "runs.json"):
        exported = cli("metrics", "export", str(source), "--json")
        assert exported.code == 0, exported.out
        scenario = exported.json["data"]["perfmetrics"]["scenario"]
        assert scenario["route"] == "GET /slow" and scenario["concurrency"] == 2, scenario
    fast = write_targets(repo / "fast.yaml", url, "  - {name: fast, path: /fast}\n")
    passed = cli(*run, "--targets", str(fast), "--enforce", "--json")
    assert passed.code == 0, passed.out
    assert passed.json["data"]["passed"] is True


def test_outside_an_investigation_the_docs_name_the_real_folder(
    repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re

    from perfinvest.app.context import AppContext
    from perfinvest.app.load.request import LoadRequest
    from perfinvest.app.load.run import _output_dir

    docs = Path(__file__).resolve().parents[3] / "docs"
    text = (docs / "load-testing.md").read_text(encoding="utf-8")
    said = re.search(r"or under `([^`]+)` outside an\s+investigation: `([^`]+)` unless", text)
    assert said is not None, "docs/load-testing.md: where do load runs go outside one?"
    generic, default = said.groups()
    folder = _output_dir(AppContext.discover(), None, LoadRequest(profile="smoke"), "T").parent
    assert folder == repo / default.rstrip("/")
    refused = cli("capacity", "--source", "load", "--json")  # names the folder it read
    assert refused.code == 4 and f"no load run in {folder}:" in refused.out
    monkeypatch.setenv("AI_STATE_DIR", str(repo / "elsewhere"))
    moved = _output_dir(AppContext.discover(), None, LoadRequest(profile="smoke"), "T").parent
    assert moved == Path(generic.replace("<state_dir>", str(repo / "elsewhere")).rstrip("/"))
    capacity = (docs / "capacity.md").read_text(encoding="utf-8")
    assert "or `<state_dir>/perf/load/load-*/result.json` outside one" in capacity
    assert not re.search(r"(?<![/\w])perf/load/", text + capacity)  # no bare perf/load/
