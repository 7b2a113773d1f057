"""Bad input gets one clear line, a documented exit code, and loses nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import START_ARGS


def active(repo: Path) -> Path:
    return repo / ".claude" / "perf" / "investigation.json"


@pytest.mark.parametrize(
    ("mangle", "expected"),
    [
        (lambda text: text[: len(text) // 2], "not valid JSON"),
        (lambda text: "", "not valid JSON"),
        (lambda text: "[1, 2]", "does not hold a JSON object"),
        (lambda text: text.replace('"format_version": 1', '"format_version": 99'), "newer"),
        (
            lambda text: text.replace('"format_version": 1', '"format_version": "1"'),
            "format_version",
        ),
        (
            lambda text: text.replace('"perfinvest.investigation"', '"perfinvest.baseline"'),
            "expected",
        ),
        (lambda text: text.replace('"status": "in_progress"', '"status": "sleeping"'), "status"),
    ],
)
def test_corrupt_state_is_reported_in_one_line_and_left_untouched(
    repo: Path, cli: Any, mangle: Any, expected: str
) -> None:
    cli(*START_ARGS, "--json")
    path = active(repo)
    broken = mangle(path.read_text())
    path.write_text(broken)
    for command in (
        ["status", "--json"],
        ["baseline", "--json"],
        ["start", *START_ARGS[1:], "--json"],
    ):
        result = cli(*command)
        assert result.code == 6, (command, result.out)
        message = result.json["error"]["message"]
        assert "\n" not in message and str(path) in message and expected in message
    assert path.read_text() == broken


@pytest.mark.parametrize(
    ("field", "bad"),
    [("id", "../../etc/passwd"), ("id", "perf-1"), ("version", "../v1")],
)
def test_hand_edited_names_in_state_are_a_state_error_naming_the_file(
    repo: Path, cli: Any, field: str, bad: str
) -> None:
    """F11: an invalid id/version in investigation.json is the file's fault (exit 6), not 2."""
    cli(*START_ARGS, "--no-checkpoint", "--json")
    path = active(repo)
    data = json.loads(path.read_text())
    if field == "id":
        data["id"] = bad
    else:
        data["setup"]["version"] = bad
    broken = json.dumps(data)
    path.write_text(broken)
    for command in (["status"], ["log"], ["baseline", "--skip-reason", "x"]):
        result = cli(*command, "--json")
        assert result.code == 6, (command, result.out)
        message = result.json["error"]["message"]
        assert str(path) in message and repr(bad) in message and "\n" not in message
    listed = cli("list", "--json")
    assert listed.code == 0
    row = listed.json["data"]["investigations"][0]
    assert row["status"] == "unreadable" and repr(bad) in row["problem"]
    assert repr(bad) in cli("list").out
    assert path.read_text() == broken


def test_schema_invalid_baseline_is_reported(repo: Path, cli: Any, tmp_path: Path) -> None:
    from tests.conftest import SHORT

    cli(*START_ARGS, "--json")
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
        assert cli(phase, "--skip-reason", "not needed", "--json").code == 0, phase
    baseline = repo / ".claude" / "perf" / "baselines" / "v1.json"
    doc = json.loads(baseline.read_text())
    doc["runs"] = []
    baseline.write_text(json.dumps(doc))
    result = cli("consolidate", "--json")
    assert result.code == 6
    assert (
        "runs" in result.json["error"]["message"]
        and str(baseline) in result.json["error"]["message"]
    )


@pytest.mark.parametrize(
    "bad_id",
    ["../../etc/passwd", "/etc/passwd", "perf-1\x00", "..", "perf-20260101-000000-zzzzzzzz"],
)
def test_resume_refuses_ids_that_could_escape(repo: Path, cli: Any, bad_id: str) -> None:
    result = cli("resume", bad_id, "--json")
    assert result.code == 2 and "invalid investigation id" in result.json["error"]["message"]


def test_resume_takes_a_unique_prefix_and_lists_an_ambiguous_one(repo: Path, cli: Any) -> None:
    first = cli(*START_ARGS, "--no-checkpoint", "--json").json["investigation"]
    second = cli(*START_ARGS, "--no-checkpoint", "--json").json["investigation"]
    assert first != second
    common = next(i for i in range(len(first)) if first[i] != second[i])
    resumed = cli("resume", first[: common + 1], "--json")
    assert resumed.code == 0 and resumed.json["investigation"] == first
    assert cli("status", "--json").json["investigation"] == first
    ambiguous = cli("resume", first[:common], "--json")
    assert ambiguous.code == 2
    message = ambiguous.json["error"]["message"]
    assert "ambiguous" in message and first in message and second in message
    assert cli("resume", "perf-19990101", "--json").code == 4  # well-formed, no match


def test_resume_unknown_id(repo: Path, cli: Any) -> None:
    result = cli("resume", "perf-20260101-000000-0123abcd", "--json")
    assert result.code == 4
    assert "unknown investigation" in result.json["error"]["message"]


@pytest.mark.parametrize("version", ["../v1", "v1/x", "..", "a b", "/abs"])
def test_start_refuses_versions_that_could_escape(repo: Path, cli: Any, version: str) -> None:
    args = list(START_ARGS)
    args[args.index("--version") + 1] = version
    result = cli(*args, "--json")
    assert result.code == 2 and "invalid version" in result.json["error"]["message"]
    assert not (repo / ".claude").exists()


def test_unknown_phase_command_is_a_usage_error(repo: Path, cli: Any) -> None:
    result = cli("benchmark-everything", "--json")
    assert result.code == 2 and "No such command" in result.json["error"]["message"]


def test_phase_before_any_investigation(repo: Path, cli: Any) -> None:
    result = cli("baseline", "--json")
    assert result.code == 4 and "perfinvest start" in result.json["error"]["message"]


def test_record_file_problems(repo: Path, cli: Any, tmp_path: Path) -> None:
    cli(*START_ARGS, "--json")
    assert cli("baseline", "--skip-reason", "measured elsewhere", "--json").code == 0
    for phase in ("breaking-point", "constraints"):
        assert cli(phase, "--skip-reason", "n/a", "--json").code == 0
    assert cli("hypotheses", "gather", "--json").code == 0
    add = ("hypotheses", "add", "--from-file")
    assert cli(*add, str(tmp_path / "missing.json"), "--json").code == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    result = cli(*add, str(bad), "--json")
    assert result.code == 2 and "line 1" in result.json["error"]["message"]
    bad.write_text(json.dumps([{"line": 3}]))
    result = cli(*add, str(bad), "--json")
    assert result.code == 2 and "statement" in result.json["error"]["message"]


def test_unbalanced_quotes_in_command(repo: Path, cli: Any) -> None:
    args = list(START_ARGS)
    args[args.index("--command") + 1] = "python 'bench.py"
    result = cli(*args, "--json")
    assert result.code == 2 and "--shell" in result.json["error"]["message"]


def test_state_dir_not_writable(repo: Path, cli: Any, monkeypatch: Any) -> None:
    blocker = repo / "not-a-dir"
    blocker.write_text("a file where the state folder should be\n")
    monkeypatch.setenv("AI_STATE_DIR", str(blocker / "state"))
    result = cli(*START_ARGS, "--json")
    assert result.code == 7
    assert str(blocker) in result.json["error"]["message"]
    assert blocker.read_text() == "a file where the state folder should be\n"


def test_real_subprocess_has_no_traceback_and_one_json_object(repo: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "perfinvest", "status", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 4
    assert json.loads(done.stdout)["error"]["kind"] == "refused"
    assert "Traceback" not in done.stderr
