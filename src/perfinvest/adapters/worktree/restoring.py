"""Putting the recorded files and index back, touching nothing else."""

from __future__ import annotations

import os

from perfinvest.adapters.worktree.manifest import (
    Manifest,
    _prune_empty_dirs,
    _remove,
    materialize,
    scan,
)
from perfinvest.adapters.worktree.plumbing import _few, _git, _run
from perfinvest.adapters.worktree.repo import RepoInfo
from perfinvest.adapters.worktree.snapshot import Snapshot, _index_path
from perfinvest.core.errors import environment_error


def _restore_index(info: RepoInfo, snapshot: Snapshot) -> None:
    """Put the recorded index back (git's lock protocol), keeping perf entries current."""
    index_file = _index_path(info)
    perf_entries = b""
    if info.exclude and index_file.exists():
        perf_entries = _git(info.top, "ls-files", "-s", "-z", "--", info.exclude)
    recorded = (snapshot.store / "index.bin").read_bytes()
    lock = index_file.with_name(index_file.name + ".lock")
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise environment_error(
            f"the index is locked by another git process ({lock}); wait for it and run "
            "`perfinvest recover`"
        ) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(recorded)
            handle.flush()
            os.fsync(handle.fileno())
        if recorded:
            lock.replace(index_file)
        else:
            lock.unlink()
            index_file.unlink(missing_ok=True)
    except BaseException:
        lock.unlink(missing_ok=True)
        raise
    if perf_entries:
        _git(info.top, "update-index", "-z", "--index-info", stdin=perf_entries)
    _run(info.top, "update-index", "-q", "--refresh")


def _user_links(info: RepoInfo, recorded: Manifest, current: Manifest) -> set[str]:
    """Symbolic links now standing where the recorded tree has a folder (the user's)."""
    links = {p for p, entry in current.items() if entry[0] == "120000" and p not in recorded}
    return {link for link in links if any(r.startswith(f"{link}/") for r in recorded)}


def restore(info: RepoInfo, snapshot: Snapshot) -> list[str]:
    """Make the working tree and the index what the snapshot recorded; say what was done."""
    recorded = snapshot.manifest()
    current = scan(info)
    links = _user_links(info, recorded, current)
    added = [p for p in current if p not in recorded and p not in links]
    differing = [p for p, entry in recorded.items() if current.get(p) != entry]
    for path in added:
        target = info.top / path
        _remove(target)
        _prune_empty_dirs(info.top, target.parent)
    skipped = materialize(info.top, recorded, info.top, differing)
    differing = [p for p in differing if p not in skipped]
    _restore_index(info, snapshot)
    actions = []
    if links:
        actions.append(
            f"kept your symbolic link(s) {_few(sorted(links))} where the recorded tree has a "
            f"folder; its recorded file(s) were not written through it: {_few(skipped)}"
        )
    if differing:
        actions.append(f"rewrote {len(differing)} file(s) from the snapshot: {_few(differing)}")
    if added:
        actions.append(f"removed {len(added)} file(s) the change added: {_few(added)}")
    actions.append("index restored from its recorded copy")
    return actions
