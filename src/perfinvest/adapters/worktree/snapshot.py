"""The recorded tree: HEAD, the raw index and a manifest, kept alive by a ref."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from perfinvest.adapters.worktree.manifest import (
    Manifest,
    _write_file,
    manifest_from_json,
    manifest_to_json,
    scan,
    tree_of,
)
from perfinvest.adapters.worktree.plumbing import (
    _IDENTITY,
    SNAPSHOT_REF_PREFIX,
    _git,
    _run,
    _text,
    _zsplit,
)
from perfinvest.adapters.worktree.repo import RepoInfo

# --------------------------------------------------------------------------- snapshot


@dataclass(frozen=True)
class Snapshot:
    """The recorded tree: everything needed to put it back exactly."""

    head: str
    branch: str
    tree: str  # the working tree's files (perf state excluded)
    index_tree: str | None
    commit: str  # snapshot commit, kept alive by ``ref``
    ref: str
    store: Path  # folder with manifest.json, index.bin, index-listing.bin
    untracked: tuple[str, ...]
    staged: tuple[str, ...]  # index differs from HEAD
    modified: tuple[str, ...]  # working tree differs from the index
    files: int

    def to_json(self) -> dict[str, object]:
        return {
            "head": self.head,
            "branch": self.branch,
            "tree": self.tree,
            "index_tree": self.index_tree,
            "commit": self.commit,
            "ref": self.ref,
            "store": str(self.store),
            "untracked": list(self.untracked),
            "staged": list(self.staged),
            "modified": list(self.modified),
            "files": self.files,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, object]) -> Snapshot:
        def strings(key: str) -> tuple[str, ...]:
            value = raw.get(key) or []
            assert isinstance(value, list)
            return tuple(str(v) for v in value)

        index_tree = raw.get("index_tree")
        files = raw.get("files", 0)
        return cls(
            head=str(raw["head"]),
            branch=str(raw["branch"]),
            tree=str(raw["tree"]),
            index_tree=str(index_tree) if index_tree else None,
            commit=str(raw["commit"]),
            ref=str(raw["ref"]),
            store=Path(str(raw["store"])),
            untracked=strings("untracked"),
            staged=strings("staged"),
            modified=strings("modified"),
            files=int(files) if isinstance(files, int) else 0,
        )

    def manifest(self) -> Manifest:
        return manifest_from_json((self.store / "manifest.json").read_text(encoding="utf-8"))

    def index_listing(self) -> bytes:
        return (self.store / "index-listing.bin").read_bytes()


def _index_path(info: RepoInfo) -> Path:
    return Path(_text(info.top, "rev-parse", "--path-format=absolute", "--git-path", "index"))


def index_listing(info: RepoInfo, index_file: Path | None = None) -> bytes:
    """``git ls-files -s`` of an index (the real one by default), perf state excluded."""
    env = {"GIT_INDEX_FILE": str(index_file)} if index_file is not None else None
    return _git(info.top, "ls-files", "-s", "-z", *info.pathspec(), env=env)


def _paths_of_listing(listing: bytes) -> set[str]:
    return {entry.partition("\t")[2] for entry in _zsplit(listing)}


def take_snapshot(info: RepoInfo, store: Path, ref: str) -> Snapshot:
    """Record HEAD, the index and every file; writes only objects, a ref and ``store``."""
    store.mkdir(parents=True, exist_ok=True)
    index_file = _index_path(info)
    index_copy = store / "index.bin"
    if index_file.exists():
        _write_file(index_copy, index_file.read_bytes())
    else:
        _write_file(index_copy, b"")
    scratch = store / "index-scratch.bin"  # write-tree may rewrite its index: never the real one
    shutil.copyfile(index_copy, scratch)
    try:
        env = {"GIT_INDEX_FILE": str(scratch)}
        index_tree = _text(info.top, "write-tree", env=env) if index_file.exists() else None
        listing = index_listing(info, scratch)
        staged = _zsplit(
            _git(
                info.top,
                "diff-index",
                "--cached",
                "--name-only",
                "-z",
                "--no-renames",
                info.head,
                *info.pathspec(),
                env=env,
            )
        )
    finally:
        scratch.unlink(missing_ok=True)
    _write_file(store / "index-listing.bin", listing)
    manifest = scan(info)
    _write_file(store / "manifest.json", manifest_to_json(manifest).encode())
    tree = tree_of(info, manifest)
    indexed = _paths_of_listing(listing)
    untracked = tuple(p for p in manifest if p not in indexed)
    index_blobs = {entry.partition("\t")[2]: entry.split(" ")[1] for entry in _zsplit(listing)}
    modified = tuple(
        sorted(
            {p for p, (_, sha, _) in manifest.items() if p in index_blobs and index_blobs[p] != sha}
            | {p for p in index_blobs if p not in manifest}
        )
    )
    parents = ["-p", info.head]
    if index_tree is not None:
        index_commit = _text(
            info.top, *_IDENTITY, "commit-tree", index_tree, "-p", info.head, "-m", "index"
        )
        parents += ["-p", index_commit]
    commit = _text(
        info.top,
        *_IDENTITY,
        "commit-tree",
        tree,
        *parents,
        "-m",
        f"perfinvest snapshot of {info.branch} at {info.head[:12]}",
    )
    _git(info.top, "update-ref", ref, commit)
    return Snapshot(
        head=info.head,
        branch=info.branch,
        tree=tree,
        index_tree=index_tree,
        commit=commit,
        ref=ref,
        store=store,
        untracked=untracked,
        staged=tuple(staged),
        modified=modified,
        files=len(manifest),
    )


def drop_ref(repo: Path, ref: str) -> bool:
    """Delete a snapshot ref (after a verified restore); True when it existed."""
    if not ref.startswith(SNAPSHOT_REF_PREFIX):
        return False
    _run(repo, "update-ref", "-d", f"{ref}-change")  # the captured change's, if any
    return _run(repo, "update-ref", "-d", ref).returncode == 0
