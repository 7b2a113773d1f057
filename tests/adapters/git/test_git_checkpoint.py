"""Checkpoint commits against real git repositories in tmp_path (no mocks of git)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from perfinvest.adapters.git.checkpoint import (
    CheckpointResult,
    checkpoint_commit,
    find_repo_root,
)
from perfinvest.core.errors import ExitCode, PerfError

PERF_FILES = (".claude/perf/investigation.json", ".claude/perf/investigations/inv1.md")
TRAILERS = {"Perf-Phase": "baseline", "Perf-Baseline": "v1.2", "Perf-Delta": "-3.1%"}


@pytest.fixture(autouse=True)
def hermetic_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Ignore the machine's git config and any git variables of the calling process."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for name in (
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "EMAIL",
    ):
        monkeypatch.delenv(name, raising=False)


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    )
    return proc.stdout


def git_fails(repo: Path, *args: str) -> bool:
    proc = subprocess.run(["git", "-C", str(repo), *args], check=False, capture_output=True)
    return proc.returncode != 0


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Ada User")
    git(root, "config", "user.email", "ada@example.com")
    write(root / "README.md", "hello\n")
    write(root / "src/app.py", "print('v1')\n")
    write(root / "staged.txt", "one\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "initial")
    return root


def perf_paths(root: Path, version: str = "1") -> list[Path]:
    write(root / PERF_FILES[0], f'{{"format": 1, "v": {version}}}\n')
    write(root / PERF_FILES[1], f"# inv1\n\nentry {version}\n")
    return [root / p for p in PERF_FILES]


def checkpoint(root: Path, paths: list[Path]) -> CheckpointResult:
    return checkpoint_commit(root, paths, "perf(inv1): baseline", TRAILERS)


def head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").strip()


def changed_in_head(root: Path) -> list[str]:
    return sorted(lines(git(root, "diff-tree", "--no-commit-id", "--name-only", "-r", "HEAD")))


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Bytes and mtime of every work-tree file: proves the tree is never written."""
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def test_acceptance_commit_holds_only_perf_files_and_user_state_is_untouched(
    repo: Path,
) -> None:
    write(repo / "src/app.py", "print('dirty, unstaged')\n")  # dirty tracked file
    write(repo / "staged.txt", "two\n")  # staged unrelated change
    git(repo, "add", "staged.txt")
    write(repo / "notes.txt", "untracked\n")  # untracked file
    paths = perf_paths(repo)
    old_head = head(repo)
    status_before = lines(git(repo, "status", "--porcelain", "--untracked-files=all"))
    cached_patch = git(repo, "diff", "--cached")
    unstaged_patch = git(repo, "diff")
    tree_before = snapshot(repo)

    result = checkpoint(repo, paths)

    assert result.committed, result.reason
    assert result.reason is None
    assert result.sha == head(repo) == git(repo, "rev-parse", "refs/heads/main").strip()
    assert git(repo, "rev-parse", "HEAD^").strip() == old_head
    assert git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert result.files == PERF_FILES
    assert changed_in_head(repo) == sorted(PERF_FILES)
    assert lines(git(repo, "show", "--name-only", "--format=", "HEAD")) == sorted(PERF_FILES)
    for rel in PERF_FILES:
        assert git(repo, "show", f"HEAD:{rel}") == (repo / rel).read_text()
    # The user's files, staged state and working tree: exactly as before.
    assert snapshot(repo) == tree_before
    assert git(repo, "diff", "--cached") == cached_patch
    assert git(repo, "diff") == unstaged_patch
    assert lines(git(repo, "diff", "--cached", "--name-only")) == ["staged.txt"]
    status_after = lines(git(repo, "status", "--porcelain", "--untracked-files=all"))
    assert status_after == [s for s in status_before if ".claude/" not in s]
    # The real index agrees with the new HEAD on the perf paths...
    staged = git(repo, "ls-files", "--stage", "--", *PERF_FILES)
    in_head = git(repo, "ls-tree", "-r", "HEAD", "--", *PERF_FILES)
    assert [s.split()[:2] for s in lines(staged)] == [t.split()[:3:2] for t in lines(in_head)]
    # ...so the user's next commit neither deletes nor re-adds them.
    git(repo, "commit", "-q", "-m", "user work")
    assert changed_in_head(repo) == ["staged.txt"]
    assert git(repo, "show", "HEAD:src/app.py") == "print('v1')\n"


