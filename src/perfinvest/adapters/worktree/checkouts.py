"""Baseline-side worktrees and kept patches."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

from perfinvest.adapters.worktree.manifest import materialize
from perfinvest.adapters.worktree.plumbing import WORKTREE_PREFIX, _git, _run, _text
from perfinvest.adapters.worktree.repo import RepoInfo
from perfinvest.adapters.worktree.snapshot import Snapshot
from perfinvest.core.errors import environment_error, refused

# --------------------------------------------------------------------------- worktrees


def add_worktree(info: RepoInfo, snapshot: Snapshot, path: Path) -> None:
    """A detached worktree at the recorded commit holding the recorded files exactly."""
    if path.exists() and any(path.iterdir()):
        raise environment_error(f"worktree folder {path} is not empty")
    with contextlib.suppress(OSError):
        path.rmdir()
    _git(info.top, "worktree", "add", "--detach", "--no-checkout", str(path), snapshot.head)
    _git(path, "read-tree", snapshot.head)
    manifest = snapshot.manifest()
    materialize(info.top, manifest, path, list(manifest))


def add_commit_worktree(repo: Path, commit: str, path: Path) -> None:
    """A detached worktree of ``commit`` as committed (``ci compare``'s base and head sides).

    Name ``path`` with :data:`WORKTREE_PREFIX` so ``recover`` removes it after a kill.
    """
    _git(repo, "worktree", "add", "--detach", "-q", str(path), commit)


def remove_worktree(repo: Path, path: Path) -> bool:
    """Remove a worktree (registered or not); True when something was removed."""
    removed = False
    if path.exists():
        _run(repo, "worktree", "remove", "--force", "--force", str(path))
        if path.exists():
            shutil.rmtree(path, ignore_errors=True)
        removed = True
    _run(repo, "worktree", "prune")
    return removed


def stale_worktrees(repo: Path) -> list[Path]:
    """perfinvest baseline-side worktrees registered in ``repo`` (left by a crash)."""
    proc = _run(repo, "worktree", "list", "--porcelain")
    if proc.returncode != 0:
        return []
    found = []
    for line in proc.stdout.decode("utf-8", "surrogateescape").splitlines():
        if line.startswith("worktree "):
            path = Path(line.removeprefix("worktree "))
            if path.name.startswith(WORKTREE_PREFIX):
                found.append(path)
    return found


# --------------------------------------------------------------------------- patches


def apply_patch(repo: Path, patch: Path) -> list[str]:
    """Apply a kept change's patch to the working tree; refuse with git's reason if not clean."""
    check = _run(repo, "apply", "--check", "--binary", "--whitespace=nowarn", str(patch))
    if check.returncode != 0:
        reason = check.stderr.decode("utf-8", "replace").strip().splitlines()
        raise refused(
            f"the patch {patch} does not apply cleanly to the working tree: "
            f"{'; '.join(reason[:3]) or 'git apply --check failed'}"
        )
    _git(repo, "apply", "--binary", "--whitespace=nowarn", str(patch))
    stat_out = _text(repo, "apply", "--numstat", str(patch))
    return [line.split("\t")[-1] for line in stat_out.splitlines() if line]
