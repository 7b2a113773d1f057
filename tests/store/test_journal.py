"""The experiment journal: atomic, self-describing, and a crash detector."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from perfinvest.core.errors import PerfError
from perfinvest.store.journal import (
    Journal,
    journal_path,
    read_journal,
    remove_journal,
    write_journal,
)


def test_round_trip_and_removal(tmp_path: Path) -> None:
    journal = Journal(investigation="inv", experiment=2, stage="starting", repo="/r")
    write_journal(tmp_path, journal)
    loaded = read_journal(tmp_path)
    assert loaded is not None and loaded.experiment == 2 and loaded.pid == os.getpid()
    assert json.loads(journal_path(tmp_path).read_text())["kind"] == "perfinvest.experiment-journal"
    remove_journal(tmp_path)
    assert read_journal(tmp_path) is None


def test_a_busy_stage_of_a_dead_process_is_a_crash(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    journal = Journal(investigation="i", experiment=1, stage="measuring", repo="/r", pid=dead.pid)
    assert journal.crashed()
    mine = Journal(investigation="i", experiment=1, stage="measuring", repo="/r")
    assert mine.owner_alive() and not mine.crashed()
    opened = Journal(investigation="i", experiment=1, stage="open", repo="/r", pid=dead.pid)
    assert not opened.crashed()  # an open experiment belongs to no process


def test_a_reused_pid_is_not_the_owner(tmp_path: Path) -> None:
    journal = Journal(
        investigation="i", experiment=1, stage="restoring", repo="/r", pid=os.getpid(),
        pid_start="1",
    )  # fmt: skip
    assert journal.crashed()


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        '{"kind": "other"}',
        '{"kind": "perfinvest.experiment-journal", "format_version": 99}',
    ],
)
def test_a_damaged_journal_is_a_state_error(tmp_path: Path, text: str) -> None:
    journal_path(tmp_path).write_text(text)
    with pytest.raises(PerfError) as caught:
        read_journal(tmp_path)
    assert caught.value.code == 6 and "experiment journal" in caught.value.message


def test_claim_records_the_history(tmp_path: Path) -> None:
    journal = Journal(investigation="i", experiment=1, stage="open", repo="/r")
    journal.claim("measuring").claim("restoring")
    assert journal.stage == "restoring" and len(journal.history) == 2
    with pytest.raises(PerfError):
        journal.claim("dancing")


def test_the_captured_change_round_trips_and_old_journals_still_read(tmp_path: Path) -> None:
    journal = Journal(investigation="inv", experiment=1, stage="measuring", repo="/r")
    journal.change_manifest = "/store/change-manifest.json"
    journal.changed = ["src/x.py"]
    write_journal(tmp_path, journal)
    loaded = read_journal(tmp_path)
    assert loaded is not None
    assert loaded.change_manifest == "/store/change-manifest.json"
    assert loaded.changed == ["src/x.py"]
    # a journal written before the change was captured (or by an older perfinvest)
    raw = json.loads(journal_path(tmp_path).read_text())
    del raw["change_manifest"], raw["changed"]
    journal_path(tmp_path).write_text(json.dumps(raw))
    old = read_journal(tmp_path)
    assert old is not None and old.change_manifest is None and old.changed == []