def test_commit_message_trailers_and_identity(repo: Path) -> None:
    result = checkpoint(repo, perf_paths(repo))

    assert result.committed
    assert git(repo, "log", "-1", "--format=%s").strip() == "perf(inv1): baseline"
    assert git(repo, "log", "-1", "--format=%(trailers)").strip().splitlines() == [
        "Perf-Phase: baseline",
        "Perf-Baseline: v1.2",
        "Perf-Delta: -3.1%",
    ]
    assert git(repo, "log", "-1", "--format=%(trailers:key=Perf-Phase,valueonly)").strip() == (
        "baseline"
    )
    assert git(repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>").strip() == (
        "Ada User <ada@example.com>|Ada User <ada@example.com>"
    )
    assert "perfinvest checkpoint" in git(repo, "reflog", "-1", "main")


def test_missing_identity_falls_back_to_perfinvest(repo: Path) -> None:
    git(repo, "config", "--unset", "user.name")
    git(repo, "config", "--unset", "user.email")

    result = checkpoint(repo, perf_paths(repo))

    assert result.committed, result.reason
    assert (
        git(repo, "log", "-1", "--format=%an <%ae>").strip() == "perfinvest <perfinvest@localhost>"
    )
    assert "user." not in git(repo, "config", "--list")  # the fallback is never persisted


def test_git_ignored_state_is_skipped_never_force_added(repo: Path) -> None:
    """F8: .gitignore is honoured; the answer names the rule that ignores the state."""
    write(repo / ".gitignore", "build/\n.claude/\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-q", "-m", "ignore state")
    before = head(repo)

    result = checkpoint(repo, perf_paths(repo))

    assert not result.committed
    assert result.reason is not None
    assert result.reason.startswith(f"{PERF_FILES[0]} (and 1 more) is git-ignored")
    assert "(.gitignore:2: .claude/)" in result.reason and "--no-checkpoint" in result.reason
    assert head(repo) == before
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(repo, "ls-files", ".claude") == ""


def test_un_ignored_or_tracked_state_is_committed(repo: Path) -> None:
    write(repo / ".gitignore", ".claude/*\n!.claude/perf/\n")  # the documented way out
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-q", "-m", "ignore .claude but the perf state")
    assert checkpoint(repo, perf_paths(repo, "1")).committed
    # Ignoring it later does not stop the files already tracked (git's own rule)...
    write(repo / ".gitignore", ".claude/\n")
    git(repo, "commit", "-q", "-am", "ignore all of .claude")
    assert checkpoint(repo, perf_paths(repo, "2")).committed
    assert "2" in git(repo, "show", f"HEAD:{PERF_FILES[0]}")
    # ...but a new, untracked state file under the ignored folder is not force-added.
    extra = write(repo / ".claude/perf/baselines/v1.json", "{}\n")
    refused = checkpoint(repo, [*perf_paths(repo, "3"), extra])
    assert not refused.committed
    assert refused.reason is not None
    assert refused.reason.startswith(".claude/perf/baselines/v1.json is git-ignored")


def test_checkpoints_turned_off_in_git_config(repo: Path) -> None:
    git(repo, "config", "perfinvest.checkpoints", "false")
    before = head(repo)

    result = checkpoint(repo, perf_paths(repo))

    assert not result.committed and result.reason is not None
    assert "perfinvest.checkpoints false" in result.reason
    assert head(repo) == before


def test_second_checkpoint_without_change_is_skipped(repo: Path) -> None:
    paths = perf_paths(repo)
    first = checkpoint(repo, paths)
    after_first = head(repo)

    second = checkpoint(repo, paths)

    assert first.committed
    assert second == CheckpointResult(False, None, "nothing new to checkpoint", ())
    assert head(repo) == after_first


