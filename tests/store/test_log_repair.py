"""F7: a process killed between the state write and the log append leaves the log short;
the next command renders the lost sections from state (nothing is deleted)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import START_ARGS

from perfinvest.core.models import Investigation
from perfinvest.core.report.logbook import render_log

#: Runs perfinvest in a real process that SIGKILLs itself at its first log append, i.e.
#: after the state is written and before the log gets the section.
KILLED_AT_LOG_APPEND = """
import os, signal, sys
from perfinvest.store.state import StateStore
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
StateStore.append_log = die
from perfinvest.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def perf_dir(repo: Path) -> Path:
    return repo / ".claude" / "perf"


def state(repo: Path) -> Investigation:
    text = (perf_dir(repo) / "investigation.json").read_text(encoding="utf-8")
    return Investigation.model_validate_json(text)


def log_of(repo: Path, inv_id: str) -> Path:
    return perf_dir(repo) / "investigations" / f"{inv_id}.md"


def run_killed(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-c", KILLED_AT_LOG_APPEND, *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def headings(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("## Phase ")]


def test_sigkill_between_state_and_log_is_repaired_by_the_next_command(
    repo: Path, cli: Any
) -> None:
    inv_id = cli(*START_ARGS, "--no-checkpoint", "--json").json["investigation"]
    killed = run_killed("baseline", "--skip-reason", "killed before its log", "--no-checkpoint")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    after_kill = state(repo)
    assert [a.phase.value for a in after_kill.attempts] == ["setup", "baseline"]
    assert len(headings(log_of(repo, inv_id).read_text())) == 1  # the baseline section is lost

    # the next command (any that takes the state lock) repairs first, then appends its own
    assert cli("breaking-point", "--skip-reason", "next", "--no-checkpoint", "--json").code == 0
    text = log_of(repo, inv_id).read_text()
    assert [h.split(" (")[0] for h in headings(text)] == [
        "## Phase 1: setup",
        "## Phase 2: baseline",
        "## Phase 3: breaking-point",
    ]
    assert "**Skipped:** killed before its log" in text
    assert text == render_log(state(repo))  # exactly what uninterrupted appends write
    # the short log was the start of the complete one: nothing to keep aside
    assert not list((perf_dir(repo) / "artifacts" / inv_id).glob("log-before-repair.*.md"))


def test_truncated_log_is_repaired_by_log_itself(repo: Path, cli: Any) -> None:
    inv_id = cli(*START_ARGS, "--no-checkpoint", "--json").json["investigation"]
    for phase in ("baseline", "breaking-point"):
        assert cli(phase, "--skip-reason", f"{phase} elsewhere", "--no-checkpoint").code == 0
    path = log_of(repo, inv_id)
    complete = path.read_text()
    path.write_text(complete[: complete.index("## Phase 3") + 12])  # torn mid-section
    shown = cli("log", "--json").json
    assert shown["data"]["markdown"] == complete == path.read_text()
    assert shown["findings"][0].startswith("log repaired")
    # a complete log is left alone: no rewrite
    before = path.stat().st_mtime_ns
    assert cli("log", "--json").json["findings"][0].startswith("log repaired") is False
    assert path.stat().st_mtime_ns == before


def test_inactive_investigation_log_is_repaired_when_read(repo: Path, cli: Any) -> None:
    first = cli(*START_ARGS, "--no-checkpoint", "--json").json["investigation"]
    assert cli("baseline", "--skip-reason", "x", "--no-checkpoint").code == 0
    path = log_of(repo, first)
    complete = path.read_text()
    cli(*START_ARGS, "--no-checkpoint", "--json")  # archives the first one
    path.unlink()
    shown = cli("log", first, "--json").json
    assert shown["data"]["markdown"] == complete


def test_unreadable_state_is_not_touched_by_the_repair(repo: Path, cli: Any) -> None:
    inv_id = cli(*START_ARGS, "--no-checkpoint", "--json").json["investigation"]
    active = perf_dir(repo) / "investigation.json"
    data = json.loads(active.read_text())
    data["attempts"] = "broken"
    active.write_text(json.dumps(data))
    log_before = log_of(repo, inv_id).read_text()
    result = cli("baseline", "--skip-reason", "x", "--json")
    assert result.code == 6 and "investigation.json" in result.json["error"]["message"]
    assert log_of(repo, inv_id).read_text() == log_before


def test_notes_between_attempts_are_rendered_where_they_were_appended(repo: Path, cli: Any) -> None:
    """A real note (a forced comparison) between phases: the state renders the very log
    the appends wrote, so a complete log is never rewritten, and a lost note comes back
    in its place."""
    from tests.conftest import SHORT

    cli(*START_ARGS, "--no-checkpoint", "--json")
    assert cli("baseline", "--runs", "2", *SHORT, "--no-checkpoint", "--json").code == 0
    args = list(START_ARGS)
    args[args.index("--command") + 1] = f"{sys.executable} bench.py --other-config"
    args[args.index("--version") + 1] = "v2"
    inv_id = cli(*args, "--no-checkpoint", "--json").json["investigation"]
    assert cli("baseline", "--runs", "2", *SHORT, "--no-checkpoint", "--json").code == 0
    assert cli("compare", "v1", "v2", "--force", "--json").code == 0
    assert cli("breaking-point", "--skip-reason", "later", "--no-checkpoint").code == 0
    path = log_of(repo, inv_id)
    text = path.read_text()
    assert "### Note: forced comparison" in text
    assert text == render_log(state(repo))
    assert not list((perf_dir(repo) / "artifacts" / inv_id).glob("log-before-repair.*"))

    note = text.index("### Note: forced comparison")
    short = text[: note - 1] + text[text.index("## Phase 3", note) - 1 :]
    path.write_text(short)
    assert cli("log", "--json").json["data"]["markdown"] == text
    # lost in the middle: the short log is kept aside (nothing is deleted)
    [kept] = (perf_dir(repo) / "artifacts" / inv_id).glob("log-before-repair.*.md")
    assert kept.read_text() == short
