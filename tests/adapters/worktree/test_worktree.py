"""The tree recorded and restored exactly, with real git: filters, modes, links, the index."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from tests.conftest import git

from perfinvest.adapters import worktree as wt
from perfinvest.core.errors import PerfError


def _info(repo: Path) -> wt.RepoInfo:
    return wt.inspect_repo(repo, repo / ".claude" / "perf")


def _snap(repo: Path, tmp_path: Path) -> wt.Snapshot:
    return wt.take_snapshot(_info(repo), tmp_path / "store", "refs/perfinvest/snapshots/t-1")


def test_filters_do_not_change_a_byte(repo: Path, tmp_path: Path) -> None:
    """autocrlf and a clean filter would rewrite bytes through `git add`; raw hashing does not."""
    git(repo, "config", "core.autocrlf", "true")
    (repo / ".gitattributes").write_text("*.txt text eol=crlf\n*.up filter=upper\n")
    git(repo, "config", "filter.upper.clean", "tr a-z A-Z")
    git(repo, "config", "filter.upper.smudge", "cat")
    mixed = b"line one\nline two\r\nlone cr\rend"
    (repo / "mixed.txt").write_bytes(mixed)
    (repo / "shout.up").write_bytes(b"quiet words\n")
    snap = _snap(repo, tmp_path)
    (repo / "mixed.txt").write_bytes(b"changed\n")
    (repo / "shout.up").unlink()
    wt.restore(_info(repo), snap)
    assert (repo / "mixed.txt").read_bytes() == mixed
    assert (repo / "shout.up").read_bytes() == b"quiet words\n"
    assert wt.verify(_info(repo), snap).verified


def test_modes_symlinks_and_type_changes_come_back(repo: Path, tmp_path: Path) -> None:
    (repo / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (repo / "run.sh").chmod(0o700)
    (repo / "private.txt").write_text("secret\n")
    (repo / "private.txt").chmod(0o600)
    os.symlink("app.py", repo / "link")
    (repo / "dir").mkdir()
    (repo / "dir" / "inner.txt").write_text("inner\n")
    snap = _snap(repo, tmp_path)
    (repo / "run.sh").chmod(0o644)
    (repo / "private.txt").write_text("leaked\n")
    (repo / "private.txt").chmod(0o644)
    (repo / "link").unlink()
    (repo / "link").mkdir()  # a symlink replaced by a directory
    (repo / "link" / "x").write_text("x")
    (repo / "dir" / "inner.txt").unlink()
    (repo / "dir").rmdir()
    (repo / "dir").write_text("a file where a folder was\n")
    wt.restore(_info(repo), snap)
    assert (repo / "run.sh").stat().st_mode & 0o777 == 0o700
    assert (repo / "private.txt").read_text() == "secret\n"
    assert (repo / "private.txt").stat().st_mode & 0o777 == 0o600
    assert (repo / "link").is_symlink() and os.readlink(repo / "link") == "app.py"
    assert (repo / "dir" / "inner.txt").read_text() == "inner\n"
    assert wt.verify(_info(repo), snap).verified


def test_index_with_intent_to_add_is_restored_byte_for_byte(repo: Path, tmp_path: Path) -> None:
    (repo / "later.py").write_text("later\n")
    git(repo, "add", "-N", "later.py")
    (repo / "app.py").write_text("staged\n")
    git(repo, "add", "app.py")
    listing = git(repo, "ls-files", "-s", "--debug")
    snap = _snap(repo, tmp_path)
    git(repo, "add", "-A")
    git(repo, "rm", "-q", "--cached", "bench.py")
    assert not wt.verify(_info(repo), snap).index_same
    wt.restore(_info(repo), snap)
    assert (
        git(repo, "ls-files", "-s")
        == "\n".join(line for line in listing.splitlines() if not line.startswith(" ")) + "\n"
    )
    assert "later.py" in git(repo, "diff", "--name-only")  # still intent-to-add
    assert wt.verify(_info(repo), snap).verified


def test_verify_reports_every_kind_of_difference(repo: Path, tmp_path: Path) -> None:
    (repo / "notes.txt").write_text("untracked\n")
    snap = _snap(repo, tmp_path)
    (repo / "notes.txt").unlink()
    (repo / "app.py").write_text("other\n")
    git(repo, "add", "app.py")
    git(repo, "commit", "-qm", "a real commit during the experiment")
    check = wt.verify(_info(repo), snap)
    assert not check.verified
    assert not check.head_same and not check.files_identical and not check.untracked_back
    assert any("HEAD advanced by 1 commit" in p for p in check.problems)


def test_the_worktree_holds_the_recorded_state(repo: Path, tmp_path: Path) -> None:
    (repo / "app.py").write_text("uncommitted\n")
    (repo / "new.txt").write_text("untracked\n")
    snap = _snap(repo, tmp_path)
    where = tmp_path / f"{wt.WORKTREE_PREFIX}t-1"
    wt.add_worktree(_info(repo), snap, where)
    assert (where / "app.py").read_text() == "uncommitted\n"
    assert (where / "new.txt").read_text() == "untracked\n"
    assert where in wt.stale_worktrees(repo)
    assert wt.remove_worktree(repo, where) and not where.exists()
    assert wt.stale_worktrees(repo) == []


def test_a_nested_repository_is_refused(repo: Path) -> None:
    nested = repo / "vendor"
    nested.mkdir()
    subprocess.run(["git", "init", "-q", str(nested)], check=True)
    (nested / "f").write_text("f")
    with pytest.raises(PerfError, match="nested git repository"):
        wt.scan(_info(repo))


def test_outside_git_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PerfError, match="not a git work tree"):
        wt.inspect_repo(tmp_path, tmp_path / ".claude" / "perf")


def test_the_perf_state_is_never_part_of_the_tree(repo: Path, tmp_path: Path) -> None:
    perf = repo / ".claude" / "perf"
    perf.mkdir(parents=True)
    (perf / "investigation.json").write_text("{}")
    snap = _snap(repo, tmp_path)
    assert not any(p.startswith(".claude/perf") for p in snap.manifest())
    (perf / "investigation.json").write_text('{"changed": true}')
    assert wt.current_change(_info(repo), snap).files == ()


def _capture(repo: Path, snap: wt.Snapshot) -> wt.Manifest:
    change = wt.current_change(_info(repo), snap)
    return wt.kept_change(wt.keep_change(_info(repo), snap, change))


def test_undo_takes_out_only_the_change_and_keeps_every_later_edit(
    repo: Path, tmp_path: Path
) -> None:
    """Each row of the restore table, with real git merge-file."""
    ten = "".join(f"l{i}\n" for i in range(10))
    for name in ("merge.txt", "clash.txt", "back.txt", "gone.txt", "mine.txt"):
        (repo / name).write_text(ten)
    (repo / "blob.bin").write_bytes(b"\0binary\0")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "files")
    snap = _snap(repo, tmp_path)
    # the experiment's change
    for name in ("merge.txt", "clash.txt", "back.txt"):
        (repo / name).write_text(ten.replace("l1\n", "experiment\n"))
    (repo / "blob.bin").write_bytes(b"\0experiment\0")
    (repo / "gone.txt").unlink()
    (repo / "added.txt").write_text("experiment's\n")
    (repo / "added-then-edited.txt").write_text("experiment's\n")
    captured = _capture(repo, snap)
    assert git(repo, "for-each-ref", "refs/perfinvest").count("\n") == 2  # both kept alive
    # the user's edits after the capture
    (repo / "merge.txt").write_text(ten.replace("l1\n", "experiment\n").replace("l8", "mine"))
    (repo / "clash.txt").write_text(ten.replace("l1\n", "mine\n"))
    (repo / "blob.bin").write_bytes(b"\0mine\0")
    (repo / "mine.txt").write_text("the user's own file\n")
    (repo / "new-of-mine.txt").write_text("new\n")
    (repo / "added-then-edited.txt").write_text("edited by me\n")
    (repo / ".back.txt.tmp").write_text("a restore killed mid-write")
    save = tmp_path / "saved"
    done = wt.undo_change(_info(repo), snap, captured, save)

    assert (repo / "merge.txt").read_text() == ten.replace("l8", "mine")  # merged
    assert (repo / "clash.txt").read_text() == ten  # conflict: recorded back ...
    assert (save / "clash.txt").read_text() == ten.replace("l1\n", "mine\n")  # ... mine saved
    assert (repo / "blob.bin").read_bytes() == b"\0binary\0"  # binary: no merge
    assert (save / "blob.bin").read_bytes() == b"\0mine\0"
    assert (repo / "back.txt").read_text() == ten and (repo / "gone.txt").read_text() == ten
    assert not (repo / "added.txt").exists() and not (repo / ".back.txt.tmp").exists()
    assert not (repo / "added-then-edited.txt").exists()
    assert (save / "added-then-edited.txt").read_text() == "edited by me\n"
    assert (repo / "mine.txt").read_text() == "the user's own file\n"  # never touched
    assert (repo / "new-of-mine.txt").read_text() == "new\n"
    assert sorted(done.kept) == ["mine.txt", "new-of-mine.txt"]
    assert done.merged == ["merge.txt"]
    assert sorted(done.conflicts) == ["added-then-edited.txt", "blob.bin", "clash.txt"]
    assert sorted(done.saved) == ["added-then-edited.txt", "blob.bin", "clash.txt", "merge.txt"]
    # verified against what must be there; the plain snapshot check sees the user's files
    assert wt.verify(_info(repo), snap, done.expected).verified
    assert not wt.verify(_info(repo), snap).verified
    wt.drop_ref(repo, snap.ref)
    assert git(repo, "for-each-ref", "refs/perfinvest") == ""


def test_undo_with_no_later_edit_is_the_exact_restore(repo: Path, tmp_path: Path) -> None:
    (repo / "notes.txt").write_text("untracked\n")
    snap = _snap(repo, tmp_path)
    (repo / "app.py").write_text("experiment\n")
    (repo / "notes.txt").unlink()
    captured = _capture(repo, snap)
    done = wt.undo_change(_info(repo), snap, captured, tmp_path / "saved")
    assert done.kept == [] and done.saved == [] and not (tmp_path / "saved").exists()
    assert wt.verify(_info(repo), snap).verified
    assert done.expected == snap.manifest()


def test_undo_keeps_index_changes_made_after_the_capture(repo: Path, tmp_path: Path) -> None:
    """`git add` / `git rm --cached` after a crash are the user's; the experiment's go back."""
    (repo / "notes.txt").write_text("untracked\n")
    (repo / "mine.py").write_text("MINE = 0\n")
    git(repo, "add", "mine.py")
    git(repo, "commit", "-qm", "mine")
    snap = _snap(repo, tmp_path)
    (repo / "app.py").write_text("experiment\n")
    git(repo, "add", "app.py")  # the experiment staged its own change
    captured = _capture(repo, snap)
    # after the crash: the user stages a new version of their file and an untracked one
    (repo / "mine.py").write_text("MINE = 1\n")
    git(repo, "add", "mine.py", "notes.txt")
    git(repo, "rm", "-q", "--cached", "bench.py")
    done = wt.undo_change(_info(repo), snap, captured, tmp_path / "saved")
    staged = git(repo, "diff", "--cached", "--name-status")
    assert "mine.py" in staged and "notes.txt" in staged and "D\tbench.py" in staged
    assert "app.py" not in staged  # the experiment's staging is undone
    assert (repo / "app.py").read_text() == "print('hello')\n"
    assert sorted(done.index_kept) == ["bench.py", "mine.py", "notes.txt"]
    check = wt.verify(_info(repo), snap, done.expected, done.expected_index)
    assert check.verified, check.problems
