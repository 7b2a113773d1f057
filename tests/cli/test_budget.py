"""``perfinvest budget check`` on real timed runs: a 30 % slowdown breaches a 20 % budget,
a 5 % one does not; warn-only exits 0, --enforce exits 8; bad input is one clear line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

#: real runs with planted slowdowns judged against budgets: alone (scripts/test.sh)
pytestmark = [pytest.mark.slow, pytest.mark.serial]

BENCH = """\
import json, os, sys, time
factor = float(sys.argv[1])
end = time.monotonic() + float(os.environ["PERF_RUN_DURATION"])
samples = []
while time.monotonic() < end:
    t = time.perf_counter(); time.sleep(0.004 * factor); samples.append((time.perf_counter() - t) * 1000)
print("PERF_METRICS_START")
print(json.dumps({"latency_ms": {"samples": samples, "value": sum(samples) / len(samples),
                  "unit": "ms", "direction": "lower"}}))
print("PERF_METRICS_END")
"""

BUDGETS = """\
budgets:
  - metric: latency_ms
    unit: ms
    max_regression_pct: 20
    notes: SPEC-940's 20 % guardrail
  - metric: latency_ms
    max: 1000
"""


def _export(cli: Any, tmp: Path, name: str, factor: float) -> Path:
    bench = tmp / "bench.py"
    bench.write_text(BENCH)
    out = tmp / f"{name}.json"
    answer = cli(
        "run",
        "--mode",
        "duration",
        "--runs",
        "3",
        "--duration",
        "0.2",
        "--allow-short",
        "tests use short runs",
        "--export",
        str(out),
        "--json",
        "--",
        sys.executable,
        str(bench),
        str(factor),
    )
    assert answer.code == 0, answer.out
    return out


def test_budget_check_real_runs(cli: Any, repo: Path, tmp_path: Path) -> None:
    budgets = tmp_path / "budgets.yaml"
    budgets.write_text(BUDGETS)
    base = _export(cli, tmp_path, "base", 1.0)
    slow = _export(cli, tmp_path, "slow", 1.3)
    near = _export(cli, tmp_path, "near", 1.05)
    junit = tmp_path / "junit.xml"
    warn = cli(
        "budget",
        "check",
        str(slow),
        "--baseline",
        str(base),
        "--budgets",
        str(budgets),
        "--junit",
        str(junit),
        "--json",
    )
    assert warn.code == 0, warn.out
    data = warn.json["data"]
    assert data["breaches"] == 1
    (breach,) = [v for v in data["verdicts"] if v["status"] == "breach"]
    assert breach["limit"] == "max_regression_pct" and breach["change"] > 0.2
    assert "**BREACH**" in data["markdown"]
    assert 'failures="1"' in junit.read_text()
    enforced = cli(
        "budget",
        "check",
        str(slow),
        "--baseline",
        str(base),
        "--budgets",
        str(budgets),
        "--enforce",
        "--json",
    )
    assert enforced.code == 8, enforced.out
    ok = cli(
        "budget",
        "check",
        str(near),
        "--baseline",
        str(base),
        "--budgets",
        str(budgets),
        "--enforce",
        "--json",
    )
    assert ok.code == 0, ok.out
    assert ok.json["data"]["breaches"] == 0


def test_budget_bad_input(cli: Any, repo: Path, tmp_path: Path) -> None:
    base = _export(cli, tmp_path, "base", 1.0)
    missing = tmp_path / "missing.yaml"
    missing.write_text("budgets:\n  - metric: p95_ms\n    max: 10\n")
    answer = cli("budget", "check", str(base), "--budgets", str(missing), "--json")
    assert answer.code == 2 and "does not report it" in answer.json["error"]["message"]
    unit = tmp_path / "unit.yaml"
    unit.write_text("budgets:\n  - metric: latency_ms\n    unit: s\n    max: 10\n")
    answer = cli("budget", "check", str(base), "--budgets", str(unit), "--json")
    assert answer.code == 2 and "unit" in answer.json["error"]["message"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"kind": "nothing"}))
    answer = cli("budget", "check", str(bad), "--budgets", str(unit), "--json")
    assert answer.code == 2


def test_diff_report_dir_is_byte_identical(cli: Any, repo: Path, tmp_path: Path) -> None:
    base = _export(cli, tmp_path, "base", 1.0)
    slow = _export(cli, tmp_path, "slow", 1.3)
    one, two = tmp_path / "r1", tmp_path / "r2"
    for out in (one, two):
        answer = cli("diff", str(base), str(slow), "--report-dir", str(out), "--force", "--json")
        assert answer.code == 0, answer.out
    for name in ("diff.json", "diff.md"):
        assert (one / name).read_bytes() == (two / name).read_bytes()
    report = json.loads((one / "diff.json").read_text())
    assert report["metrics"][0]["metric"] == "latency_ms"
    assert report["metrics"][0]["verdict"] == "regressed"
    assert report["regressions"][0] == "latency_ms"
    assert (
        "1 regression(s)" in (one / "diff.md").read_text()
        or "regression(s)" in (one / "diff.md").read_text()
    )


def test_metrics_export_validates_and_bad_file_is_listed(
    cli: Any, repo: Path, tmp_path: Path
) -> None:
    from perfinvest.core.export.perfmetrics import SCHEMA

    committed = Path(__file__).parents[2] / "schemas/perf/PerfMetrics.v0.1.json"
    assert json.loads(committed.read_text()) == SCHEMA
    base = _export(cli, tmp_path, "base", 1.0)
    out = tmp_path / "pm.json"
    answer = cli("metrics", "export", str(base), "-o", str(out), "--json")
    assert answer.code == 0, answer.out
    doc = json.loads(out.read_text())
    assert doc["latency"]["metric"] == "latency_ms"
    assert doc["latency"]["p50"] <= doc["latency"]["p95"] <= doc["latency"]["p99"]
    assert cli("metrics", "validate", str(out), "--json").code == 0
    committed_doc = out.read_text()
    del doc["environment"]
    doc["metrics"][0]["value"] = "fast"
    out.write_text(json.dumps(doc))
    bad = cli("metrics", "validate", str(out), "--json")
    assert bad.code == 2
    problems = bad.json["data"]["problems"]
    assert len(problems) == 2
    assert any("environment" in p for p in problems)
    assert any(p.startswith("metrics/0/value:") for p in problems)
    # what the schema refuses beyond types: a date-time format, and NaN (Python's json reads it)
    doc = json.loads(committed_doc)
    doc["timestamp"] = "yesterday"
    out.write_text(
        json.dumps(doc).replace(f'"value": {doc["metrics"][0]["value"]!r}', '"value": NaN', 1)
    )
    refused = cli("metrics", "validate", str(out), "--json")
    assert refused.code == 2, refused.out
    assert refused.json["data"]["problems"] == [
        "metrics/0/value: NaN is not a finite number (JSON has no NaN or Infinity)",
        "timestamp: 'yesterday' is not an RFC 3339 date-time (e.g. 2024-05-01T12:00:00Z)",
    ]
    assert "Traceback" not in refused.out


def test_budget_missing_version_and_empty_history(cli: Any, repo: Path, tmp_path: Path) -> None:
    budgets = tmp_path / "budgets.yaml"
    budgets.write_text(BUDGETS)
    base = _export(cli, tmp_path, "base", 1.0)
    answer = cli("budget", "check", str(base), "--version", "nope", "--budgets", str(budgets))
    assert answer.code == 4, answer.out
    empty = cli("budget", "check", str(base), "--budgets", str(budgets), "--history", "5")
    assert empty.code == 4, empty.out
    assert "perfinvest baseline" in empty.out


def test_budget_rule_point_vs_ci_on_real_runs(cli: Any, repo: Path, tmp_path: Path) -> None:
    """Issue 21: which rule applies is said; `--budget-rule ci` is the conservative one."""
    budgets = tmp_path / "budgets.yaml"
    base = _export(cli, tmp_path, "base", 1.0)
    slow = _export(cli, tmp_path, "slow", 1.3)
    budgets.write_text("budgets:\n  - metric: latency_ms\n    max_regression_pct: 1\n")
    point = cli(
        "budget", "check", str(slow), "--baseline", str(base), "--budgets", str(budgets), "--json"
    )
    (v,) = point.json["data"]["verdicts"]
    assert v["rule"] == "point" and "rule: point estimate beyond the budget" in v["message"]
    assert v["ci_low"] is not None and v["ci_high"] is not None
    change, low = v["change"], v["ci_low"]
    assert low < change, v
    # a budget between the CI's lower end and the point estimate: point breaches, ci not
    between = (low + change) / 2 * 100
    budgets.write_text(f"budgets:\n  - metric: latency_ms\n    max_regression_pct: {between:.4f}\n")
    args = ("budget", "check", str(slow), "--baseline", str(base), "--budgets", str(budgets))
    as_point = cli(*args, "--enforce", "--json")
    as_ci = cli(*args, "--enforce", "--budget-rule", "ci", "--json")
    assert as_point.code == 8, as_point.out
    assert as_ci.code == 0, as_ci.out
    (v,) = as_ci.json["data"]["verdicts"]
    assert v["rule"] == "ci" and v["status"] == "ok"
    assert "not wholly beyond it" in v["message"] and "the whole CI beyond" in v["message"]
    assert "max_regression_pct (ci)" in as_ci.json["data"]["markdown"]
    bad = cli(*args, "--budget-rule", "mean", "--json")
    assert bad.code == 2
