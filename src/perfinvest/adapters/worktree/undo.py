"""Taking an experiment's change out of the tree, and only that (rule 3 after a crash).

Three manifests decide every path: the *snapshot* (recorded at ``experiment start``), the
*change* (the working tree as captured when ``experiment run`` or ``abort`` began) and the
tree *now*. A path the experiment did not change (same in snapshot and change) belongs to
the user whatever it holds now: it is left alone. A path the experiment changed is put
back to the snapshot when it still holds the change (or is missing); when the user edited
it since, git's three-way merge takes the change out and keeps the later edits; when that
cannot be done cleanly the snapshot's version comes back and the user's file as found is
saved under ``save_dir``. Either way nothing of the user's is lost, and the result says
what the tree must now hold so :func:`verify` can prove it.
"""

from __future__ import annotations

import posixpath
import stat
from dataclasses import dataclass, field
from pathlib import Path

from perfinvest.adapters.tempdirs import temp_dir
from perfinvest.adapters.worktree.change import CHANGE_INDEX
from perfinvest.adapters.worktree.manifest import (
    Manifest,
    _cat_blobs,
    _prune_empty_dirs,
    _remove,
    _write_file,
    linked_parent,
    materialize,
    scan,
)
from perfinvest.adapters.worktree.plumbing import _few, _git, _run
from perfinvest.adapters.worktree.repo import RepoInfo
from perfinvest.adapters.worktree.restoring import _restore_index
from perfinvest.adapters.worktree.snapshot import Snapshot, index_listing

_LINK = "120000"


@dataclass
class Undone:
    """What :func:`undo_change` did, and what the tree must hold afterwards."""

    expected: Manifest
    put_back: list[str] = field(default_factory=list)  # rewritten from the snapshot
    removed: list[str] = field(default_factory=list)  # files the experiment added
    kept: list[str] = field(default_factory=list)  # the user's, differing from the snapshot
    merged: list[str] = field(default_factory=list)  # change taken out, later edits kept
    conflicts: list[str] = field(default_factory=list)  # snapshot back, user's file saved
    saved: list[str] = field(default_factory=list)  # paths copied under save_dir
    save_dir: Path | None = None
    index_kept: list[str] = field(default_factory=list)  # the user's later index entries
    expected_index: bytes | None = None  # what ``git ls-files -s -z`` must now show
    actions: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)  # the user's symlinked folders, kept
    beyond_links: list[str] = field(default_factory=list)  # changed files beyond them


def _tmp_of(path: str) -> str:
    """The temp name :func:`manifest._write_file` uses next to ``path``."""
    head, tail = posixpath.split(path)
    return posixpath.join(head, f".{tail}.tmp")


def _merge(info: RepoInfo, ours: bytes, base: bytes, theirs: bytes) -> tuple[bytes, str] | None:
    """``git merge-file``: ``ours`` with the base→theirs edit applied; None on conflict."""
    with temp_dir("merge") as tmp:
        files = []
        for name, data in (("yours", ours), ("change", base), ("recorded", theirs)):
            path = Path(tmp) / name
            path.write_bytes(data)
            files.append(str(path))
        proc = _run(info.top, "merge-file", "-p", "-q", *files)
        if proc.returncode != 0:  # conflicts (>0), binary or an error (<0)
            return None
        merged = proc.stdout
        hashed = _run(info.top, "hash-object", "-w", "--no-filters", "--stdin", stdin=merged)
        if hashed.returncode != 0:
            return None
        return merged, hashed.stdout.decode().strip()


def undo_change(info: RepoInfo, snapshot: Snapshot, change: Manifest, save_dir: Path) -> Undone:
    """Put back what the experiment changed; keep every other edit (see the module doc)."""
    recorded = snapshot.manifest()
    current = scan(info)
    touched = sorted(p for p in recorded.keys() | change.keys() if recorded.get(p) != change.get(p))
    # beyond a folder the user replaced by a symbolic link: never read, written or removed
    beyond = {p: link for p in touched if (link := linked_parent(info.top, p)) is not None}
    touched = [p for p in touched if p not in beyond]
    touched_set = set(touched) | set(beyond)
    ours_tmp = {_tmp_of(p) for p in touched}
    done = Undone(expected={})
    for path, entry in current.items():
        if path in touched_set:
            continue
        if path in ours_tmp and path not in recorded:
            target = info.top / path  # a restore killed mid-write left its temp file
            _remove(target)
            done.removed.append(path)
            continue
        done.expected[path] = entry
        if recorded.get(path) != entry:
            done.kept.append(path)
    done.kept.extend(p for p in recorded if p not in current and p not in touched_set)
    rewrite: list[str] = []
    for path in touched:
        snap, captured, now = recorded.get(path), change.get(path), current.get(path)
        if now == snap:
            if snap is not None:
                done.expected[path] = snap
            continue
        if now is not None and now != captured:  # edited since the change was captured
            _save(info, save_dir, path, now, done)
            merged = _take_change_out(info, snap, captured, now)
            if merged is not None:
                data, sha = merged
                assert snap is not None and captured is not None
                # the mode too: the user's if they changed it, else the recorded one
                perm = now[2] if now[2] != captured[2] else snap[2]
                _write_file(info.top / path, data)
                (info.top / path).chmod(perm)
                mode = "100755" if perm & stat.S_IXUSR else "100644"
                done.expected[path] = (mode, sha, perm)
                done.merged.append(path)
                continue
            done.conflicts.append(path)
        if snap is None:
            target = info.top / path
            _remove(target)
            _prune_empty_dirs(info.top, target.parent)
            done.removed.append(path)
        else:
            rewrite.append(path)
            done.expected[path] = snap
    materialize(info.top, recorded, info.top, rewrite)
    done.put_back = [p for p in rewrite if p not in done.conflicts]
    done.beyond_links = sorted(beyond)
    done.links = sorted(set(beyond.values()))
    later = _later_index_entries(info, snapshot, touched_set)
    _restore_index(info, snapshot)
    if later:
        _git(info.top, "update-index", "-z", "--index-info", stdin=b"".join(later.values()))
        _run(info.top, "update-index", "-q", "--refresh")
        done.index_kept = sorted(later)
    # by construction (not read back): the recorded index with the user's entries on top
    wanted = _entries(snapshot.index_listing())
    for path, line in later.items():
        if line.startswith(b"0 "):
            wanted.pop(path, None)
        else:
            wanted[path] = line
    done.expected_index = b"".join(
        wanted[p] for p in sorted(wanted, key=lambda p: p.encode("utf-8", "surrogateescape"))
    )
    done.actions = _describe(done)
    return done