def test_changed_perf_file_is_committed_again(repo: Path) -> None:
    paths = perf_paths(repo)
    first = checkpoint(repo, paths)
    write(paths[1], "# inv1\n\nentry 1\nentry 2\n")
    assert git(repo, "status", "--porcelain") == f" M {PERF_FILES[1]}\n"

    second = checkpoint(repo, paths)

    assert second.committed, second.reason
    assert git(repo, "rev-parse", "HEAD^").strip() == first.sha
    assert changed_in_head(repo) == [PERF_FILES[1]]
    assert second.files == PERF_FILES  # everything included, only one of them changed
    assert git(repo, "show", f"HEAD:{PERF_FILES[1]}").endswith("entry 2\n")
    assert git(repo, "status", "--porcelain") == ""


def test_missing_paths_are_left_out(repo: Path) -> None:
    paths = perf_paths(repo)
    paths[1].unlink()
    never_written = repo / ".claude/perf/baselines/v1.json"

    result = checkpoint(repo, [*paths, never_written])

    assert result.committed
    assert result.files == (PERF_FILES[0],)
    assert changed_in_head(repo) == [PERF_FILES[0]]


def test_no_existing_paths_means_nothing_new(repo: Path) -> None:
    result = checkpoint(repo, [repo / ".claude/perf/investigation.json"])

    assert result == CheckpointResult(False, None, "nothing new to checkpoint", ())


def test_relative_paths_are_relative_to_repo_root_and_pathspec_magic_is_literal(
    repo: Path,
) -> None:
    # Without --literal-pathspecs, ":x.json" is pathspec magic for "x.json", a user file.
    write(repo / ":x.json", "{}\n")
    write(repo / "x.json", "user file, not ours\n")
    write(repo / ".claude/perf/a*.json", "{}\n")
    write(repo / ".claude/perf/ab.json", "user file, not ours\n")

    result = checkpoint(repo, [Path(":x.json"), Path(".claude/perf/a*.json")])

    assert result.committed
    assert changed_in_head(repo) == [".claude/perf/a*.json", ":x.json"]
    assert lines(git(repo, "status", "--porcelain", "--untracked-files=all")) == [
        "?? .claude/perf/ab.json",
        "?? x.json",
    ]


