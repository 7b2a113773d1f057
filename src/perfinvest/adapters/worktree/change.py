"""The experiment's change: the recorded tree against the working tree now."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from perfinvest.adapters.worktree.manifest import scan, tree_of
from perfinvest.adapters.worktree.plumbing import _git, _text, _zsplit
from perfinvest.adapters.worktree.repo import RepoInfo
from perfinvest.adapters.worktree.snapshot import Snapshot

# --------------------------------------------------------------------------- the change


@dataclass(frozen=True)
class Change:
    """What differs between the recorded tree and the working tree now."""

    tree: str
    files: tuple[tuple[str, str], ...]  # (status letter A/M/D/T, path)
    patch: bytes
    diffstat: str

    @property
    def paths(self) -> list[str]:
        return [path for _, path in self.files]


def current_change(info: RepoInfo, snapshot: Snapshot) -> Change:
    """The experiment's change: recorded tree → working tree, binary-safe, perf excluded."""
    manifest = scan(info)
    tree = tree_of(info, manifest)
    if tree == snapshot.tree:
        return Change(tree=tree, files=(), patch=b"", diffstat="")
    names = _zsplit(
        _git(
            info.top, "diff-tree", "-r", "-z", "--no-renames", "--name-status", snapshot.tree, tree
        )
    )
    files = tuple((names[i][0], names[i + 1]) for i in range(0, len(names) - 1, 2))
    patch = _git(info.top, "diff", "--binary", "--full-index", "--no-renames", snapshot.tree, tree)
    diffstat = _text(info.top, "diff", "--stat=100", "-M", snapshot.tree, tree)
    return Change(tree=tree, files=files, patch=patch, diffstat=diffstat)


def perf_state_digest(perf_dir: Path, volatile: Iterable[str]) -> dict[str, str]:
    """sha256 of the perf state files perfinvest does not rewrite during an experiment."""
    skip = tuple(volatile)
    digests: dict[str, str] = {}
    if not perf_dir.is_dir():
        return digests
    for path in sorted(perf_dir.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        rel = path.relative_to(perf_dir).as_posix()
        name = path.name
        if name.startswith(".") or any(rel == s or rel.startswith(f"{s}/") for s in skip):
            continue
        digests[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests
