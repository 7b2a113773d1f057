"""`perfinvest export openmetrics|grafana|csv` over real investigations made by real runs.

The exposition is read back by prometheus_client's own parsers and promtool, pushed to a
real Pushgateway, backfilled into a real Prometheus that answers every dashboard query; the
dashboard is checked against the committed schema and type-checked against Grafana's
published types; the CSV files are read back with the csv module and compared exactly.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_om
from prometheus_client.parser import text_string_to_metric_families as parse_prom
from tests.conftest import SHORT, START_ARGS

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD_SCHEMA = ROOT / "schemas" / "grafana" / "dashboard.schema.json"
PUSHGATEWAY = "/usr/bin/prometheus-pushgateway"
GRAFANA_TYPES = ROOT / ".cache" / "grafana-schema" / "node_modules"  # scripts/bootstrap.sh
DASHBOARD_TYPE = "@grafana/schema/dist/types/raw/dashboard/x/types.gen"
MEASURED = ("environment", "config_hash")  # every measured sample carries them
#: Families of breaking-point searches and constrained runs (tests/cli/test_export_phases.py).
PHASE_FAMILIES = ("perfinvest_breaking_point_", "perfinvest_constraint_")


def investigate(cli: Any, *extra: str, baselines: int = 1) -> str:
    args = [*START_ARGS, *extra, "--no-checkpoint", "--json"]
    started = cli(*args)
    assert started.code == 0, started.out
    for _ in range(baselines):
        done = cli("baseline", "--runs", "2", *SHORT, "--no-checkpoint", "--json")
        assert done.code == 0, done.out
    return str(started.json["investigation"])


def perf(repo: Path) -> Path:
    return repo / ".claude" / "perf"


def stored_runs(repo: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """(relative baseline file, run id) → run, from the baseline files as written."""
    out = {}
    for path in sorted((perf(repo) / "baselines").rglob("*.json")):
        document = json.loads(path.read_text())
        relative = path.relative_to(perf(repo)).as_posix()
        for run in document["runs"]:
            out[(relative, run["run_id"])] = run
    return out


def families_by_name(text: str) -> dict[str, Any]:
    return {f.name: f for f in parse_om(text)}


def test_openmetrics_parses_and_carries_every_run_with_time_environment_and_hash(
    repo: Path, cli: Any
) -> None:
    inv = investigate(cli, baselines=2)  # the second archives the first: superseded, kept
    result = cli("export", "openmetrics")
    assert result.code == 0, result.err
    text = result.out
    assert text.rstrip("\n").splitlines()[-1] == "# EOF"
    families = families_by_name(text)  # raises on anything the OpenMetrics parser refuses
    assert families["perfinvest_environment"].type == "info"
    assert families["perfinvest_baseline_samples"].type == "summary"
    assert families["perfinvest_run_duration_seconds"].unit == "seconds"
    for family in families.values():
        for sample in family.samples:
            assert sample.timestamp is not None, (family.name, sample)
            assert sample.labels.get("environment"), (family.name, sample)
            if family.name != "perfinvest_environment":
                assert all(sample.labels.get(k) for k in MEASURED), (family.name, sample)
    stored = stored_runs(repo)
    assert len(stored) == 4
    values = {
        (s.labels["source"], s.labels["run_id"], s.labels["metric"]): s
        for s in families["perfinvest_run_value"].samples
    }
    for (source, run_id), run in stored.items():
        for metric in run["metrics"]:
            sample = values[(source, run_id, metric["name"])]
            assert sample.value == metric["value"]  # exactly: the text round-trips floats
            assert sample.labels["investigation"] == inv and sample.labels["version"] == "v1"
            assert sample.labels["superseded"] == ("true" if "archive/" in source else "false")
            assert sample.labels["config_hash"] == run["environment"]["config_hash"]
            ended = datetime.fromisoformat(run["ended_at"]).timestamp()
            assert float(sample.timestamp) == pytest.approx(ended, abs=1e-6)
    quantiles = {
        s.labels["quantile"]
        for s in families["perfinvest_baseline_samples"].samples
        if "quantile" in s.labels
    }
    assert quantiles == {"0.5", "0.9", "0.95", "0.99", "0.999"}
    means = [
        s
        for s in families["perfinvest_baseline_value"].samples
        if s.labels["metric"] == "p95_ms" and s.labels["stat"] == "mean"
    ]
    current = json.loads((perf(repo) / "baselines" / "v1.json").read_text())
    (now,) = [s for s in means if s.labels["superseded"] == "false"]
    assert now.value == pytest.approx(current["summaries"]["p95_ms"]["runs"]["mean"], rel=1e-12)
    assert {s.labels["superseded"] for s in means} == {"true", "false"}

    answer = cli("export", "openmetrics", inv, "-o", str(repo / "out" / "perf.om"), "--json")
    assert answer.code == 0, answer.out
    data = answer.json["data"]
    assert data["samples"] == sum(len(f.samples) for f in families.values())
    assert data["superseded_runs"] == 2 and data["output"].endswith("perf.om")
    assert (repo / "out" / "perf.om").read_text() == text
    by_version = cli("export", "openmetrics", "--version", "v1")
    assert by_version.code == 0 and by_version.out == text


def test_prometheus_format_reads_back_and_promtool_accepts_and_backfills_it(
    repo: Path, cli: Any, tmp_path: Path
) -> None:
    investigate(cli)
    prom = cli("export", "openmetrics", "--format", "prometheus")
    assert prom.code == 0 and "# EOF" not in prom.out
    classic = {f.name: f for f in parse_prom(prom.out)}
    om = families_by_name(cli("export", "openmetrics").out)
    # the same samples in both formats (the classic parser has no info type: a gauge)
    assert classic["perfinvest_baseline_info"].type == "gauge"
    assert len(classic["perfinvest_run_value"].samples) == len(om["perfinvest_run_value"].samples)
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool (Debian package prometheus) not installed: bootstrap.sh adds it")
    check = subprocess.run(
        [promtool, "check", "metrics"],
        input=prom.out,
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr + check.stdout
    exposition = tmp_path / "perf.om"
    assert cli("export", "openmetrics", "-o", str(exposition)).code == 0
    blocks = subprocess.run(
        [
            promtool,
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            str(exposition),
            str(tmp_path / "db"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert blocks.returncode == 0, blocks.stderr + blocks.stdout
    total = sum(len(f.samples) for f in om.values())
    assert re.search(rf"\s{total}\s", blocks.stdout), blocks.stdout  # NUM SAMPLES


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(argv: list[str], url: str, log_path: Path) -> Iterator[str]:
    """A real server process until the block ends, once its ``/-/ready`` answers."""
    log = log_path.open("w")
    process = subprocess.Popen(argv, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError(log_path.read_text()) from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture
def pushgateway(tmp_path: Path) -> Iterator[str]:
    """A real Pushgateway on a free loopback port, no persistence file."""
    if not Path(PUSHGATEWAY).exists():
        pytest.skip("prometheus-pushgateway not installed (scripts/bootstrap.sh installs it)")
    port = _free_port()
    argv = [PUSHGATEWAY, f"--web.listen-address=127.0.0.1:{port}"]
    with serving(argv, f"http://127.0.0.1:{port}", tmp_path / "pushgateway.log") as url:
        yield url


def test_push_lands_in_a_real_pushgateway_grouped_by_investigation_and_version(
    repo: Path, cli: Any, pushgateway: str
) -> None:
    inv = investigate(cli)
    pushed = cli("export", "openmetrics", "--push", pushgateway, "--json")
    assert pushed.code == 0, pushed.out
    assert pushed.json["data"]["pushed"] == [
        f"{pushgateway}/metrics/job/perfinvest/investigation/{inv}/version/v1"
    ]
    with urllib.request.urlopen(f"{pushgateway}/metrics", timeout=5) as answer:
        scraped = {f.name: f for f in parse_prom(answer.read().decode())}
    got = {
        (s.labels["run_id"], s.labels["metric"]): s for s in scraped["perfinvest_run_value"].samples
    }
    for (_, run_id), run in stored_runs(repo).items():
        for metric in run["metrics"]:
            sample = got[(run_id, metric["name"])]
            assert sample.value == metric["value"]
            assert sample.labels["job"] == "perfinvest" and sample.labels["investigation"] == inv
    starts = {
        s.labels["run_id"]: s.value for s in scraped["perfinvest_run_timestamp_seconds"].samples
    }
    for (_, run_id), run in stored_runs(repo).items():  # the time survives the push
        started = datetime.fromisoformat(run["started_at"]).timestamp()
        assert starts[run_id] == pytest.approx(started, abs=1e-3)
    assert "perfinvest_environment_info" in scraped


def test_unreachable_or_bad_pushgateway_is_one_line_and_a_documented_code(
    repo: Path, cli: Any
) -> None:
    investigate(cli)
    down = cli("export", "openmetrics", "--push", f"http://127.0.0.1:{_free_port()}", "--json")
    assert down.code == 7, down.out
    message = down.json["error"]["message"]
    assert "cannot push to the Pushgateway" in message and "\n" not in message
    text = cli("export", "openmetrics", "--push", f"http://127.0.0.1:{_free_port()}")
    assert text.code == 7 and text.out.count("\n") <= 2 and "Traceback" not in text.err
    bad = cli("export", "openmetrics", "--push", "ftp://example.org", "--json")
    assert bad.code == 2 and "http(s)" in bad.json["error"]["message"]


def _metric_names(expr: str) -> set[str]:
    return set(re.findall(r"\bperfinvest_[a-z0-9_]+", expr))


def test_grafana_dashboard_validates_and_queries_only_metrics_the_export_emits(
    repo: Path, cli: Any
) -> None:
    from perfinvest.core.export.grafana import promql_expressions

    result = cli("export", "grafana", "-o", str(repo / "dash.json"), "--json")
    assert result.code == 0, result.out
    board = json.loads((repo / "dash.json").read_text())
    schema = json.loads(DASHBOARD_SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(board)
    # importable as is: every data source is the declared input, panel ids are unique
    inputs = {f"${{{i['name']}}}" for i in board["__inputs"]}
    sources = [p["datasource"]["uid"] for p in board["panels"] if "datasource" in p]
    sources += [v["datasource"]["uid"] for v in board["templating"]["list"]]
    assert sources and set(sources) <= inputs
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    names = {v["name"] for v in board["templating"]["list"]}
    assert {"investigation", "version", "scenario"} <= names
    for expr in promql_expressions(board):  # every $variable is defined
        used = set(re.findall(r"\$(\w+)", expr)) - {"__range"}
        assert used <= names, expr
    # a schema that could fail: a misspelt panel field is refused
    broken = json.loads(json.dumps(board))
    broken["panels"][1]["gridpos"] = broken["panels"][1].pop("gridPos")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(broken)
    printed = cli("export", "grafana")
    assert printed.code == 0 and json.loads(printed.out) == board

    investigate(cli)
    emitted = {s.name for f in parse_om(cli("export", "openmetrics").out) for s in f.samples}
    queried = set().union(*(_metric_names(e) for e in promql_expressions(board)))
    load_only = {n for n in queried if n.startswith("perfinvest_load_")}
    phases = {n for n in queried if n.startswith(PHASE_FAMILIES)}  # test_export_phases.py
    assert queried - load_only - phases <= emitted  # the load families: the slow test below
    assert load_only and not load_only & emitted
    assert phases and not phases & emitted


def _typescript(name: str, board: dict[str, Any]) -> str:
    """A module that assigns the dashboard (less the sharing wrapper, which is not part of
    the model) to Grafana's own ``Dashboard`` type: tsc checks every nested field."""
    model = {k: v for k, v in board.items() if k not in ("__inputs", "__requires")}
    return (
        f'import type {{ Dashboard }} from "{DASHBOARD_TYPE}";\n'
        f"const {name}: Dashboard = {json.dumps(model, indent=1)};\nexport default {name};\n"
    )