def test_outside_a_repository_is_skipped(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    paths = perf_paths(plain)

    result = checkpoint(plain, paths)

    assert not result.committed
    assert result.sha is None
    assert result.reason is not None
    assert "not inside a git work tree" in result.reason


def test_git_not_installed_is_skipped(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = perf_paths(repo)
    monkeypatch.setenv("PATH", str(repo / "no-bin-here"))

    assert checkpoint(repo, paths).reason == "git is not installed"
    assert find_repo_root(repo) is None


def test_unborn_head_is_skipped(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    paths = perf_paths(root)

    result = checkpoint(root, paths)

    assert result == CheckpointResult(False, None, "repository has no commits yet", ())
    assert git(root, "for-each-ref") == ""
    assert git(root, "ls-files") == ""


def test_detached_head_is_skipped(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    before = head(repo)

    result = checkpoint(repo, perf_paths(repo))

    assert not result.committed
    assert result.reason is not None
    assert "detached" in result.reason
    assert head(repo) == before


def _diverge(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "other")
    write(repo / "README.md", "other\n")
    git(repo, "commit", "-q", "-am", "other")
    git(repo, "checkout", "-q", "main")
    write(repo / "README.md", "main\n")
    git(repo, "commit", "-q", "-am", "main")


def test_merge_in_progress_is_skipped(repo: Path) -> None:
    _diverge(repo)
    assert git_fails(repo, "merge", "-q", "other")  # conflict: the merge stays in progress
    before = head(repo)

    result = checkpoint(repo, perf_paths(repo))

    assert result.reason == "a merge is in progress"
    assert head(repo) == before
    assert (repo / ".git/MERGE_HEAD").exists()


def test_rebase_in_progress_is_skipped(repo: Path) -> None:
    _diverge(repo)
    assert git_fails(repo, "rebase", "-q", "other")  # conflict: the rebase stays in progress

    result = checkpoint(repo, perf_paths(repo))

    assert result.reason is not None
    assert "rebase" in result.reason


def test_locked_index_is_skipped_before_committing(repo: Path) -> None:
    (repo / ".git/index.lock").write_text("")
    before = head(repo)

    result = checkpoint(repo, perf_paths(repo))

    assert result.reason is not None
    assert "index is locked" in result.reason
    assert head(repo) == before


def test_commit_hooks_are_not_run_and_the_answer_says_so(repo: Path) -> None:
    """F8: failing hooks do not stop a checkpoint, and the result names them."""
    ran = repo / "hook-ran"
    for hook in ("pre-commit", "commit-msg"):
        write(repo / ".git/hooks" / hook, f"#!/bin/sh\ntouch {ran}\nexit 1\n").chmod(0o755)
    write(repo / ".git/hooks/post-commit", "#!/bin/sh\nexit 0\n")  # not executable

    result = checkpoint(repo, perf_paths(repo))

    assert result.committed
    assert not ran.exists()
    assert result.notes == (
        "commit hooks not run (pre-commit, commit-msg): checkpoints hold only perfinvest's "
        "state files and never run hooks (docs/checkpoints.md)",
    )
    assert checkpoint(repo, perf_paths(repo, "2")).notes  # said every time, not once
    git(repo, "config", "core.hooksPath", "/nonexistent")  # hooksPath is where git looks
    assert checkpoint(repo, perf_paths(repo, "3")).notes == ()


def test_no_hooks_no_note(repo: Path) -> None:
    assert checkpoint(repo, perf_paths(repo)).notes == ()


def test_paths_outside_the_repository_are_skipped(repo: Path, tmp_path: Path) -> None:
    elsewhere = write(tmp_path / "state/perf/investigation.json", "{}\n")
    before = head(repo)

    result = checkpoint(repo, [*perf_paths(repo), elsewhere])

    assert not result.committed
    assert result.reason is not None
    assert "outside the repository" in result.reason
    assert head(repo) == before


def test_directory_path_is_a_usage_error(repo: Path) -> None:
    perf_paths(repo)

    with pytest.raises(PerfError) as err:
        checkpoint(repo, [repo / ".claude/perf"])

    assert err.value.code == ExitCode.USAGE


@pytest.mark.parametrize(
    ("message", "trailers"),
    [("  \n", {}), ("perf(x): setup", {"Bad Key": "v"}), ("perf(x): setup", {"K": "a\nb"})],
)
def test_bad_message_or_trailer_is_a_usage_error(
    repo: Path, message: str, trailers: dict[str, str]
) -> None:
    with pytest.raises(PerfError) as err:
        checkpoint_commit(repo, perf_paths(repo), message, trailers)

    assert err.value.code == ExitCode.USAGE


def test_find_repo_root(repo: Path, tmp_path: Path) -> None:
    top = Path(git(repo, "rev-parse", "--show-toplevel").strip())

    assert find_repo_root(repo) == top
    assert find_repo_root(repo / "src") == top
    assert find_repo_root(repo / "src/app.py") == top
    assert find_repo_root(tmp_path) is None
    assert find_repo_root(tmp_path / "does/not/exist") is None


# --- F6: a SIGKILL between the index update and the branch move ------------------------

_CHECKPOINT_SCRIPT = """
import sys
from pathlib import Path
from perfinvest.adapters.git.checkpoint import checkpoint_commit
root = Path(sys.argv[1])
paths = [root / p for p in sys.argv[2:]]
print(checkpoint_commit(root, paths, "perf(inv1): profiling", {"Perf-Phase": "profiling"}))
"""


def _killing_git(tmp_path: Path, on: str) -> dict[str, str]:
    """PATH with a real ``git`` wrapper that SIGKILLs its caller when asked to run ``on``.

    The caller is the Python process running the checkpoint (git is run without a shell),
    so the kill lands exactly before that git command, as a crash or OOM kill would.
    """
    real = subprocess.run(["which", "git"], check=True, capture_output=True, text=True)
    folder = tmp_path / "killing-git"
    write(
        folder / "git",
        f'#!/bin/sh\nfor a in "$@"; do [ "$a" = {on} ] && kill -9 $PPID && exit 99; done\n'
        f'exec {real.stdout.strip()} "$@"\n',
    ).chmod(0o755)
    return {**os.environ, "PATH": f"{folder}:{os.environ['PATH']}"}


def _checkpoint_in_subprocess(root: Path, env: dict[str, str] | None = None) -> int:
    src = str(Path(__file__).resolve().parents[3] / "src")
    run_env = {**(env or os.environ), "PYTHONPATH": src}
    proc = subprocess.run(
        [sys.executable, "-c", _CHECKPOINT_SCRIPT, str(root), *PERF_FILES],
        env=run_env,
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.returncode


@pytest.mark.parametrize("killed_at", ["update-index", "update-ref"])
def test_sigkill_mid_checkpoint_never_rolls_back_the_perf_files(
    repo: Path, tmp_path: Path, killed_at: str
) -> None:
    """F6: a checkpoint SIGKILLed right before ``killed_at``, then the user commits their work.

    Whatever the kill point, the user's next ``git commit`` must not carry an older version
    of a perf file than its parent holds (the rollback the issue saw as ``MM``).
    """
    perf_paths(repo, "1")
    assert _checkpoint_in_subprocess(repo) == 0
    first = head(repo)
    perf_paths(repo, "2")  # the next phase wrote new state; its checkpoint is killed

    code = _checkpoint_in_subprocess(repo, _killing_git(tmp_path, killed_at))

    assert code == -signal.SIGKILL
    assert head(repo) == first  # the branch never moved before the index did
    assert (repo / ".git/perfinvest-checkpoint.json").is_file()  # the journal survived
    status = lines(git(repo, "status", "--porcelain"))
    assert all(not s.startswith("MM") for s in status), status
    staged = {rel: git(repo, "show", f":{rel}") for rel in PERF_FILES}
    assert all(text in {git(repo, "show", f"HEAD:{rel}"), (repo / rel).read_text()}
               for rel, text in staged.items())  # fmt: skip

    # The user's everyday next step commits their file; the perf files never go back.
    write(repo / "a.txt", "user work\n")
    git(repo, "add", "a.txt")
    git(repo, "commit", "-q", "-m", "user work")
    for rel in PERF_FILES:
        committed = git(repo, "show", f"HEAD:{rel}")
        assert committed in {git(repo, "show", f"HEAD^:{rel}"), (repo / rel).read_text()}
        if killed_at == "update-ref":  # the index was already updated: v2 goes along
            assert committed == (repo / rel).read_text()

    # The next checkpoint drops the stale journal instead of undoing the user's commit.
    result = checkpoint(repo, perf_paths(repo, "3"))
    assert result.committed, result.reason
    assert result.notes == ("dropped an interrupted checkpoint",)
    assert git(repo, "show", "HEAD^:a.txt") == "user work\n"
    assert git(repo, "status", "--porcelain") == ""
    for rel in PERF_FILES:
        assert git(repo, "show", f"HEAD:{rel}") == (repo / rel).read_text()
    assert not (repo / ".git/perfinvest-checkpoint.json").exists()


def test_sigkilled_checkpoint_is_finished_by_the_next_one(repo: Path, tmp_path: Path) -> None:
    perf_paths(repo, "1")
    assert _checkpoint_in_subprocess(repo) == 0
    first = head(repo)
    perf_paths(repo, "2")
    assert _checkpoint_in_subprocess(repo, _killing_git(tmp_path, "update-ref")) < 0
    interrupted = json.loads((repo / ".git/perfinvest-checkpoint.json").read_text())["new"]

    result = checkpoint(repo, perf_paths(repo, "2"))  # same files: only the repair is left

    assert result.notes == (f"finished the interrupted checkpoint {interrupted[:12]}",)
    assert head(repo) == interrupted
    assert git(repo, "rev-parse", "HEAD^").strip() == first
    assert git(repo, "log", "-1", "--format=%s").strip() == "perf(inv1): profiling"
    assert git(repo, "status", "--porcelain") == ""
    assert not (repo / ".git/perfinvest-checkpoint.json").exists()


def test_sigkill_before_the_index_update_leaves_the_user_state_alone(
    repo: Path, tmp_path: Path
) -> None:
    perf_paths(repo, "1")
    assert _checkpoint_in_subprocess(repo) == 0
    first = head(repo)
    perf_paths(repo, "2")

    assert _checkpoint_in_subprocess(repo, _killing_git(tmp_path, "update-index")) < 0

    assert head(repo) == first
    assert lines(git(repo, "status", "--porcelain")) == [f" M {p}" for p in PERF_FILES]
    result = checkpoint(repo, perf_paths(repo, "2"))
    # The repair made the interrupted commit; the same files leave nothing new after it.
    assert result.notes[0].startswith("finished the interrupted checkpoint")
    assert result.reason == "nothing new to checkpoint"
    assert git(repo, "rev-parse", "HEAD^").strip() == first
    assert git(repo, "status", "--porcelain") == ""


# --- F8: signing follows the user (commit.gpgsign) ---------------------------------------


@pytest.fixture
def gpg_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A real ed25519 signing key in a throwaway GNUPGHOME (short path: agent socket)."""
    if shutil.which("gpg") is None:
        pytest.skip("gpg is not installed")
    home = tempfile.mkdtemp(prefix="pgpg", dir="/tmp")
    os.chmod(home, 0o700)
    monkeypatch.setenv("GNUPGHOME", home)
    subprocess.run(
        ["gpg", "--batch", "--passphrase", "", "--quick-gen-key",
         "Ada User <ada@example.com>", "ed25519", "sign", "never"],
        check=True, capture_output=True,
    )  # fmt: skip
    listed = subprocess.run(
        ["gpg", "--batch", "--with-colons", "--list-secret-keys"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    fingerprint = next(line.split(":")[9] for line in listed.splitlines() if line[:3] == "fpr")
    yield fingerprint
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], check=False, capture_output=True)
    shutil.rmtree(home, ignore_errors=True)


def test_checkpoint_is_signed_when_the_user_signs(repo: Path, gpg_key: str) -> None:
    git(repo, "config", "user.signingkey", gpg_key)
    git(repo, "config", "commit.gpgsign", "true")

    result = checkpoint(repo, perf_paths(repo))

    assert result.committed and result.signed, result.reason
    verified = subprocess.run(
        ["git", "-C", str(repo), "verify-commit", "--raw", "HEAD"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    assert f"VALIDSIG {gpg_key}" in verified.stderr
    assert git(repo, "log", "-1", "--format=%G?").strip() in {"G", "U"}


def test_unsigned_checkpoint_when_the_user_does_not_sign(repo: Path) -> None:
    result = checkpoint(repo, perf_paths(repo))

    assert result.committed and not result.signed
    assert git(repo, "log", "-1", "--format=%G?").strip() == "N"


def test_signing_failure_skips_never_commits_unsigned(repo: Path, tmp_path: Path) -> None:
    git(repo, "config", "commit.gpgsign", "true")
    git(repo, "config", "user.signingkey", "0000000000000000DEADBEEF00000000DEADBEEF")
    git(repo, "config", "gpg.program", str(tmp_path / "no-such-gpg"))
    before = head(repo)
    status = git(repo, "status", "--porcelain")

    result = checkpoint(repo, perf_paths(repo))

    assert not result.committed and result.reason is not None
    assert result.reason.startswith("commit.gpgsign is set but signing failed")
    assert "never made unsigned" in result.reason
    assert head(repo) == before
    assert git(repo, "status", "--porcelain") == status + "".join(
        f"?? {p.split('/')[0]}/\n" for p in PERF_FILES[:1]
    )
