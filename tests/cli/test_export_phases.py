"""Breaking-point probes and constrained runs in `perfinvest export`, over real states.

The synthetic state of the report tests (tests/support/synthetic.py: two searches, the same
limit measured twice) and a real investigation through baseline, two breaking-point
searches and two constrained runs (the fallback backend) with a benchmark whose latency
follows the probed value. The exposition is read back by prometheus_client's parser (and
promtool), the CSV files by the csv module, the dashboard's queries by a real Prometheus.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families as parse_prom
from tests.cli.test_export import _query_like_grafana, _read_csv, families_by_name, perf
from tests.conftest import START_ARGS
from tests.support.synthetic import INV_ID, write_state

PHASES = ("perfinvest_breaking_point_", "perfinvest_constraint_")
DURATION = ("--duration", "0.3")
#: latency follows the probed value: a search over [1, 64] failing above 40 ms finds 30
LEVEL_BENCH = """\
import os, time
time.sleep(float(os.environ["PERF_RUN_DURATION"]))
level = float(os.environ.get("PERF_PARAM_VALUE", "1"))
print(f"PERF_METRICS p95_ms={10 + level} requests={100 - level}")
"""


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder whose .claude/perf holds the synthetic investigation (no git repository)."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / ".claude" / "perf"
    write_state(folder)
    return folder


def _searches(folder: Path, inv: str = INV_ID) -> list[tuple[str, dict[str, Any]]]:
    found = sorted((folder / "artifacts" / inv).glob("breaking-point-*.json"))
    return [(p.relative_to(folder).as_posix(), json.loads(p.read_text())) for p in found]


def _stamp(source: str) -> float:
    stamp = source.rsplit("breaking-point-", 1)[1].removesuffix(".json")
    return datetime.strptime(stamp, "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC).timestamp()


def _phase_samples(families: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(name, s) for name, f in families.items() if name.startswith(PHASES) for s in f.samples]


def test_probes_and_constraints_carry_values_labels_time_and_superseded(
    state: Path, cli: Any
) -> None:
    families = families_by_name(cli("export", "openmetrics").out)
    inv = json.loads((state / "investigation.json").read_text())
    baseline = json.loads((state / "baselines" / "v1.json").read_text())
    for name, sample in _phase_samples(families):
        assert sample.timestamp is not None, (name, sample)
        assert sample.labels["config_hash"] == baseline["config_hash"], name
        assert sample.labels["environment"] and sample.labels["version"] == "v1", name
    searches = _searches(state)
    assert len(searches) == 2
    probes = families["perfinvest_breaking_point_probe"].samples
    levels = families["perfinvest_breaking_point_probe_level"].samples
    for source, result in searches:
        current = result == inv["breaking_point"]
        mine = [s for s in probes if s.labels["source"] == source]
        assert {s.labels["superseded"] for s in mine} == {"false" if current else "true"}
        for number, probe in enumerate(result["probes"], 1):
            got = {
                s.labels["metric"]: s
                for s in mine
                if s.labels["probe"] == str(number) and s.labels["run_id"] == probe["run_id"]
            }
            assert {k: s.value for k, s in got.items()} == probe["metrics"]  # exactly
            for s in got.values():
                assert float(s.labels["level"]) == probe["value"]
                assert s.labels["passed"] == {True: "true", False: "false"}[probe["passed"]]
                # the synthetic run ids carry no start stamp: the search's own time
                assert float(s.timestamp) == _stamp(source)
        invalid = [s for s in levels if s.labels["source"] == source]
        assert [s.value for s in invalid] == [p["value"] for p in result["probes"]]
        assert invalid[-1].labels["passed"] == "invalid"  # kept, not a failure
        bounds = {
            s.labels["bound"]: s.value
            for s in families["perfinvest_breaking_point_boundary"].samples
            if s.labels["source"] == source
        }
        assert bounds["last_passing"] == result["last_passing"]
        assert bounds["breaking_point"] == result["breaking_point"]
    # the same limit measured twice: the first record is superseded, both are kept
    values = families["perfinvest_constraint_value"].samples
    by_number = {s.labels["constraint"]: s for s in values if s.labels["metric"] == "p95_ms"}
    for number, record in enumerate(inv["constraints"], 1):
        sample = by_number[str(number)]
        assert sample.value == record["metrics"]["p95_ms"]
        assert sample.labels["superseded"] == ("true" if number == 1 else "false")
        assert sample.labels["limits"] == record["label"] == "cpu=0.5"
    changes = {
        s.labels["constraint"]: s.value
        for s in families["perfinvest_constraint_change_ratio"].samples
    }
    assert changes == {str(n): r["deltas"]["p95_ms"] for n, r in enumerate(inv["constraints"], 1)}
    assert families["perfinvest_constraint_change_ratio"].unit == "ratio"
    usage = {
        (s.labels["constraint"], s.labels["resource"]): s.value
        for s in families["perfinvest_constraint_usage"].samples
    }
    assert usage[("1", "throttled_periods")] == 12 and usage[("1", "runs")] == 2
    assert usage[("1", "peak_memory_bytes")] == 30 * 2**20
    assert ("2", "peak_memory_bytes") not in usage  # not measured: no sample, no zero
    limits = families["perfinvest_constraint_limit"].samples
    assert {(s.labels["limit"], s.value) for s in limits} == {("cpu", 0.5)}
    # no run id stamp either: the constraints phase's end
    ended = [a["ended_at"] for a in inv["attempts"] if a["phase"] == "constraints"][-1]
    assert {float(s.timestamp) for s in values} == {datetime.fromisoformat(ended).timestamp()}
    answer = cli("export", "openmetrics", "--json").json["data"]
    assert (answer["breaking_points"], answer["superseded_breaking_points"]) == (2, 1)
    assert (answer["constraints"], answer["superseded_constraints"]) == (2, 1)
    assert answer["probes"] == sum(len(r["probes"]) for _, r in searches)
    prom = cli("export", "openmetrics", "--format", "prometheus").out
    classic = {f.name: f for f in parse_prom(prom)}
    assert len(classic["perfinvest_breaking_point_probe"].samples) == len(probes)
    promtool = shutil.which("promtool")
    if promtool is not None:
        check = subprocess.run(
            [promtool, "check", "metrics"], input=prom, capture_output=True, text=True, check=False
        )
        lint = [line for line in check.stdout.splitlines() if "breaking_point" in line]
        lint += [line for line in check.stdout.splitlines() if "constraint" in line]
        assert not lint, check.stdout


def test_probes_csv_and_constraints_csv_round_trip_exactly(state: Path, cli: Any) -> None:
    from perfinvest.adapters.export.csv import CONSTRAINTS_HEADER, PROBES_HEADER

    out = state.parent / "csv"
    answer = cli("export", "csv", "-o", str(out), "--json")
    assert answer.code == 0, answer.out
    header, rows = _read_csv(out / "probes.csv")
    assert tuple(header) == PROBES_HEADER
    inv = json.loads((state / "investigation.json").read_text())
    expected = {}
    for source, result in _searches(state):
        superseded = "false" if result == inv["breaking_point"] else "true"
        for number, probe in enumerate(result["probes"], 1):
            for metric, value in probe["metrics"].items() or [("", None)]:
                expected[(source, str(number), metric)] = (probe, value, superseded, result)
    got = {(r["source"], r["probe"], r["metric"]): r for r in rows}
    assert set(got) == set(expected)
    for key, (probe, value, superseded, result) in expected.items():
        row = got[key]
        assert row["superseded"] == superseded and float(row["level"]) == probe["value"]
        assert (float(row["value"]) if row["value"] else None) == value
        assert row["passed"] == {True: "true", False: "false", None: "invalid"}[probe["passed"]]
        assert float(row["breaking_point"]) == result["breaking_point"]
        assert row["reason"] == probe["reason"] and row["stage"] == probe["stage"]
    header, rows = _read_csv(out / "constraints.csv")
    assert tuple(header) == CONSTRAINTS_HEADER
    assert len(rows) == len(inv["constraints"])  # one metric each
    for row, record in zip(rows, inv["constraints"], strict=True):
        assert float(row["value"]) == record["metrics"][row["metric"]]
        assert float(row["relative_change"]) == record["deltas"][row["metric"]]
        assert row["runs"].split() == record["runs"] and row["limits"] == record["label"]
        assert float(row["cpu"]) == record["cpu"] and row["memory_bytes"] == ""
    assert [r["superseded"] for r in rows] == ["true", "false"]


def test_a_load_run_is_labelled_with_the_version_its_result_records(state: Path, cli: Any) -> None:
    (result_path,) = (state / "artifacts" / INV_ID).glob("load-*/result.json")
    old = families_by_name(cli("export", "openmetrics").out)  # written before the key
    assert {
        s.labels["version"]
        for s in old["perfinvest_run_value"].samples
        if s.labels["phase"] == "load"
    } == {"v1"}  # the setup version, as docs/exports.md says
    document = json.loads(result_path.read_text())
    result_path.write_text(json.dumps({**document, "version": "v0", "experiment": 1}))
    new = families_by_name(cli("export", "openmetrics").out)
    load = [s for s in new["perfinvest_run_value"].samples if s.labels["phase"] == "load"]
    assert load and {(s.labels["version"], s.labels["experiment"]) for s in load} == {("v0", "1")}
    only = families_by_name(cli("export", "openmetrics", INV_ID, "--version", "v0").out)
    phases = {s.labels["phase"] for s in only["perfinvest_run_value"].samples}
    assert phases == {"load"}  # v0's baselines: none; its load run: this one
    assert not [name for name, _ in _phase_samples(only)]  # the searches measured v1


def test_a_real_investigation_exports_its_searches_and_constrained_runs(
    repo: Path, cli: Any
) -> None:
    (repo / "level.py").write_text(LEVEL_BENCH)
    args = list(START_ARGS)
    args[args.index("--command") + 1] = f"{sys.executable} level.py"
    inv = str(cli(*args, "--no-checkpoint", "--json").json["investigation"])
    began = datetime.now(UTC) - timedelta(seconds=1)
    assert cli("baseline", "--runs", "2", *DURATION, "--no-checkpoint", "--json").code == 0
    search = ("--min", "1", "--max", "64", "--resolution", "8", "--fail-when", "p95_ms>40")
    for _ in range(2):  # the second search supersedes the first
        done = cli("breaking-point", *search, *DURATION, "--no-checkpoint", "--json")
        assert done.code == 0, done.out
    limits = ("--cpu", "1", "--backend", "fallback", "--runs", "1", *DURATION)
    for _ in range(2):  # the same limits again: the first record is superseded
        done = cli("constraints", *limits, "--no-checkpoint", "--json")
        assert done.code == 0, done.out
    families = families_by_name(cli("export", "openmetrics").out)
    state = json.loads((perf(repo) / "investigation.json").read_text())
    env = {s.labels["environment"] for s in families["perfinvest_run_value"].samples}
    for name, sample in _phase_samples(families):
        assert sample.labels["investigation"] == inv and sample.labels["version"] == "v1"
        assert {sample.labels["environment"]} == env, name  # the baseline's machine
        assert began.timestamp() <= float(sample.timestamp) <= datetime.now(UTC).timestamp()
    probes = families["perfinvest_breaking_point_probe"].samples
    current = [s for s in probes if s.labels["superseded"] == "false"]
    assert {s.labels["superseded"] for s in probes} == {"true", "false"}
    for number, probe in enumerate(state["breaking_point"]["probes"], 1):
        (sample,) = [
            s
            for s in current
            if s.labels["probe"] == str(number) and s.labels["metric"] == "p95_ms"
        ]
        assert sample.value == probe["metrics"]["p95_ms"] == 10 + probe["value"]
        assert sample.labels["run_id"] == probe["run_id"]
        # the probe's end: its start (in the run id) plus its duration
        stamp = probe["run_id"].rsplit("-", 2)[1]
        start = datetime.strptime(stamp, "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
        assert float(sample.timestamp) == pytest.approx(
            (start + timedelta(seconds=probe["duration_s"])).timestamp(), abs=1e-3
        )
    boundary = {
        (s.labels["superseded"], s.labels["bound"]): s.value
        for s in families["perfinvest_breaking_point_boundary"].samples
    }
    assert boundary[("false", "breaking_point")] == state["breaking_point"]["breaking_point"]
    assert boundary[("false", "last_passing")] < 31 <= boundary[("false", "breaking_point")]
    values = [
        s for s in families["perfinvest_constraint_value"].samples if s.labels["metric"] == "p95_ms"
    ]
    assert [(s.labels["constraint"], s.labels["superseded"]) for s in values] == [
        ("1", "true"),
        ("2", "false"),
    ]
    for sample, record in zip(values, state["constraints"], strict=True):
        assert sample.value == record["metrics"]["p95_ms"]
        stamp = record["runs"][-1].rsplit("-", 2)[1]
        start = datetime.strptime(stamp, "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
        assert float(sample.timestamp) == pytest.approx(start.timestamp(), abs=1e-3)
        assert sample.labels["approximate"] == "true" and sample.labels["backend"] == "fallback"
    assert cli("export", "csv", "-o", str(repo / "csv")).code == 0
    _, rows = _read_csv(repo / "csv" / "probes.csv")
    assert {r["run_id"] for r in rows} == {
        p["run_id"] for _, r in _searches(perf(repo), inv) for p in r["probes"]
    } - {None}
    _query_like_grafana(repo, cli, inv, phases=True)


@pytest.mark.slow
def test_a_load_run_during_an_open_experiment_records_it_and_is_exported_so(
    repo: Path, cli: Any
) -> None:
    from tests.cli.test_experiment import to_phase_8
    from tests.support.server import Behaviour, serve

    inv = to_phase_8(cli)
    assert cli("experiment", "start", "--change", "c", "--files", "app.py", "--json").code == 0
    with serve(Behaviour(routes={"/fast": (0.001, 200)})) as url:
        targets = repo / "targets.yaml"
        targets.write_text(f"base_url: {url}\nroutes:\n  - {{name: fast, path: /fast}}\n")
        run = cli(
            "load", "run", "--profile", "smoke", "--targets", str(targets), "--duration", "1",
            "--json",
        )  # fmt: skip
        assert run.code == 0, run.out
    written = json.loads((Path(run.json["data"]["output_dir"]) / "result.json").read_text())
    assert (written["version"], written["experiment"]) == ("v1", 1)
    families = families_by_name(cli("export", "openmetrics", inv).out)
    load = [s for s in families["perfinvest_run_value"].samples if s.labels["phase"] == "load"]
    assert load and {(s.labels["version"], s.labels["experiment"]) for s in load} == {("v1", "1")}
    assert {s.labels["side"] for s in load} == {""}  # not one of the experiment's own sides


def test_the_answer_names_the_investigations_real_phase_and_status(
    state: Path, cli: Any, tmp_path: Path
) -> None:
    """Issue 25: a complete investigation's export said in_progress with phase null."""
    inv = json.loads((state / "investigation.json").read_text())
    assert inv["status"] == "complete"
    last = inv["attempts"][-1]["phase"]
    for args in (
        ("export", "openmetrics", "--json"),
        ("export", "csv", "-o", str(tmp_path / "csv"), "--json"),
        ("export", "openmetrics", INV_ID, "--version", "v1", "--json"),
    ):
        answer = cli(*args).json
        assert answer["ok"], answer
        assert (answer["investigation"], answer["phase"], answer["status"]) == (
            INV_ID,
            last,
            "complete",
        ), args
        assert answer["baseline"] == inv["baseline"]["version"]
    across = cli("export", "openmetrics", "--version", "v1", "--json").json  # no one investigation
    assert across["ok"] and across["phase"] is None


def test_the_dashboard_defaults_to_the_active_investigations_metric(
    state: Path, cli: Any, tmp_path: Path
) -> None:
    answer = cli("export", "grafana", "--json")
    assert answer.code == 0, answer.out
    assert (answer.json["data"]["metric"], answer.json["data"]["unit"]) == ("p95_ms", "ms")
    board = answer.json["data"]["dashboard"]
    (metric,) = [v for v in board["templating"]["list"] if v["name"] == "metric"]
    assert metric["current"]["value"] == "p95_ms"
    chosen = cli("export", "grafana", "--metric", "rss_mb", "--json").json["data"]
    assert (chosen["metric"], chosen["unit"]) == ("rss_mb", None)  # its unit is not known
    bad = cli("export", "grafana", "--metric", 'p95"} or vector(1) #', "--json")
    assert bad.code == 2 and "is not a metric name" in bad.json["error"]["message"]
    assert not (tmp_path / "dash.json").exists()