def test_dashboard_type_checks_against_the_types_grafana_publishes(tmp_path: Path) -> None:
    from perfinvest.core.export.grafana import dashboard

    tsc = GRAFANA_TYPES / ".bin" / "tsc"
    if not tsc.exists() or shutil.which("node") is None:
        pytest.skip("typescript and @grafana/schema not installed (scripts/bootstrap.sh)")
    (tmp_path / "node_modules").symlink_to(GRAFANA_TYPES)
    board = dashboard()
    (tmp_path / "good.ts").write_text(_typescript("good", board))
    # with a default metric (its variable's `current`) and that metric's unit
    (tmp_path / "metric.ts").write_text(_typescript("metric", dashboard("t", "p95_ms", "ms")))
    broken = json.loads(json.dumps(board))
    broken["panels"][1]["targets"] = broken["panels"][1]["targets"][0]  # an object, not a list
    broken["templating"]["list"][0]["multiselect"] = True  # no such field
    (tmp_path / "broken.ts").write_text(_typescript("broken", broken))
    done = subprocess.run(
        [str(tsc), "--noEmit", "--strict", "--moduleResolution", "node", "--target", "es2020"]
        + ["good.ts", "metric.ts", "broken.ts"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in done.stdout.splitlines() if "error TS" in line]
    assert not [e for e in errors if e.startswith(("good.ts", "metric.ts"))], done.stdout
    assert any("multiselect" in e for e in errors), done.stdout  # the check can fail
    assert any("Record<string, unknown>[]" in e for e in errors), done.stdout  # targets


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def test_csv_round_trips_runs_and_samples_exactly(repo: Path, cli: Any) -> None:
    from perfinvest.adapters.export.csv import RUNS_HEADER, SAMPLES_HEADER

    command = f"{sys.executable} -c pass"
    investigate(cli, "--mode", "repeat", "--command", command, "--metric", "wall_ms")
    out = repo / "csv-out"
    result = cli("export", "csv", "-o", str(out), "--json")
    assert result.code == 0, result.out
    assert result.json["data"]["files"] == [str(out / "runs.csv"), str(out / "samples.csv")]
    header, rows = _read_csv(out / "runs.csv")
    assert tuple(header) == RUNS_HEADER
    stored = stored_runs(repo)
    expected = {
        (source, run_id, m["name"], m.get("scenario") or ""): (m, run)
        for (source, run_id), run in stored.items()
        for m in run["metrics"]
    }
    got = {(r["source"], r["run_id"], r["metric"], r["scenario"]): r for r in rows}
    assert set(got) == set(expected)
    for key, (metric, run) in expected.items():
        row = got[key]
        assert float(row["value"]) == metric["value"]  # exact, not approximately
        assert row["unit"] == metric["unit"] and row["phase"] == "baseline"
        assert float(row["duration_s"]) == run["duration_s"]
        assert datetime.fromisoformat(row["started_at"]) == datetime.fromisoformat(
            run["started_at"]
        )
        assert row["config_hash"] == run["environment"]["config_hash"]
        assert row["compliant"] == ("true" if run["compliant"] else "false")
        assert row["superseded"] == "false" and row["host"] == run["environment"]["host"]
    header, samples = _read_csv(out / "samples.csv")
    assert tuple(header) == SAMPLES_HEADER
    read: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for row in samples:
        read.setdefault((row["run_id"], row["metric"]), []).append(
            (int(row["index"]), float(row["value"]))
        )
    wanted = {
        (run_id, m["name"]): m["samples"]
        for (_, run_id), run in stored.items()
        for m in run["metrics"]
        if m["samples"]
    }
    assert wanted, "a repeat-mode baseline keeps per-iteration samples"
    assert {k: [v for _, v in sorted(pairs)] for k, pairs in read.items()} == wanted
    default = cli("export", "csv", "--json")
    assert default.code == 0
    assert Path(default.json["data"]["directory"]).parent == perf(repo) / "exports"


def test_experiment_runs_are_exported_with_their_number_and_side(repo: Path, cli: Any) -> None:
    from tests.cli.test_experiment import to_phase_8

    inv = to_phase_8(cli)
    assert cli("experiment", "start", "--change", "c", "--files", "app.py", "--json").code == 0
    (repo / "app.py").write_text("print('changed')\n")
    done = cli("experiment", "run", "--runs", "2", *SHORT, "--no-checkpoint", "--json")
    assert done.code == 0, done.out
    source = done.json["data"]["experiment"]["runs"]["path"]
    stored = json.loads((perf(repo) / source).read_text())
    families = families_by_name(cli("export", "openmetrics", inv).out)
    values = [
        s for s in families["perfinvest_run_value"].samples if s.labels["phase"] == "experiment"
    ]
    for side in ("baseline", "candidate"):
        want = {(r["run_id"], m["name"]): m["value"] for r in stored[side] for m in r["metrics"]}
        got = {
            (s.labels["run_id"], s.labels["metric"]): s.value
            for s in values
            if s.labels["side"] == side
        }
        assert got == want and want
    assert {s.labels["experiment"] for s in values} == {"1"}
    assert {s.labels["source"] for s in values} == {source}
    assert cli("export", "csv", "-o", str(repo / "csv")).code == 0
    _, rows = _read_csv(repo / "csv" / "runs.csv")
    sides = {(r["experiment"], r["side"]) for r in rows if r["phase"] == "experiment"}
    assert sides == {("1", "baseline"), ("1", "candidate")}


def test_bad_input_is_one_line_and_a_documented_code(repo: Path, cli: Any, tmp_path: Path) -> None:
    for kind in ("openmetrics", "csv"):
        none = cli("export", kind, "--json")
        assert none.code == 4 and "no active investigation" in none.json["error"]["message"]
    started = cli(*START_ARGS, "--no-checkpoint", "--json")
    inv = started.json["investigation"]
    for kind in ("openmetrics", "csv"):
        empty = cli("export", kind, "--json")
        assert empty.code == 4, empty.out
        assert "has no runs yet" in empty.json["error"]["message"]
        assert empty.json["error"]["needs"] == ["perfinvest baseline"]
        unknown = cli("export", kind, inv[:-8] + "00000000", "--json")
        assert unknown.code == 4 and "unknown investigation" in unknown.json["error"]["message"]
        malformed = cli("export", kind, "not-an-id", "--json")
        assert malformed.code == 2
    assert cli("export", "openmetrics", "--version", "v9", "--json").code == 4
    assert cli("baseline", "--runs", "2", *SHORT, "--no-checkpoint", "--json").code == 0
    assert cli("export", "openmetrics", inv, "--json").code == 0
    blocker = tmp_path / "a-file"
    blocker.write_text("mine\n")
    for args in (  # a path that cannot be created: environment (7)
        ("openmetrics", "-o", str(blocker / "perf.om")),
        ("csv", "-o", str(blocker / "csv")),
        ("grafana", "-o", str(blocker / "dash.json")),
    ):
        refused = cli("export", *args, "--json")
        assert refused.code == 7, (args, refused.out)
        assert refused.json["error"]["message"].startswith("cannot")
    for args in (  # a folder where a file is asked for and the reverse: usage (2)
        ("openmetrics", "-o", str(tmp_path)),
        ("csv", "-o", str(blocker)),
    ):
        refused = cli("export", *args, "--json")
        assert refused.code == 2, (args, refused.out)
    assert blocker.read_text() == "mine\n"  # never touched
    assert cli("export", "openmetrics", "--format", "json").code == 2


@pytest.mark.slow
def test_load_runs_export_latency_quantiles_and_latency_csv(repo: Path, cli: Any) -> None:
    from tests.support.server import Behaviour, serve

    from perfinvest.adapters.export.csv import LATENCIES_HEADER
    from perfinvest.core.export.grafana import dashboard, promql_expressions

    inv = investigate(cli)
    with serve(Behaviour(routes={"/fast": (0.002, 200), "/broken": (0.0, 500)})) as url:
        targets = repo / "targets.yaml"
        targets.write_text(
            f"base_url: {url}\nslo_defaults: ['p95_ms <= 80']\nroutes:\n"
            "  - {name: fast, path: /fast, weight: 3}\n  - {name: broken, path: /broken}\n"
        )
        run = cli(
            "load", "run", "--profile", "smoke", "--targets", str(targets), "--duration", "2",
            "--json",
        )  # fmt: skip
        assert run.code == 0, run.out
    out_dir = Path(run.json["data"]["output_dir"])
    families = families_by_name(cli("export", "openmetrics", inv).out)
    latency = families["perfinvest_load_latency_milliseconds"]
    assert latency.type == "summary" and latency.unit == "milliseconds"
    routes = run.json["data"]["routes"]
    for sample in latency.samples:
        if sample.labels.get("quantile") == "0.95":
            assert sample.value == routes[sample.labels["route"]]["p95_ms"]
            assert sample.labels["scenario"] == "smoke" and sample.labels["investigation"] == inv
    errors = {s.labels["route"]: s.value for s in families["perfinvest_load_error_ratio"].samples}
    assert errors["broken"] == 1.0 and errors["fast"] == 0.0
    emitted = {s.name for f in families.values() for s in f.samples}
    queried = set().union(*(_metric_names(e) for e in promql_expressions(dashboard())))
    assert {n for n in queried if not n.startswith(PHASE_FAMILIES)} <= emitted
    result = json.loads((out_dir / "result.json").read_text())
    assert result["version"] == "v1" and result["experiment"] is None  # recorded at write
    assert {s.labels["version"] for s in latency.samples} == {"v1"}
    csv_dir = repo / "csv"
    assert cli("export", "csv", "-o", str(csv_dir)).code == 0
    header, rows = _read_csv(csv_dir / "load_latencies.csv")
    assert tuple(header) == LATENCIES_HEADER
    _, source = _read_csv(out_dir / "latency.csv")
    assert len(rows) == len(source)
    for mine, theirs in zip(rows, source, strict=True):
        assert mine["second"] == theirs["second"] and mine["route"] == theirs["route"]
        assert mine["requests"] == theirs["requests"]
        assert float(mine["p95_ms"]) == float(theirs["p95_ms"])
    _, runs = _read_csv(csv_dir / "runs.csv")
    assert {r["phase"] for r in runs} == {"baseline", "load"}
    _query_like_grafana(repo, cli, inv)


#: What Grafana puts for the dashboard's variables: every value, one metric, the range.
VARIABLES = {"investigation": ".*", "version": ".*", "scenario": ".*", "route": ".*"}


def _query_like_grafana(repo: Path, cli: Any, inv: str, *, phases: bool = False) -> None:
    """Backfill the export into a real Prometheus and run every query of the dashboard:
    each must parse and return data for this investigation (baseline and load; with
    ``phases`` the breaking-point and constraint panels' instead)."""
    from perfinvest.core.export.grafana import dashboard, promql_expressions

    prometheus, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if prometheus is None or promtool is None:
        pytest.skip("prometheus and promtool (Debian package prometheus) not installed")
    exposition, db = repo / "perf.om", repo / "tsdb"
    assert cli("export", "openmetrics", inv, "-o", str(exposition)).code == 0
    exprs = [
        e
        for e in promql_expressions(dashboard())
        if phases == any(n.startswith(PHASE_FAMILIES) for n in _metric_names(e))
    ]
    subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(exposition), str(db)],
        check=True,
        capture_output=True,
    )
    (repo / "prometheus.yml").write_text("global: {}\n")
    port = _free_port()
    argv = [
        prometheus,
        f"--config.file={repo / 'prometheus.yml'}",
        f"--storage.tsdb.path={db}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    with serving(argv, f"http://127.0.0.1:{port}", repo / "prometheus.log") as url:
        for expr in exprs:
            query = re.sub(r'"\$(\w+)"', lambda m: f'"{VARIABLES.get(m[1], "p95_ms")}"', expr)
            query = query.replace("$__range", "30d")
            if query.startswith("label_values("):  # a Grafana function: the label API
                selector, label = query[len("label_values(") : -1].rsplit(", ", 1)
                address = f"{url}/api/v1/label/{label}/values?" + urllib.parse.urlencode(
                    {"match[]": selector}
                )
            else:
                address = f"{url}/api/v1/query?" + urllib.parse.urlencode({"query": query})
            with urllib.request.urlopen(address, timeout=10) as answer:
                body = json.loads(answer.read())
            assert body["status"] == "success", (query, body)
            result = body["data"] if query.startswith("label_values(") else body["data"]["result"]
            assert result, f"no data for {query}"
