"""What `log`, `status` and `list` print: the log alone, and user words that cannot steer a
terminal or break a one-line layout (issue 10, F10)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from tests.conftest import START_ARGS

#: A scenario with every kind of control sequence a terminal obeys, and markdown.
HOSTILE = "p95 up\nSECOND LINE\r\x1b[2J\x1b]0;pwned\x07 # not_a_heading <b>x</b> (CV 15.7%)"


def start_with_scenario(cli: Any, scenario: str) -> str:
    args = list(START_ARGS)
    args[args.index("--scenario") + 1] = scenario
    result = cli(*args, "--no-checkpoint", "--json")
    assert result.code == 0, result.out
    return str(result.json["investigation"])


def test_log_prints_the_log_and_nothing_else(repo: Path) -> None:
    """`perfinvest log > review.md` in a real process gives exactly the log file."""
    env_run = [sys.executable, "-m", "perfinvest"]
    started = subprocess.run(
        [*env_run, *START_ARGS, "--no-checkpoint", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    inv_id = json.loads(started.stdout)["investigation"]
    shown = subprocess.run([*env_run, "log"], capture_output=True, text=True, check=True)
    log_file = repo / ".claude" / "perf" / "investigations" / f"{inv_id}.md"
    assert shown.stdout == log_file.read_text(encoding="utf-8")
    assert "phase:" not in shown.stdout and "findings:" not in shown.stdout
    as_json = subprocess.run(
        [*env_run, "log", "--json"], capture_output=True, text=True, check=True
    )
    assert json.loads(as_json.stdout)["data"]["markdown"] == shown.stdout


def test_log_of_an_unknown_id_fails_on_stderr_leaving_stdout_empty(repo: Path, cli: Any) -> None:
    start_with_scenario(cli, "s")
    result = cli("log", "perf-20200101-000000-00000000")
    assert result.code == 4 and "unknown investigation" in result.err
    assert result.out == ""  # `log ID > review.md` does not fill review.md with an answer
    as_json = cli("log", "perf-20200101-000000-00000000", "--json")
    assert as_json.code == 4 and as_json.json["error"]["kind"] == "not_found"


def test_log_escapes_only_what_markdown_needs(repo: Path, cli: Any) -> None:
    start_with_scenario(cli, "count unique_words faster (CV 15.7%)")
    text = cli("log").out
    assert "- Scenario: count unique_words faster (CV 15.7%)" in text
    assert "\\_" not in text and "\\(" not in text and "\\." not in text


def test_control_characters_never_reach_the_terminal(repo: Path, cli: Any) -> None:
    inv_id = start_with_scenario(cli, HOSTILE)
    state = json.loads((repo / ".claude" / "perf" / "investigation.json").read_text())
    assert state["setup"]["scenario"] == HOSTILE  # the state keeps the exact words
    for command in (("status",), ("list",), ("log",), ("resume", inv_id)):
        out = cli(*command).out
        assert not any(c in out for c in "\x1b\x07\r"), (command, out)
        assert "\\x1b" in out and "\\x07" in out, (command, out)
    status_line = cli("status").out.splitlines()[0]
    assert status_line.startswith(f"investigation {inv_id}: p95 up\\nSECOND LINE\\r")
    listed = [line for line in cli("list").out.splitlines() if inv_id in line]
    assert len(listed) == 1 and "SECOND LINE" in listed[0]
    # --json escapes control characters by itself and keeps the exact words
    assert cli("status", "--json").json["data"]["scenario"] == HOSTILE


def test_hostile_scenario_cannot_add_structure_to_the_log(repo: Path, cli: Any) -> None:
    start_with_scenario(cli, HOSTILE)
    html = MarkdownIt("commonmark").render(cli("log").out)
    assert html.count("<h1>") == 1 and html.count("<h2>") == 1
    assert "<b>" not in html and "not_a_heading" in html
