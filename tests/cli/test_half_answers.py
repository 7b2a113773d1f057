"""Never half-answer (issue 23 item 6): once the state is written, a failing checkpoint or
log append is a finding of an ok answer, a retry with the same input records nothing new,
and a full disk at `experiment start` is exit 7 with the tree untouched."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.cli.test_experiment import tree_state
from tests.cli.test_hypotheses import to_hypotheses
from tests.conftest import git


def _mount(path: Path, size: str) -> None:
    path.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")


def _fill(folder: Path) -> None:
    """Take every free byte of the file system holding ``folder``."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        for size in (65536, 4096, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                continue
    finally:
        os.close(fd)


@pytest.fixture
def full_git(repo: Path, tmp_path: Path) -> Iterator[Path]:
    """The repository's git directory on a tmpfs that is full: reads work, writes fail."""
    mount = tmp_path / "gitdisk"
    _mount(mount, "8m")
    try:
        subprocess.run(["cp", "-a", str(repo / ".git"), str(mount / "repo.git")], check=True)
        subprocess.run(["rm", "-rf", str(repo / ".git")], check=True)
        (repo / ".git").write_text(f"gitdir: {mount / 'repo.git'}\n")
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _state(repo: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((repo / ".claude" / "perf" / "investigation.json").read_text())
    return doc


def test_a_failed_checkpoint_is_a_skip_and_a_retry_adds_nothing(
    repo: Path, cli: Any, full_git: Path
) -> None:
    to_hypotheses(cli)
    assert cli("hypotheses", "gather", "--json").code == 0
    _fill(full_git)
    args = ("hypotheses", "add", "the cache misses", "--evidence", "p95 doubled", "--json")
    first = cli(*args)
    assert first.code == 0, first.out  # recorded: never ok false for the agent to retry
    assert first.json["data"]["checkpoint"]["committed"] is False
    skipped = [f for f in first.json["findings"] if f.startswith("checkpoint: skipped")]
    assert skipped and "failed" in skipped[0], first.json["findings"]
    attempts = len(_state(repo)["attempts"])
    again = cli(*args)
    assert again.code == 0, again.out
    assert again.json["data"]["retry"] is True
    assert any("already recorded" in f for f in again.json["findings"])
    doc = _state(repo)
    assert [h["statement"] for h in doc["hypotheses"]] == ["the cache misses"]
    assert len(doc["attempts"]) == attempts
    (full_git / "filler").unlink()  # space again: the retry completes the checkpoint
    third = cli(*args)
    assert third.code == 0 and third.json["data"]["checkpoint"]["committed"] is True
    assert len(_state(repo)["hypotheses"]) == 1
    assert git(repo, "status", "--porcelain", "--", ".claude/perf") == ""


def test_a_failed_log_append_answers_ok_and_the_log_heals(
    repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from perfinvest.core.errors import environment_error
    from perfinvest.store.state import StateStore

    to_hypotheses(cli)
    assert cli("hypotheses", "gather", "--json").code == 0
    real = StateStore.append_log

    def full(self: StateStore, investigation_id: str, header: str, section: str) -> Path:
        raise environment_error("cannot append to the log: No space left on device")

    monkeypatch.setattr(StateStore, "append_log", full)
    answer = cli("hypotheses", "add", "GC pauses", "--json")
    assert answer.code == 0, answer.out
    assert any("log was not appended" in f for f in answer.json["findings"])
    assert [h["statement"] for h in _state(repo)["hypotheses"]] == ["GC pauses"]
    monkeypatch.setattr(StateStore, "append_log", real)
    assert cli("status", "--json").code == 0
    # the next command that takes the state lock writes the missing section from the state
    assert cli("hypotheses", "add", "lock contention", "--json").code == 0
    log = next((repo / ".claude" / "perf" / "investigations").glob("*.md")).read_text()
    assert "GC pauses" in log and "lock contention" in log
    assert log.index("GC pauses") < log.index("lock contention")


def test_experiment_start_on_a_full_disk_exits_7_and_touches_nothing(
    repo: Path, cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.cli.test_experiment import to_phase_8

    disk = tmp_path / "statedisk"
    _mount(disk, "2m")
    try:
        monkeypatch.setenv("AI_STATE_DIR", str(disk))
        to_phase_8(cli)
        many = repo / "many"  # a manifest of 3000 files: more than the space left
        many.mkdir()
        for n in range(3000):
            (many / f"file-{n:05d}.txt").write_text(f"{n}\n")
        (repo / "app.py").write_text("print('uncommitted')\n")
        before = tree_state(repo)
        _fill(disk)
        os.truncate(disk / "filler", (disk / "filler").stat().st_size - 48 * 1024)  # nearly full
        answer = cli("experiment", "start", "--change", "try it", "--json")
        assert answer.code == 7, answer.out
        message = answer.json["error"]["message"]
        assert "No space left on device" in message and "\n" not in message
        assert tree_state(repo) == before
        assert not (disk / "perf" / "experiment-journal.json").exists()
        assert git(repo, "for-each-ref", "refs/perfinvest") == ""
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
