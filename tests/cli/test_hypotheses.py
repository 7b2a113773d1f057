"""`hypotheses gather/add/list` on real repositories built in the test (rule 8)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import START_ARGS, git

from perfinvest.app.hypotheses import set_status
from perfinvest.core.models import Investigation

SLOW_PARSER = """\
import os, time


def parse(n):
    out = []
    for i in range(n):
        out = out + [i]  # quadratic copy
    return out
"""


def build_history(repo: Path) -> dict[str, str]:
    """Several commits after the baseline; one of them makes parser.py slow."""
    shas = {}
    (repo / "parser.py").write_text("def parse(n):\n    return list(range(n))\n")
    git(repo, "add", "parser.py")
    git(repo, "commit", "-qm", "add parser")
    shas["base"] = git(repo, "rev-parse", "HEAD").strip()
    (repo / "README.md").write_text("docs\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "-qm", "write docs")
    (repo / "parser.py").write_text(SLOW_PARSER)
    git(repo, "commit", "-qam", "parser: keep every item in a fresh list")
    shas["slow"] = git(repo, "rev-parse", "HEAD").strip()
    (repo / "app.py").write_text("print('hi')\n")
    git(repo, "commit", "-qam", "Speed up startup with a cache")
    shas["cache"] = git(repo, "rev-parse", "HEAD").strip()
    return shas


def to_hypotheses(cli: Any) -> str:
    inv = cli(*START_ARGS, "--json").json["investigation"]
    for phase in ("baseline", "breaking-point", "constraints"):
        assert cli(phase, "--skip-reason", "hypotheses test", "--json").code == 0
    return str(inv)


def state(repo: Path) -> dict[str, Any]:
    return json.loads((repo / ".claude" / "perf" / "investigation.json").read_text())


def test_gather_lists_the_slowdown_commit_with_the_hot_file(repo: Path, cli: Any) -> None:
    shas = build_history(repo)
    to_hypotheses(cli)
    # the latest profile says parser.py is hot (as a re-run after profiling would find)
    doc = state(repo)
    doc["profiling"] = [
        {
            "number": 1,
            "profiler": "py-spy",
            "hotspots": [{"function": "parse", "file": "parser.py", "line": 4, "self_pct": 90.0}],
        }
    ]
    (repo / ".claude" / "perf" / "investigation.json").write_text(json.dumps(doc))
    answer = cli("hypotheses", "gather", "--since", shas["base"], "--json")
    assert answer.code == 0, answer.out
    commits = {c["sha"]: c for c in answer.json["data"]["commits"]}
    assert shas["base"] not in commits  # the window starts after --since
    slow = commits[shas["slow"]]
    assert slow["files"] == ["parser.py"]
    assert slow["hot_files"] == ["parser.py"]
    assert "touches hot file: parser.py" in slow["flags"]
    assert slow["insertions"] > 0 and slow["deletions"] > 0
    assert any("mentions performance" in f for f in commits[shas["cache"]]["flags"])
    history = state(repo)["history"]
    assert history["since_source"] == "--since"
    assert history["files_changed"]["parser.py"] == 1
    # perfinvest's own checkpoint commits are not history of the code
    assert all(not c["subject"].startswith("perf(") for c in history["commits"])


def test_default_window_starts_at_the_baseline_commit(repo: Path, cli: Any) -> None:
    from tests.conftest import SHORT

    inv = cli(*START_ARGS, "--json").json["investigation"]
    assert cli("baseline", "--runs", "2", *SHORT, "--json").code == 0
    baseline_head = git(repo, "rev-parse", "HEAD").strip()
    for phase in ("breaking-point", "constraints"):
        assert cli(phase, "--skip-reason", "t", "--json").code == 0
    (repo / "app.py").write_text("print('slower')\n")
    git(repo, "commit", "-qam", "make app slower")
    answer = cli("hypotheses", "gather", "--json")
    assert answer.code == 0, answer.out
    assert answer.json["data"]["since_source"] == "baseline commit"
    subjects = [c["subject"] for c in answer.json["data"]["commits"]]
    assert subjects == ["make app slower"]
    assert inv and baseline_head


def test_no_history_in_the_window_is_a_clear_error(repo: Path, cli: Any) -> None:
    to_hypotheses(cli)
    before = state(repo)
    answer = cli("hypotheses", "gather", "--since", "HEAD", "--json")
    assert answer.code == 2
    assert "no commits in the window" in answer.json["error"]["message"]
    assert state(repo)["history"] is None
    assert state(repo)["attempts"] == before["attempts"]


def test_unknown_revision_and_path_outside_the_repository(
    repo: Path, cli: Any, tmp_path: Path
) -> None:
    to_hypotheses(cli)
    bad = cli("hypotheses", "gather", "--since", "no-such-rev", "--json")
    assert bad.code == 2 and "not a revision" in bad.json["error"]["message"]
    outside = cli("hypotheses", "gather", "--paths", str(tmp_path), "--json")
    assert outside.code == 2
    assert "outside the repository" in outside.json["error"]["message"]
    dotdot = cli("hypotheses", "gather", "--paths", "../elsewhere", "--json")
    assert dotdot.code == 2


def test_add_is_refused_before_history_then_adds_and_lists(
    repo: Path, cli: Any, tmp_path: Path
) -> None:
    build_history(repo)
    to_hypotheses(cli)
    refused = cli("hypotheses", "add", "parser got slow", "--json")
    assert refused.code == 4
    assert "rule 8" in refused.json["error"]["message"]
    assert cli("hypotheses", "gather", "--paths", "parser.py", "--json").code == 0
    one = cli(
        "hypotheses",
        "add",
        "parse() copies the list each step",
        "--evidence",
        "commit touches parser.py",
        "--confidence",
        "high",
        "--json",
    )
    assert one.code == 0, one.out
    batch = tmp_path / "h.json"
    batch.write_text(
        json.dumps(
            [
                {
                    "statement": "startup cache is cold",
                    "evidence": ["cache commit"],
                    "confidence": "low",
                },
                {"statement": "docs irrelevant"},
            ]
        )
    )
    many = cli("hypotheses", "add", "--from-file", str(batch), "--json")
    assert many.code == 0, many.out
    assert [h["id"] for h in many.json["data"]["hypotheses"]] == ["H2", "H3"]
    listed = cli("hypotheses", "list", "--json").json["data"]["hypotheses"]
    assert [(h["id"], h["status"], h["confidence"]) for h in listed] == [
        ("H1", "untested", "high"),
        ("H2", "untested", "low"),
        ("H3", "untested", "medium"),
    ]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"statement": "x", "confidence": "certain"}]))
    assert cli("hypotheses", "add", "--from-file", str(bad), "--json").code == 2


def test_set_status_for_experiments(repo: Path, cli: Any) -> None:
    build_history(repo)
    to_hypotheses(cli)
    cli("hypotheses", "gather", "--json")
    cli("hypotheses", "add", "parse is quadratic", "--json")
    inv = Investigation.model_validate(state(repo))
    changed = set_status(inv, "H1", "confirmed", note="experiment 1 improved 40 %")
    assert changed.status == "confirmed"
    import pytest

    from perfinvest.core.errors import PerfError

    with pytest.raises(PerfError, match="no hypothesis"):
        set_status(inv, "H9", "refuted")