def _entries(listing: bytes) -> dict[str, bytes]:
    """Index entries by path (all stages of a path together), each ``\\0``-terminated."""
    entries: dict[str, bytes] = {}
    for raw in listing.split(b"\0"):
        if raw:
            path = raw.partition(b"\t")[2].decode("utf-8", "surrogateescape")
            entries[path] = entries.get(path, b"") + raw + b"\0"
    return entries


def _later_index_entries(info: RepoInfo, snapshot: Snapshot, touched: set[str]) -> dict[str, bytes]:
    """Index changes made after the capture to paths the experiment did not change.

    They are the user's (``git add``, ``git rm --cached`` after a crash) and are put back
    on top of the recorded index, as ``--index-info`` lines (mode 0 removes an entry).
    """
    captured_file = snapshot.store / CHANGE_INDEX
    if not captured_file.is_file():
        return {}
    recorded = _entries(snapshot.index_listing())
    captured = _entries(captured_file.read_bytes())
    current = _entries(index_listing(info))
    later: dict[str, bytes] = {}
    for path in sorted(recorded.keys() | captured.keys() | current.keys()):
        now = current.get(path)
        if path in touched or now == captured.get(path) or now == recorded.get(path):
            continue
        if now is None:
            later[path] = (
                b"0 " + b"0" * 40 + b"\t" + path.encode("utf-8", "surrogateescape") + b"\0"
            )
        else:
            later[path] = now
    return later


def _take_change_out(
    info: RepoInfo,
    snap: tuple[str, str, int] | None,
    captured: tuple[str, str, int] | None,
    now: tuple[str, str, int],
) -> tuple[bytes, str] | None:
    """The user's file with the experiment's edit reversed, when git can merge it cleanly."""
    if snap is None or captured is None:
        return None  # the experiment added or deleted it: nothing to merge against
    if _LINK in (snap[0], captured[0], now[0]):
        return None
    blobs = _cat_blobs(info.top, [now[1], captured[1], snap[1]])
    return _merge(info, blobs[now[1]], blobs[captured[1]], blobs[snap[1]])


def _save(
    info: RepoInfo, save_dir: Path, path: str, entry: tuple[str, str, int], done: Undone
) -> None:
    """Copy the user's file as found under ``save_dir`` (same relative path)."""
    blobs = _cat_blobs(info.top, [entry[1]])
    target = save_dir / path
    if entry[0] == _LINK:
        target = target.with_name(target.name + ".symlink.txt")
    _write_file(target, blobs[entry[1]])
    done.saved.append(path)
    done.save_dir = save_dir


def _describe(done: Undone) -> list[str]:
    actions = []
    if done.links:
        actions.append(
            f"kept your symbolic link(s) {_few(done.links)}: the experiment's file(s) beyond "
            f"it were neither read nor put back through it: {_few(done.beyond_links)}"
        )
    if done.put_back:
        actions.append(
            f"put back {len(done.put_back)} file(s) the experiment changed: {_few(done.put_back)}"
        )
    if done.removed:
        actions.append(
            f"removed {len(done.removed)} file(s) the experiment added: {_few(done.removed)}"
        )
    if done.merged:
        actions.append(
            f"took the experiment's change out of {_few(done.merged)} and kept your later edits "
            "there (git merge-file)"
        )
    if done.conflicts:
        actions.append(
            f"{_few(done.conflicts)}: edited after the change was captured and cannot be merged: "
            "the recorded version is back"
        )
    if done.saved and done.save_dir is not None:
        actions.append(
            f"saved your version(s) as found of {_few(done.saved)} under {done.save_dir}"
        )
    if done.kept:
        actions.append(
            f"kept {len(done.kept)} file(s) the experiment did not change, as you left them: "
            f"{_few(done.kept)}"
        )
    if done.index_kept:
        actions.append(
            "index restored from its recorded copy, keeping your later index changes to "
            f"{_few(done.index_kept)}"
        )
    else:
        actions.append("index restored from its recorded copy")
    return actions
