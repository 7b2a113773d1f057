"""`recover` never undoes what the user made after a crash (issue 23 items 3 and 4):
a commit of theirs (HEAD moved) or a folder they replaced by a symlink."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from tests.cli.test_experiment import perf, tree_state
from tests.cli.test_recover import X_PY, _kill_mid_measurement
from tests.conftest import git


def _only_perf_commits_since(repo: Path, head: str) -> None:
    """The user's commit stays; on top of it at most perfinvest's own state checkpoints."""
    git(repo, "merge-base", "--is-ancestor", head, "HEAD")
    changed = git(repo, "diff", "--name-only", head, "HEAD").split()
    assert all(path.startswith(".claude/perf/") for path in changed), changed


@pytest.mark.slow
def test_recover_after_a_user_commit_touches_nothing(repo: Path, cli: Any) -> None:
    _kill_mid_measurement(repo, cli)
    git(repo, "commit", "-qam", "my own commit, over the experiment's change")
    head = git(repo, "rev-parse", "HEAD").strip()
    before = tree_state(repo)
    answer = cli("recover", "--json")
    assert answer.code == 4, answer.out
    message = answer.json["error"]["message"]
    assert "HEAD moved" in message or "HEAD advanced" in message
    assert "touched nothing" in message
    _only_perf_commits_since(repo, head)
    assert tree_state(repo) == before  # files and index exactly as the user left them
    assert git(repo, "status", "--porcelain", "--", "src/x.py", "src/z.py") == ""  # no MM
    ref = answer.json["data"]["recorded_ref"]
    assert git(repo, "rev-parse", "--verify", "-q", ref).strip()  # the recorded version kept
    # releasing accepts the user's tree: still nothing touched, the journal gone
    released = cli("recover", "--release", "--json")
    assert released.code == 0, released.out
    assert tree_state(repo) == before
    _only_perf_commits_since(repo, head)
    assert not (perf(repo) / "experiment-journal.json").exists()
    assert git(repo, "rev-parse", "--verify", "-q", ref).strip()


@pytest.mark.slow
def test_recover_keeps_a_symlinked_folder_and_never_reads_through_it(
    repo: Path, cli: Any, tmp_path: Path
) -> None:
    inv, _ = _kill_mid_measurement(repo, cli)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.py").write_text("SECRET = 'outside the repository'\n")
    os.rename(repo / "src", repo / "src.bak")
    (repo / "src").symlink_to(elsewhere)
    answer = cli("recover", "--json")
    assert answer.code in (0, 4), answer.out
    assert (repo / "src").is_symlink()
    assert os.readlink(repo / "src") == str(elsewhere)
    assert (elsewhere / "x.py").read_text() == "SECRET = 'outside the repository'\n"
    assert sorted(p.name for p in elsewhere.iterdir()) == ["x.py"]
    assert (repo / "src.bak" / "x.py").read_text() == X_PY.replace(
        "line_2 = 2", "line_2 = 'experiment'"
    )
    artifacts = perf(repo) / "artifacts" / inv
    for path in artifacts.rglob("*"):
        if path.is_file():
            assert b"outside the repository" not in path.read_bytes(), path
