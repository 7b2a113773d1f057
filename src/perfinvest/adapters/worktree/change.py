"""The experiment's change: the recorded tree against the working tree now."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from perfinvest.adapters.worktree.manifest import (
    Manifest,
    _write_file,
    manifest_from_json,
    manifest_to_json,
    scan,
    tree_of,
)
from perfinvest.adapters.worktree.plumbing import _IDENTITY, _git, _text, _zsplit
from perfinvest.adapters.worktree.repo import RepoInfo
from perfinvest.adapters.worktree.snapshot import Snapshot, index_listing

# --------------------------------------------------------------------------- the change


@dataclass(frozen=True)
class Change:
    """What differs between the recorded tree and the working tree now."""

    tree: str
    files: tuple[tuple[str, str], ...]  # (status letter A/M/D/T, path)
    patch: bytes
    diffstat: str
    #: the working tree as captured (path → entry): what "holds the change" means later
    manifest: Manifest = field(default_factory=dict, compare=False)

    @property
    def paths(self) -> list[str]:
        return [path for _, path in self.files]


def current_change(info: RepoInfo, snapshot: Snapshot) -> Change:
    """The experiment's change: recorded tree → working tree, binary-safe, perf excluded."""
    manifest = scan(info)
    tree = tree_of(info, manifest)
    if tree == snapshot.tree:
        return Change(tree=tree, files=(), patch=b"", diffstat="", manifest=manifest)
    names = _zsplit(
        _git(
            info.top, "diff-tree", "-r", "-z", "--no-renames", "--name-status", snapshot.tree, tree
        )
    )
    files = tuple((names[i][0], names[i + 1]) for i in range(0, len(names) - 1, 2))
    patch = _git(info.top, "diff", "--binary", "--full-index", "--no-renames", snapshot.tree, tree)
    diffstat = _text(info.top, "diff", "--stat=100", "-M", snapshot.tree, tree)
    return Change(tree=tree, files=files, patch=patch, diffstat=diffstat, manifest=manifest)


CHANGE_MANIFEST = "change-manifest.json"
#: the index as it was when the change was captured (``git ls-files -s -z``)
CHANGE_INDEX = "change-index-listing.bin"


def change_ref(snapshot_ref: str) -> str:
    """The ref that keeps a captured change's objects alive next to its snapshot's."""
    return f"{snapshot_ref}-change"


def keep_change(info: RepoInfo, snapshot: Snapshot, change: Change) -> Path:
    """Record the captured working tree (manifest file + a ref on its tree); its path.

    A recovery compares every file with both the snapshot and this: only a file that still
    holds the experiment's change is put back; anything else is the user's.
    """
    path = snapshot.store / CHANGE_MANIFEST
    _write_file(snapshot.store / CHANGE_INDEX, index_listing(info))
    _write_file(path, manifest_to_json(change.manifest).encode())
    commit = _text(
        info.top,
        *_IDENTITY,
        "commit-tree",
        change.tree,
        "-p",
        snapshot.commit,
        "-m",
        "perfinvest: the experiment's change as captured",
    )
    _git(info.top, "update-ref", change_ref(snapshot.ref), commit)
    return path


def kept_change(path: Path) -> Manifest:
    """The manifest :func:`keep_change` recorded."""
    return manifest_from_json(path.read_text(encoding="utf-8"))


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
