"""`budget check`, `diff` and `metrics export` against the last N results of a real
baselines history: every baseline a real timed run of a benchmark whose speed the test sets.

The history's baselines are measured at planted speeds 0.95-1.06 (a noisy machine's
spread): a 30 % slowdown is past the t threshold the window gives, a 5 % one within it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from tests.cli.test_history import export, start
from tests.conftest import SHORT

#: Sleeps 20 ms x factor per sample (a busy host's wake-up delay is small next to it), reports their median; factor and unit from argv, else
#: from files in the repo.
BENCH = """\
import json, os, sys, time
from pathlib import Path
args = sys.argv[1:]
factor = float(args[0]) if args else float(Path("factor.txt").read_text())
unit = args[1] if len(args) > 1 else (Path("unit.txt").read_text().strip()
                                      if Path("unit.txt").exists() else "ms")
scale = 1000.0 if unit == "ms" else 1.0
end = time.monotonic() + float(os.environ["PERF_RUN_DURATION"])
samples = []
while time.monotonic() < end:
    t = time.perf_counter(); time.sleep(0.02 * factor)
    samples.append((time.perf_counter() - t) * scale)
print("PERF_METRICS_START")
median = sorted(samples)[len(samples) // 2]  # robust to a scheduler hiccup on a busy host
print(json.dumps({"p50_ms": {"samples": samples, "value": median, "unit": unit,
                  "direction": "lower"}}))
print("PERF_METRICS_END")
"""

#: The history: a noisy machine's spread (s = 4.4 %: the t limit of 5 points is ~ +14 %).
PLANTED = (1.00, 1.06, 0.95, 1.03, 0.97)
BUDGETS = "budgets:\n  - metric: p50_ms\n    unit: ms\n    max: 1000\n"


def _start(cli: Any, repo: Path) -> None:
    (repo / "fbench.py").write_text(BENCH)
    start(cli, f"{sys.executable} fbench.py", "p50_ms")


def _baseline(cli: Any, repo: Path, factor: float, unit: str = "ms") -> None:
    (repo / "factor.txt").write_text(str(factor))
    (repo / "unit.txt").write_text(unit)
    answer = cli("baseline", "--runs", "2", *SHORT, "--no-checkpoint", "--json")
    assert answer.code == 0, answer.out


def _export(cli: Any, repo: Path, name: str, factor: float, unit: str = "ms") -> Path:
    command = (sys.executable, "fbench.py", str(factor), unit)
    return export(cli, repo / f"{name}.json", *command)


def _windowed(current: Path, n: str) -> list[tuple[str, ...]]:
    """The three gates of a result against the last ``n`` results (budgets: perf/)."""
    return [
        ("diff", str(current), "--history", n),
        ("metrics", "export", str(current), "--history", n),
        ("budget", "check", str(current), "--history", n),
    ]


def _all_fail(cli: Any, cases: list[tuple[str, ...]], code: int, text: str) -> None:
    """Each command exits ``code`` with one error line that says ``text``."""
    for args in cases:
        answer = cli(*args, "--json")
        assert answer.code == code, (args, answer.out)
        assert text in answer.json["error"]["message"], (args, answer.out)


@pytest.mark.slow
@pytest.mark.serial  # a planted slowdown against a real history: judged alone
def test_gates_against_a_real_history(cli: Any, repo: Path, tmp_path: Path) -> None:
    _start(cli, repo)
    for factor in PLANTED:
        _baseline(cli, repo, factor)
    slow = _export(cli, repo, "slow", 1.30)
    near = _export(cli, repo, "near", 1.05)
    budgets = tmp_path / "budgets.yaml"
    budgets.write_text(BUDGETS)
    n = str(len(PLANTED))

    # budget check --history N: warn-only reports the breach, --enforce exits 8
    check = ("budget", "check", "--budgets", str(budgets), "--history", n)
    warn = cli(*check[:2], str(slow), *check[2:], "--json")
    assert warn.code == 0, warn.out
    (history,) = [v for v in warn.json["data"]["verdicts"] if v["limit"] == "history"]
    assert history["status"] == "breach", warn.json["data"]["markdown"]
    assert "above the upper limit" in history["message"]
    assert cli(*check[:2], str(slow), *check[2:], "--enforce", "--json").code == 8
    ok = cli(*check[:2], str(near), *check[2:], "--enforce", "--json")
    assert ok.code == 0, ok.out
    (within,) = [v for v in ok.json["data"]["verdicts"] if v["limit"] == "history"]
    assert within["status"] == "ok", within
    text = cli(*check[:2], str(near), *check[2:])
    assert "| version | measured | p50_ms mean |" in text.out
    assert "near.json (checked)" in text.out and text.out.count("(archived)") == 4

    # diff --history N B: the same verdicts, the report byte-identical across two runs
    one, two = tmp_path / "d1", tmp_path / "d2"
    for out in (one, two):  # every metric (the runs' CPU and RSS too), so no verdict asserted
        answer = cli("diff", str(slow), "--history", n, "--report-dir", str(out), "--json")
        assert answer.code == 0, answer.out
    for name in ("diff.json", "diff.md"):
        assert (one / name).read_bytes() == (two / name).read_bytes()
    report = json.loads((one / "diff.json").read_text())
    assert report["regressions"][0] == "p50_ms"  # sorted by name
    assert report["metrics"][0]["verdict"] == "regressed"  # regressions first
    assert {r["metric"] for r in report["metrics"]} >= {"p50_ms", "resource_peak_rss_bytes"}
    gated = ("--metric", "p50_ms")
    answer = cli("diff", str(slow), "--history", n, *gated, "--report-dir", str(one), "--json")
    report = json.loads((one / "diff.json").read_text())
    (row,) = report["metrics"]
    assert row["metric"] == "p50_ms" and row["unit"] == "ms"
    assert row["verdict"] == "regressed" and len(row["window"]) == len(PLANTED)
    assert row["threshold"]["model"] == "t" and row["current"] > row["threshold"]["upper"]
    assert row["change"] > 0.2
    assert "| version | measured | p50_ms mean |" in (one / "diff.md").read_text()
    gate = cli("diff", str(slow), "--history", n, *gated, "--fail-on-regression", "--json")
    assert gate.code == 8 and gate.json["error"]["kind"] == "regression"
    calm = cli("diff", str(near), "--history", n, *gated, "--fail-on-regression", "--json")
    assert calm.code == 0, calm.out
    assert [r["verdict"] for r in calm.json["data"]["rows"]] == ["unchanged"]
    # the IQR model (Tukey's fences, robust to one wild result) gives the same answers here
    iqr = ("--history", n, *gated, "--history-model", "iqr", "--json")
    robust = [cli("diff", str(f), *iqr).json["data"]["rows"][0] for f in (slow, near)]
    assert [r["verdict"] for r in robust] == ["regressed", "unchanged"]
    assert robust[0]["threshold"]["model"] == "iqr"
    fenced = cli(*check[:2], str(slow), *check[2:], "--history-model", "iqr", "--json")
    assert "(iqr over 5 points)" in " ".join(fenced.json["findings"])

    # metrics export --history N: the window (and the result, last) as v0.1 documents
    listing = tmp_path / "history.json"
    export = cli("metrics", "export", str(near), "--history", n, "-o", str(listing), "--json")
    assert export.code == 0, export.out
    docs = json.loads(listing.read_text())
    assert len(docs) == len(PLANTED) + 1
    assert [d["scenario"]["name"] for d in docs] == ["v1"] * len(PLANTED) + ["near"]
    assert [d["timestamp"] for d in docs] == sorted(d["timestamp"] for d in docs)
    means = [r["mean"] for r in cli("history", "--json").json["data"]["rows"]]
    assert [d["metrics"][0]["value"] for d in docs[:-1]] == pytest.approx(means)
    assert cli("metrics", "validate", str(listing), "--json").code == 0
    published = Path(__file__).parents[2] / "schemas/perf/PerfMetricsList.v0.1.json"
    jsonschema.validate(docs, json.loads(published.read_text()))  # the list form's own schema
    shown = cli("metrics", "export", "--history", "3")
    assert shown.code == 0 and shown.out.count("(archived)") == 2
    own = cli("metrics", "export", "--version", "v1", "--history", n, "--json").json["data"]
    assert len(own["perfmetrics"]) == len(PLANTED)  # v1's current baseline last, once
    assert "v1 (checked)" in own["markdown"] and own["markdown"].count("(archived)") == 4
    broken = json.loads(listing.read_text())
    del broken[1]["environment"]
    listing.write_text(json.dumps(broken))
    bad = cli("metrics", "validate", str(listing), "--json")
    assert bad.code == 2 and bad.json["data"]["problems"][0].startswith("1/")

    # a result in another unit than its window cannot be judged by it
    seconds = _export(cli, repo, "seconds", 1.0, "s")
    other = cli("diff", str(seconds), "--history", n, "--json")
    assert other.code == 2 and "in s, its history window in ms" in other.json["error"]["message"]


def test_empty_history_and_a_short_window_are_clear_errors(cli: Any, repo: Path) -> None:
    _start(cli, repo)
    (repo / "perf").mkdir()
    (repo / "perf/budgets.yaml").write_text(BUDGETS)
    current = _export(cli, repo, "now", 1.0)
    empty = [*_windowed(current, "3"), ("metrics", "export", "--history", "3")]
    _all_fail(cli, empty, 4, "history is empty")
    _all_fail(cli, _windowed(current, "1"), 2, "at least 2")
    both = cli("diff", str(current), str(current), "--history", "3", "--json")
    assert both.code == 2 and "one file" in both.json["error"]["message"]
    alone = cli("diff", str(current), "--json")
    assert alone.code == 2 and "--history" in alone.json["error"]["message"]


@pytest.mark.slow
def test_a_window_that_mixes_units_is_refused(cli: Any, repo: Path) -> None:
    _start(cli, repo)
    _baseline(cli, repo, 1.0, "ms")
    _baseline(cli, repo, 1.0, "s")  # the benchmark changed its unit between two results
    (repo / "perf").mkdir()
    (repo / "perf/budgets.yaml").write_text(BUDGETS)
    current = _export(cli, repo, "now", 1.0)
    mixed = [*_windowed(current, "2"), ("history", "check", str(current), "--window", "2")]
    _all_fail(cli, mixed, 2, "mixes units (ms, s)")
    answer = cli("diff", str(current), "--history", "2", "--json")
    assert "archive/" in answer.json["error"]["message"]  # names the files and their units
    # a window of the last result only is one unit again
    short = cli("history", "check", str(current), "--window", "1", "--json")
    assert short.code == 2 and "in ms, its history window in s" in short.json["error"]["message"]
