"""`perfinvest demo`, the README's main job, end to end on this machine (real everything)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from tests.app.report.test_report_browser import assert_report_renders
from tests.support.browser import chromium_missing


@pytest.mark.slow
@pytest.mark.xdist_group("installed_venv")  # one worker builds the session's wheel venv
def test_demo_runs_all_ten_phases_and_finds_the_planted_slowdown(
    installed_venv: Path, tmp_path: Path
) -> None:
    """From the wheel installed in a fresh virtualenv (issue 24: the package runs its own
    demo), which is also the README's main job: one demo run serves both claims."""
    env = {k: v for k, v in os.environ.items() if k not in ("AI_STATE_DIR", "PYTHONPATH")}
    done = subprocess.run(
        [str(installed_venv / "perfinvest"), "demo", "--keep", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["ok"] is True and answer["command"] == "demo"
    assert answer["ok"] and answer["status"] == "complete"
    assert "short runs" in done.stderr  # the short-run policy is stated on screen
    steps = {step["title"]: step for step in answer["data"]["steps"]}
    assert all(step["ok"] for title, step in steps.items() if title != "decision: recommendation")
    repo = Path(answer["data"]["repository"])
    state = json.loads((repo / ".claude" / "perf" / "investigation.json").read_text())
    assert state["status"] == "complete"
    planted = subprocess.run(
        ["git", "-C", str(repo), "log", "--format=%H", "-1", "--", "textstats.py"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert planted[:10] in state["hypotheses"][0]["statement"]
    gather = steps["hypotheses: git history"]
    assert gather["argv"] == ["perfinvest", "hypotheses", "gather"]  # no --since (issue 10)
    assert state["history"]["since"] == "v0.9"
    assert [c["subject"] for c in state["history"]["commits"]] == [
        "Document the benchmark",
        "Make unique_words easier to read",
    ]
    hotspots = state["profiling"][-1]["hotspots"]
    assert any(h["function"].endswith("unique_words") for h in hotspots[:3])
    # the profile names the hot line, the list scan `if word not in seen:` (textstats.py:8)
    assert any("hottest line textstats.py:8" in f for f in answer["findings"]), answer["findings"]
    assert "list scan at textstats.py:8" in state["experiments"][-1]["change"]
    experiment = state["experiments"][-1]
    assert experiment["verdict"] == "improved" and experiment["restore_verified"] is True
    assert (repo / "textstats.py").read_text().count("seen.append") == 1  # tree restored
    log = Path(answer["data"]["log"]).read_text()
    for phase in ("setup", "baseline", "breaking-point", "constraints", "hypotheses",
                  "code-paths", "profiling", "optimization", "decision", "consolidation"):  # fmt: skip
        assert f": {phase} (attempt" in log, phase
    assert len(answer["data"]["commands"]) == 3
    # issue 14: the demo's report, opened in real Chromium, every section and plot drawn
    report = Path(answer["data"]["report"])
    assert report == repo / ".claude" / "perf" / "reports" / f"{answer['investigation']}.html"
    # issue 25: the summary first, quoting the experiment's change and its 95 % CI
    page = report.read_text(encoding="utf-8")
    ids = re.findall(r'<section id="([^"]+)"', page)
    assert ids[0] == "summary" and len(ids) > 10, ids
    summary = page[page.index('<section id="summary"') : page.index(f'<section id="{ids[1]}"')]
    change = f"{experiment['relative_change']:+.1%} (95 % CI {experiment['ci_low']:+.1%} .. "
    assert change + f"{experiment['ci_high']:+.1%})" in summary, summary
    if chromium_missing() is None:
        dom = assert_report_renders(report, tmp_path / "demo-report.png")
        assert {p["section"] for p in dom["plots"]} >= {
            "baseline", "history", "breaking-point", "constraints", "profiling", "experiments"
        }  # fmt: skip
        assert dom["nonCompliant"] > 0  # the demo's short runs are marked
        # issue 25: the py-spy profile is an interactive icicle, its SVG a download
        assert "flamegraph-1" in {p["key"] for p in dom["plots"] if p["section"] == "profiling"}
        assert dom["images"] == [] and len(dom["downloads"]) == 1
