"""The lock's log repair reuses the command's own load of the active investigation.

Taking the state lock used to read ``investigation.json`` once for the log repair and the
command read it again; the repair now runs on the command's first load (or before the
first write, or at release), so a phase command reads the state once per lock, and the
log-repair guarantee (F7, tests/store/test_log_repair.py) holds in every order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import START_ARGS

from perfinvest.core.models import Investigation
from perfinvest.core.report.logbook import render_log
from perfinvest.store import state as state_mod
from perfinvest.store.paths import StatePaths
from perfinvest.store.state import StateStore


class Reads:
    """Counts real reads of the active file, and the lock blocks they happen in."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.per_lock: list[int] = []
        self.outside = 0
        real_read = state_mod.read_investigation
        real_locked = StateStore.locked

        def read(path: Path) -> Investigation:
            if path.name == "investigation.json":
                if self.per_lock and self._open:
                    self.per_lock[-1] += 1
                else:
                    self.outside += 1
            return real_read(path)

        @contextmanager
        def locked(store: StateStore) -> Iterator[None]:
            self.per_lock.append(0)  # taking and releasing the lock count too
            self._open = True
            try:
                with real_locked(store):
                    yield
            finally:
                self._open = False

        self._open = False
        monkeypatch.setattr(state_mod, "read_investigation", read)
        monkeypatch.setattr(StateStore, "locked", locked)


def perf(repo: Path) -> Path:
    return repo / ".claude" / "perf"


def store_of(repo: Path) -> StateStore:
    return StateStore(StatePaths(repo / ".claude"))


def short_log(repo: Path, cli: Any) -> tuple[str, Path, str]:
    """An investigation with two phases whose log lost its last section (a killed append)."""
    inv_id = cli(*START_ARGS, "--no-checkpoint", "--json").json["investigation"]
    assert cli("baseline", "--skip-reason", "elsewhere", "--no-checkpoint").code == 0
    log = perf(repo) / "investigations" / f"{inv_id}.md"
    complete = log.read_text()
    log.write_text(complete[: complete.index("## Phase 2")])
    return inv_id, log, complete


def test_phase_command_reads_the_state_once_per_lock(
    repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, log, _ = short_log(repo, cli)
    reads = Reads(monkeypatch)
    done = cli("breaking-point", "--skip-reason", "not here", "--no-checkpoint", "--json")
    assert done.code == 0, done.out
    assert reads.per_lock and all(count <= 1 for count in reads.per_lock), reads.per_lock
    # and the short log was repaired before the new section was appended
    headings = [line.split(" (")[0] for line in log.read_text().splitlines() if "## Phase" in line]
    assert headings == ["## Phase 1: setup", "## Phase 2: baseline", "## Phase 3: breaking-point"]
    assert log.read_text() == render_log(store_of(repo).load_active())


def test_start_and_resume_read_the_active_state_once_per_lock(
    repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = cli(*START_ARGS, "--no-checkpoint", "--json").json["investigation"]
    reads = Reads(monkeypatch)
    second = cli(*START_ARGS, "--no-checkpoint", "--json")  # archives the first
    assert second.code == 0, second.out
    assert reads.per_lock and all(count <= 1 for count in reads.per_lock), reads.per_lock
    reads.per_lock.clear()
    back = cli("resume", first, "--json")  # archives the second, activates the first
    assert back.code == 0, back.out
    assert back.json["findings"][:2] == [
        f"resumed {first}",
        f"archived the previously active investigation {second.json['investigation']}",
    ]
    # resume's own read, then the checkpoint's check of which investigation is active
    # (resume always checkpoints; it has no --no-checkpoint): 3 reads before
    assert reads.per_lock == [2], reads.per_lock
    reads.per_lock.clear()
    again = cli("resume", first, "--json")  # already active: nothing moves
    assert again.code == 0 and reads.per_lock == [1], reads.per_lock


def test_load_under_the_lock_repairs_with_the_loaded_investigation(
    repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, log, complete = short_log(repo, cli)
    store = store_of(repo)
    reads = Reads(monkeypatch)
    with store.locked():
        inv = store.load_active()
        assert log.read_text() == complete  # repaired at the load, before the body goes on
    assert reads.per_lock == [1]
    assert store.repaired == log
    assert render_log(inv) == complete


def test_lock_body_that_never_loads_still_leaves_the_log_whole(repo: Path, cli: Any) -> None:
    _, log, complete = short_log(repo, cli)
    store = store_of(repo)
    with store.locked():
        pass
    assert log.read_text() == complete
    assert store.repaired == log


def test_write_before_any_load_repairs_from_the_state_as_found(repo: Path, cli: Any) -> None:
    """The repair renders the state the killed command left, not the one being written."""
    _, log, complete = short_log(repo, cli)
    store = store_of(repo)
    found = Investigation.model_validate_json((perf(repo) / "investigation.json").read_text())
    changed = found.model_copy(update={"attempts": found.attempts[:1]})
    with store.locked():
        store.save_active(changed)  # no load first: the repair must still see both phases
        assert log.read_text() == complete
    assert store.load_active().attempts == found.attempts[:1]


def test_log_append_before_any_load_comes_after_the_repaired_sections(repo: Path, cli: Any) -> None:
    inv_id, log, complete = short_log(repo, cli)
    store = store_of(repo)
    with store.locked():
        store.append_log(inv_id, "unused header", "## a later section\n")
    assert log.read_text() == complete + "\n## a later section\n"


def test_unreadable_state_is_reported_by_the_load_not_repaired(repo: Path, cli: Any) -> None:
    _, log, _ = short_log(repo, cli)
    active = perf(repo) / "investigation.json"
    data = json.loads(active.read_text())
    data["attempts"] = "broken"
    active.write_text(json.dumps(data))
    before = log.read_text()
    store = store_of(repo)
    with pytest.raises(state_mod.PerfError), store.locked():
        store.load_active()
    assert log.read_text() == before
    assert store.repaired is None
