"""Measuring through the CLI with real benchmark processes (short runs under the policy)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from tests.conftest import SHORT, START_ARGS, git

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def perf(repo: Path) -> Path:
    return repo / ".claude" / "perf"


def start_with(cli: Any, command: str, *extra: str) -> str:
    args = list(START_ARGS)
    args[args.index("--command") + 1] = command
    answer = cli(*args, *extra, "--json")
    assert answer.code == 0, answer.out
    return str(answer.json["investigation"])


def test_baseline_measures_real_runs_marked_non_compliant(repo: Path, cli: Any) -> None:
    inv_id = cli(*START_ARGS, "--json").json["investigation"]
    result = cli("baseline", "--runs", "2", *SHORT, "--json")
    assert result.code == 0, result.out
    answer = result.json
    assert answer["baseline"] == "v1" and answer["next"] == "breaking-point"
    doc = json.loads((perf(repo) / "baselines" / "v1.json").read_text())
    jsonschema.validate(doc, json.loads((SCHEMAS / "baseline.schema.json").read_text()))
    assert len(doc["runs"]) == 2
    for run in doc["runs"]:
        assert run["valid"] and not run["compliant"]
        assert "tests use short runs" in run["compliance_note"]
        assert run["duration_s"] >= 0.3 * 0.95
        assert {m["name"] for m in run["metrics"]} >= {"p95_ms", "requests"}
        assert run["environment"]["git_commit"] == git(repo, "rev-parse", "HEAD~1").strip()
    assert doc["summaries"]["p95_ms"]["runs"]["n"] == 2
    # issue 10: the summary reads in the metric's unit, never `12 ± 0` nor `1.2e+01`
    summary = answer["findings"][0]
    assert re.search(r"p95_ms 12\.\d+ ± [\d.]+ \(CV \d+\.\d% over 2 runs\)", summary), summary
    assert "e+" not in summary and "e-" not in summary
    log = (perf(repo) / "investigations" / f"{inv_id}.md").read_text()
    assert "**Non-compliant:**" in log
    stdout_artifacts = [a for r in doc["runs"] for a in r["artifacts"] if "stdout" in a["path"]]
    assert stdout_artifacts and all(len(a["sha256"]) == 64 for a in stdout_artifacts)
    assert "PERF_METRICS" in (perf(repo) / stdout_artifacts[0]["path"]).read_text()


def test_short_duration_without_policy_is_refused(repo: Path, cli: Any, monkeypatch: Any) -> None:
    args = [a for a in START_ARGS if a not in ("--allow-short-runs", "tests use short runs")]
    cli(*args, "--json")
    result = cli("baseline", *SHORT, "--json")
    assert result.code == 4 and "60 s minimum" in result.json["error"]["message"]
    monkeypatch.setenv("PERF_ALLOW_SHORT", "1")
    allowed = cli("baseline", "--runs", "2", *SHORT, "--json")
    assert allowed.code == 0, allowed.out
    doc = json.loads((perf(repo) / "baselines" / "v1.json").read_text())
    assert all("PERF_ALLOW_SHORT=1" in r["compliance_note"] for r in doc["runs"])


def test_benchmark_receives_the_contract_environment(repo: Path, cli: Any) -> None:
    script = repo / "envdump.py"
    script.write_text(
        "import json, os, time\n"
        "time.sleep(float(os.environ['PERF_RUN_DURATION']))\n"
        "keys = [k for k in os.environ if k.startswith('PERF_')]\n"
        "json.dump({k: os.environ[k] for k in keys}, open(os.path.join(os.environ['PERF_ARTIFACT_DIR'], 'env.json'), 'w'))\n"
        "print('PERF_METRICS p95_ms=1')\n"
    )
    inv_id = start_with(cli, "python3 envdump.py")
    assert cli("baseline", "--runs", "2", *SHORT, "--json").code == 0
    dumps = sorted((perf(repo) / "artifacts" / inv_id).glob("*/env.json"))
    assert len(dumps) == 2
    env = json.loads(dumps[0].read_text())
    assert env["PERF_RUN_DURATION"] == "0.3" and env["PERF_RUN_MODE"] == "duration"
    assert env["PERF_INVESTIGATION_ID"] == inv_id
    assert Path(env["PERF_ARTIFACT_DIR"]) == dumps[0].parent


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("no-such-benchmark-binary --x", "no-such-benchmark-binary"),
        ("python3 -c 'import time; time.sleep(0.3); raise SystemExit(3)'", "exit code 3"),
        ("python3 -c 'import time; time.sleep(0.3); print(\"hello\")'", "no metrics"),
        (
            "python3 -c 'import time; time.sleep(0.3); print(\"PERF_METRICS_START\")'",
            "PERF_METRICS_START",
        ),
        (
            "python3 -c 'import time; time.sleep(0.3); print(\"PERF_METRICS p95_ms=fast\")'",
            "expected a number",
        ),
        ("python3 -c 'print(\"PERF_METRICS p95_ms=1\")'", "before"),
    ],
)
def test_broken_benchmarks_fail_with_one_line(
    repo: Path, cli: Any, command: str, expected: str
) -> None:
    start_with(cli, command)
    result = cli("baseline", "--runs", "2", *SHORT, "--json")
    assert result.code == 5, result.out
    message = result.json["error"]["message"]
    assert expected in message and "\n" not in message
    assert not (perf(repo) / "baselines").exists()


@pytest.mark.serial  # a planted slowdown in real runs: judged alone
def test_compare_versions_detects_a_real_regression(repo: Path, cli: Any) -> None:
    start_with(cli, "python3 bench.py")
    assert cli("baseline", "--runs", "3", *SHORT, "--json").code == 0
    slow = (repo / "bench.py").read_text().replace("latency = 12.0", "latency = 15.0")
    (repo / "bench.py").write_text(slow)
    git(repo, "commit", "-qam", "make it slower")
    args = list(START_ARGS)
    args[args.index("--command") + 1] = "python3 bench.py"
    args[args.index("--version") + 1] = "v2"
    cli(*args, "--json")
    assert cli("baseline", "--runs", "3", *SHORT, "--json").code == 0
    result = cli("compare", "v1", "v2", "--json")
    assert result.code == 0
    rows = {m["key"]: m for m in result.json["data"]["comparison"]["metrics"]}
    assert rows["p95_ms"]["verdict"] == "regressed"
    assert rows["p95_ms"]["relative_change"] == pytest.approx(0.25, abs=0.01)
    assert result.json["data"]["comparison"]["metrics"][0]["key"] == "p95_ms"  # primary first
    assert "| p95_ms |" in result.json["data"]["markdown"]
    assert any("non-compliant runs in v1" in f for f in result.json["findings"])
    failing = cli("compare", "v1", "v2", "--fail-on-regression", "--json")
    assert failing.code == 8 and "p95_ms" in failing.json["error"]["message"]
    assert cli(
        "compare", "v1", "v2", "--fail-on-regression", "--metric", "requests", "--json"
    ).code in (0, 8)
    missing = cli("compare", "v1", "v9", "--json")
    assert missing.code == 4 and "v9" in missing.json["error"]["message"]
    assert cli("compare", "v1", "../v2", "--json").code == 2


def test_compare_refuses_different_environments_unless_forced(repo: Path, cli: Any) -> None:
    start_with(cli, "python3 bench.py")
    assert cli("baseline", "--runs", "2", *SHORT, "--json").code == 0
    args = list(START_ARGS)
    args[args.index("--command") + 1] = "python3 bench.py --other-config"
    args[args.index("--version") + 1] = "v2"
    cli(*args, "--json")
    assert cli("baseline", "--runs", "2", *SHORT, "--json").code == 0
    refused = cli("compare", "v1", "v2", "--json")
    assert refused.code == 4 and "config_hash" in refused.json["error"]["message"]
    forced = cli("compare", "v1", "v2", "--force", "--json")
    assert forced.code == 0
    state = json.loads((perf(repo) / "investigation.json").read_text())
    assert any(e["kind"] == "forced comparison" for e in state["events"])
    log = (perf(repo) / "investigations" / f"{state['id']}.md").read_text()
    assert "### Note: forced comparison" in log


def test_consolidation_merges_the_versions_runs(repo: Path, cli: Any) -> None:
    cli(*START_ARGS, "--json")
    assert cli("baseline", "--runs", "2", *SHORT, "--json").code == 0
    assert cli("baseline", "--runs", "2", *SHORT, "--json").code == 0
    for phase in (
        "breaking-point",
        "constraints",
        "hypotheses",
        "code-paths",
        "profile",
        "experiment",
        "decide",
    ):
        assert cli(phase, "--skip-reason", "covered elsewhere", "--json").code == 0
    done = cli("consolidate", "--json").json
    assert done["status"] == "complete" and done["data"]["merged_runs"] == 4
    doc = json.loads((perf(repo) / "baselines" / "v1.json").read_text())
    assert (
        doc["consolidated"]
        and len(doc["runs"]) == 4
        and doc["summaries"]["p95_ms"]["runs"]["n"] == 4
    )
    # the earlier baseline (archived by the second) and the replaced one (supersedes)
    assert len(doc["merged_from"]) == 1 and doc["supersedes"] not in doc["merged_from"]
    for source in [*doc["merged_from"], doc["supersedes"]]:
        assert len(json.loads((perf(repo) / source).read_text())["runs"]) == 2
    assert len(list((perf(repo) / "baselines" / "archive").glob("v1.*.json"))) == 2


def test_adhoc_run_repeat_mode_and_export(repo: Path, cli: Any, tmp_path: Path) -> None:
    refused = cli("run", "--duration", "0.5", "--json", "--", "true")
    assert refused.code == 4 and "60 s minimum" in refused.json["error"]["message"]
    export = tmp_path / "a.json"
    result = cli(
        "run",
        "--duration",
        "0.5",
        "--allow-short",
        "quick look",
        "--export",
        str(export),
        "--json",
        "--",
        "true",
    )
    assert result.code == 0, result.out
    summaries = result.json["data"]["summaries"]
    assert summaries["wall_ms"]["samples"]["n"] >= 3 and summaries["wall_ms"]["unit"] == "ms"
    assert result.json["data"]["compliant"] is False
    runs = json.loads(export.read_text())
    run_schema = json.loads((SCHEMAS / "run.schema.json").read_text())
    for run in runs:
        jsonschema.validate(run, run_schema)
    second = tmp_path / "b.json"
    assert (
        cli(
            "run",
            "--duration",
            "0.5",
            "--allow-short",
            "x",
            "--export",
            str(second),
            "--json",
            "--",
            "true",
        ).code
        == 0
    )
    diff = cli("diff", str(export), str(second), "--json")
    assert diff.code == 0, diff.out
    assert (
        diff.json["data"]["comparison"]["metrics"][0]["key"] == "iterations"
        or diff.json["data"]["comparison"]["metrics"]
    )
    assert not (repo / ".claude").exists()  # ad-hoc runs write no investigation state


def test_adhoc_run_of_a_missing_command(repo: Path, cli: Any) -> None:
    result = cli(
        "run", "--duration", "0.3", "--allow-short", "x", "--json", "--", "definitely-not-a-command"
    )
    assert result.code == 5 and "definitely-not-a-command" in result.json["error"]["message"]


@pytest.mark.parametrize("metric", ["p95_ms", "checkout:p95_ms"])
def test_primary_metric_inside_a_scenario(repo: Path, cli: Any, metric: str) -> None:
    (repo / "scenario.py").write_text(
        "import os, time\n"
        "time.sleep(float(os.environ['PERF_RUN_DURATION']))\n"
        "print('PERF_METRICS p95_ms=12.5 scenario=checkout')\n"
    )
    args = list(START_ARGS)
    args[args.index("--command") + 1] = "python3 scenario.py"
    args[args.index("--metric") + 1] = metric
    cli(*args, "--json")
    result = cli("baseline", "--runs", "2", *SHORT, "--json")
    assert result.code == 0, result.out
    assert "p95_ms 12.5" in result.json["findings"][0]
    assert result.json["data"]["summaries"]["checkout:p95_ms"]["runs"]["mean"] == 12.5
