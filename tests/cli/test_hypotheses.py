"""`hypotheses gather/add/list` on real repositories built in the test (rule 8)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import START_ARGS, git

from perfinvest.app.phases.hypotheses import set_status
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


def test_default_window_holds_your_commits_since_the_previous_tag(
    repo: Path, cli: Any, capsys: Any
) -> None:
    """Issue 10: no options, the everyday case: the user's commits, not the checkpoints."""
    from tests.conftest import SHORT

    git(repo, "tag", "v0.9")  # the previous release: on the fixture's first commit
    shas = build_history(repo)
    git(repo, "tag", "v1.0")  # the version being investigated, on the user's last commit
    cli(*START_ARGS, "--json")
    assert cli("baseline", "--runs", "2", *SHORT, "--json").code == 0
    for phase in ("breaking-point", "constraints"):
        assert cli(phase, "--skip-reason", "t", "--json").code == 0
    (repo / "app.py").write_text("print('slower')\n")
    git(repo, "commit", "-qam", "make app slower")  # after the baseline was measured
    checkpoints = git(repo, "log", "--format=%s", "--grep=^perf(").splitlines()
    assert len(checkpoints) >= 4

    answer = cli("hypotheses", "gather", "--json")

    assert answer.code == 0, answer.out
    data = answer.json["data"]
    assert data["since"] == "v0.9"
    assert data["since_source"] == "since the previous version tag v0.9"
    assert data["checkpoints_left_out"] == len(checkpoints)
    subjects = [c["subject"] for c in data["commits"]]
    assert subjects == [
        "make app slower",
        "Speed up startup with a cache",
        "parser: keep every item in a fresh list",
        "write docs",
        "add parser",
    ]
    assert not any(s.startswith("perf(") for s in subjects)
    by_subject = {c["subject"]: c for c in data["commits"]}
    assert "after the baseline (not in its measurement)" in by_subject["make app slower"]["flags"]
    assert not any("after the baseline" in f for f in by_subject["write docs"]["flags"])
    assert by_subject["parser: keep every item in a fresh list"]["sha"] == shas["slow"]
    assert all(".claude/" not in f for c in data["commits"] for f in c["files"])

    text = cli("hypotheses", "gather", "--no-checkpoint")  # the text output lists them
    assert text.code == 0
    assert "window v0.9..HEAD (since the previous version tag v0.9): 5 commit(s)" in text.out
    for sha in (c["sha"][:10] for c in data["commits"]):
        assert sha in text.out
    assert "make app slower" in text.out and "perf(" not in text.out.split("phase:")[0]


def test_without_a_tag_the_window_is_your_last_50_commits(repo: Path, cli: Any) -> None:
    for n in range(55):
        (repo / "app.py").write_text(f"print({n})\n")
        git(repo, "commit", "-qam", f"change {n}")
    to_hypotheses(cli)  # three checkpoints on top

    answer = cli("hypotheses", "gather", "--json")

    assert answer.code == 0, answer.out
    data = answer.json["data"]
    assert data["since"] is None
    assert data["since_source"] == "your last 50 commits: no version tag before them"
    subjects = [c["subject"] for c in data["commits"]]
    assert subjects == [f"change {n}" for n in range(54, 4, -1)]
    assert data["truncated"] is True


def test_since_head_n_counts_your_commits_not_checkpoints(repo: Path, cli: Any) -> None:
    shas = build_history(repo)
    inv = to_hypotheses(cli)
    (repo / "app.py").write_text("print('one')\n")
    git(repo, "commit", "-qam", "user commit one")
    assert cli("hypotheses", "add", "--no-checkpoint", "x", "--json").code == 4  # rule 8
    cli("hypotheses", "gather", "--since", shas["base"], "--json")  # a checkpoint between
    (repo / "app.py").write_text("print('two')\n")
    git(repo, "commit", "-qam", "user commit two")
    assert git(repo, "log", "-3", "--format=%s").splitlines()[1].startswith(f"perf({inv})")

    answer = cli("hypotheses", "gather", "--since", "HEAD~3", "--json")

    assert answer.code == 0, answer.out
    subjects = [c["subject"] for c in answer.json["data"]["commits"]]
    assert subjects == ["user commit two", "user commit one", "Speed up startup with a cache"]
    assert "checkpoints not counted" in answer.json["data"]["since_source"]
    assert answer.json["data"]["since"] == shas["slow"]

    too_far = cli("hypotheses", "gather", "--since", "HEAD~99", "--json")
    assert too_far.code == 2
    message = too_far.json["error"]["message"]
    assert "HEAD has only 7 commit(s) of yours" in message and "HEAD~7" in message
    # Any other revision is read as git reads it: HEAD^^ is the first gather's checkpoint.
    raw = cli("hypotheses", "gather", "--since", "HEAD^^", "--json")
    assert raw.code == 0, raw.out
    assert [c["subject"] for c in raw.json["data"]["commits"]] == ["user commit two"]


def test_no_history_in_the_window_is_a_clear_error(repo: Path, cli: Any) -> None:
    to_hypotheses(cli)
    before = state(repo)
    answer = cli("hypotheses", "gather", "--since", "HEAD", "--json")
    assert answer.code == 2
    assert "no commits of yours in the window" in answer.json["error"]["message"]
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
