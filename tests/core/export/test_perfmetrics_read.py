"""PerfMetrics files read back as runs: diff, budget check and export take them."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from perfinvest.app.measuring.compare import load_runs
from perfinvest.core.errors import PerfError
from perfinvest.core.export.perfmetrics import to_perfmetrics


def _real_export(cli: Any, tmp_path: Path) -> Path:
    export = tmp_path / "true.json"
    answer = cli(
        "run", "--mode", "repeat", "--duration", "0.3", "--runs", "2",
        "--allow-short", "tests use short runs", "--export", str(export), "--json",
        "--", sys.executable, "-c", "pass",
    )  # fmt: skip
    assert answer.code == 0, answer.out
    return export


def test_round_trip_of_a_real_run(cli: Any, repo: Path, tmp_path: Path) -> None:
    export = _real_export(cli, tmp_path)
    pm = tmp_path / "true.perfmetrics.json"
    assert cli("metrics", "export", str(export), "-o", str(pm), "--json").code == 0
    runs, _ = load_runs(pm)
    assert len(runs) == 1
    original, _ = load_runs(export)
    doc = json.loads(pm.read_text())
    again = to_perfmetrics(runs, name=doc["scenario"]["name"])
    for before, after in zip(doc["metrics"], again["metrics"], strict=True):
        assert after["name"] == before["name"]
        assert after["value"] == pytest.approx(before["value"])
        assert after.get("samples") == before.get("samples")
        assert after.get("p95") == before.get("p95")
    assert runs[0].environment.host == original[0].environment.host
    # diff takes two PerfMetrics files; against a full run file it refuses, because
    # PerfMetrics keeps only machine, commit and config hash of the environment
    twice = tmp_path / "twice.perfmetrics.json"
    assert cli("metrics", "export", str(export), "-o", str(twice), "--json").code == 0
    diff = cli("diff", str(pm), str(twice), "--json")
    assert diff.code == 0, diff.out
    assert {m["verdict"] for m in diff.json["data"]["comparison"]["metrics"]} <= {
        "unchanged",
        "inconclusive",
    }
    mixed = cli("diff", str(export), str(pm), "--json")
    assert mixed.code == 4 and "cpu_model" in mixed.json["error"]["message"]


def test_invalid_perfmetrics_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema_version": "0.1", "metrics": []}))
    with pytest.raises(PerfError) as caught:
        load_runs(bad)
    assert caught.value.code == 2
    assert "not valid PerfMetrics 0.1" in caught.value.message
    assert "\n" not in caught.value.message
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({"schema_version": "9.0", "metrics": []}))
    with pytest.raises(PerfError, match=r"schema_version '9\.0' is not supported"):
        load_runs(newer)
