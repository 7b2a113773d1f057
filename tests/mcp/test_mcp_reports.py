"""The `report` and `export` tools, and `diff`, `budget_check` and `metrics_export` against the
baselines history, through the official MCP stdio client.

Real parts: a real ``python -m perfinvest mcp`` server over a real investigation whose three
baselines are real timed runs of a real benchmark; the exposition is read back by
prometheus_client's own parsers, the report is the HTML file on disk. The tools answer what
the CLI's ``--json`` prints (compared with the in-process CLI on the same state).
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_om
from prometheus_client.parser import text_string_to_metric_families as parse_prom
from tests.conftest import SHORT, START_ARGS
from tests.mcp.test_mcp_guardrails import calls, same_answer
from tests.mcp.test_mcp_server import structured

from perfinvest.core.export.perfmetrics import problems

BASELINES = 3


@pytest.fixture
def measured(repo: Path, cli: Any) -> str:
    """An investigation with a history of three real baselines and a `run --export` file."""
    started = cli(*START_ARGS, "--no-checkpoint", "--json")
    assert started.code == 0, started.out
    for _ in range(BASELINES):  # each new baseline archives the last: a history of three
        done = cli("baseline", "--runs", "2", *SHORT, "--no-checkpoint", "--json")
        assert done.code == 0, done.out
    now = cli(
        "run", "--mode", "duration", *SHORT, "--allow-short", "test", "--export", "now.json",
        "--json", "--", sys.executable, "bench.py",
    )  # fmt: skip
    assert now.code == 0, now.out
    investigation: str = started.json["investigation"]
    return investigation


def test_report_and_export_over_a_real_investigation(repo: Path, measured: str) -> None:
    requests: list[tuple[str, dict[str, Any]]] = [
        ("report", {}),
        ("report", {"id": measured[:13], "output": "mine.html"}),
        ("report", {"id": "perf-20200101-000000-deadbeef"}),
        ("export", {"format": "openmetrics"}),
        ("export", {"format": "openmetrics", "text_format": "prometheus", "output": "m.prom"}),
        ("export", {"format": "csv", "output": "tables"}),
        ("export", {"format": "grafana", "title": "checkout"}),
        ("export", {"format": "openmetrics", "version": "v9"}),
        ("export", {"format": "grafana", "version": "v1"}),
    ]
    answers = [structured(r) for r in anyio.run(lambda: calls(repo, *requests))]
    report, chosen, unknown, om, prom, tables, board, nothing, misused = answers

    # the report: the HTML file the answer names, holding every section it lists
    assert report["ok"] is True and report["exit_code"] == 0, report
    assert report["investigation"] == measured
    path = Path(report["data"]["report"])
    assert path == repo / ".claude" / "perf" / "reports" / f"{measured}.html"
    html = path.read_text(encoding="utf-8")
    assert len(html.encode("utf-8")) == report["data"]["bytes"]
    assert report["data"]["sections"], report["data"]
    for key in report["data"]["sections"]:
        assert f'data-section="{key}"' in html, key
    assert html.count("<section ") == len(report["data"]["sections"])
    assert chosen["ok"] is True and (repo / "mine.html").stat().st_size > 100_000
    assert unknown["exit_code"] == 4 and unknown["ok"] is False
    assert "unknown investigation perf-20200101-000000-deadbeef" in unknown["error"]["message"]

    # openmetrics: the exposition in the answer parses, family for family and sample for sample
    assert om["ok"] is True and om["investigation"] == measured, om
    families = list(parse_om(om["data"]["exposition"]))  # raises on what the parser refuses
    assert [f.name for f in families] == om["data"]["families"]
    assert sum(len(f.samples) for f in families) == om["data"]["samples"]
    runs = {
        s.labels["run_id"] for f in families if f.name == "perfinvest_run_value" for s in f.samples
    }
    assert len(runs) == om["data"]["runs"] == 2 * BASELINES  # superseded baselines kept
    # the Prometheus text format, written to the file asked for (nothing in the answer)
    assert prom["data"]["output"] == "m.prom" and "exposition" not in prom["data"]
    classic = list(parse_prom((repo / "m.prom").read_text()))
    assert sum(len(f.samples) for f in classic) >= om["data"]["samples"]

    # csv: the tables in the folder asked for, one row per run and metric in runs.csv
    assert tables["ok"] is True, tables
    assert Path(tables["data"]["directory"]) == Path("tables")
    with (repo / "tables" / "runs.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len({row["run_id"] for row in rows}) == tables["data"]["runs"] == 2 * BASELINES
    assert {row["metric"] for row in rows} >= {"p95_ms", "requests"}
    assert all((repo / p).is_file() for p in tables["data"]["files"])

    assert board["ok"] is True and board["data"]["dashboard"]["title"] == "checkout"

    # bad input: what the CLI answers, with its exit codes
    assert nothing["exit_code"] == 4 and nothing["error"]["kind"] == "refused", nothing
    assert "v9" in nothing["error"]["message"]
    assert misused["exit_code"] == 2 and misused["error"]["kind"] == "usage"
    assert "--version" in misused["error"]["message"]  # grafana takes no version


def test_diff_and_budget_check_against_the_history(repo: Path, measured: str, cli: Any) -> None:
    (repo / "budgets.yaml").write_text("budgets:\n  - metric: p95_ms\n    max: 1000\n")
    budget = {"current": "now.json", "budgets": "budgets.yaml", "history": BASELINES}
    requests: list[tuple[str, dict[str, Any]]] = [
        ("diff", {"current_file": "now.json", "history": BASELINES}),
        ("diff", {"current_file": "now.json", "history": BASELINES, "history_model": "iqr"}),
        ("budget_check", {**budget, "history_model": "iqr"}),
        ("diff", {"baseline_file": "now.json", "current_file": "now.json", "history": 3}),
        ("diff", {"current_file": "now.json", "history": 1}),
        ("diff", {"current_file": "now.json"}),
        ("metrics_export", {"result": "now.json", "history": BASELINES, "history_model": "iqr"}),
        ("metrics_export", {"version": "v1", "output": "v1.perf.json"}),
        ("metrics_export", {"history": 1}),
    ]
    replies = anyio.run(lambda: calls(repo, *requests))
    t_model, iqr, budgeted, two_files, too_short, alone, window, one, bad_window = map(
        structured, replies
    )
    n = str(BASELINES)

    # the t model over three baselines: a threshold per metric, the CLI's answer exactly
    assert t_model["exit_code"] == 0, t_model
    assert t_model["command_line"][:2] == ["perfinvest", "diff"]
    same_answer(t_model, cli("diff", "now.json", "--history", n, "--json").json)
    p95 = next(f for f in t_model["findings"] if f.startswith("p95_ms:"))
    assert "t over 3 points" in p95, p95
    # the IQR model reached the CLI: three points are too few for it, every metric says so
    same_answer(iqr, cli("diff", "now.json", "--history", n, "--history-model", "iqr", "--json").json)  # fmt: skip
    assert iqr["findings"] and all("iqr model needs at least 4" in f for f in iqr["findings"])
    cli_budget = cli(
        "budget", "check", "now.json", "--budgets", "budgets.yaml", "--history", n,
        "--history-model", "iqr", "--json",
    )  # fmt: skip
    same_answer(budgeted, cli_budget.json)
    assert budgeted["exit_code"] == 0 and "--history-model=iqr" in budgeted["command_line"]
    (judged,) = [v for v in budgeted["data"]["verdicts"] if v["limit"] == "history"]
    assert judged["status"] == "skipped" and "iqr model needs at least 4" in judged["message"]

    # bad input: the CLI's usage errors, exit 2, one line that says what to give
    assert two_files["exit_code"] == 2 and "give one file" in two_files["error"]["message"]
    assert too_short["exit_code"] == 2 and "at least 2" in too_short["error"]["message"]
    assert alone["exit_code"] == 2
    assert "give two files A B, or one file B with --history N" in alone["error"]["message"]

    # metrics export: the window as a list of PerfMetrics documents, the file last
    cli_window = cli(
        "metrics", "export", "now.json", "--history", n, "--history-model", "iqr", "--json"
    )
    same_answer(window, cli_window.json)
    documents = window["data"]["perfmetrics"]
    assert len(documents) == BASELINES + 1 and problems(documents) == []
    checked = window["data"]["markdown"].strip().splitlines()[-1]  # t would judge it: within
    assert "(checked)" in checked and checked.endswith("| insufficient history |"), checked
    assert one["data"]["output"] == "v1.perf.json" and "perfmetrics" not in one["data"]
    assert problems(json.loads((repo / "v1.perf.json").read_text())) == []
    assert bad_window["exit_code"] == 2 and "at least 2" in bad_window["error"]["message"]
