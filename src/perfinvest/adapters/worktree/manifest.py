"""Manifests: every file hashed raw into git's object store, and written back raw."""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path

from perfinvest.adapters.tempdirs import temp_dir
from perfinvest.adapters.worktree.plumbing import _fs, _git, _text, _zsplit
from perfinvest.adapters.worktree.repo import RepoInfo
from perfinvest.core.errors import environment_error, refused

#: path → (git mode "100644" | "100755" | "120000", blob id, permission bits)
Manifest = dict[str, tuple[str, str, int]]


# --------------------------------------------------------------------------- manifests


def _git_mode(st: os.stat_result) -> str | None:
    if stat.S_ISLNK(st.st_mode):
        return "120000"
    if stat.S_ISREG(st.st_mode):
        return "100755" if st.st_mode & stat.S_IXUSR else "100644"
    return None


def _listed_paths(info: RepoInfo) -> list[str]:
    """Tracked files and untracked, non-ignored ones (paths relative to the top)."""
    raw = _git(
        info.top, "ls-files", "-z", "--cached", "--others", "--exclude-standard", *info.pathspec()
    )
    paths = sorted(set(_zsplit(raw)))
    for path in paths:
        if path.endswith("/"):
            raise refused(
                f"{path} is a nested git repository (untracked): perfinvest cannot record it "
                "exactly; ignore it in .gitignore or move it out of the tree"
            )
    return [p for p in paths if not info.excluded(p)]


def linked_parent(top: Path, path: str) -> str | None:
    """The first folder of ``path`` (relative to ``top``) that is a symbolic link, or None.

    Git sees nothing beyond such a link (``src`` replaced by ``ln -s /elsewhere src``: its
    tracked files are deleted, ``src`` is a new link), and neither does perfinvest: a file
    there is never read, written or removed, so nothing outside the repository is touched
    and the user's link is kept."""
    parts = path.split("/")[:-1]
    current = top
    for depth, part in enumerate(parts):
        current = current / part
        if current.is_symlink():
            return "/".join(parts[: depth + 1])
    return None


def scan(info: RepoInfo) -> Manifest:
    """Hash every non-ignored file raw (no filters) into the object store; a file beyond a
    symlinked folder is not the tree's (:func:`linked_parent`)."""
    files: list[tuple[str, str, int]] = []
    links: list[tuple[str, bytes, int]] = []
    for path in _listed_paths(info):
        if linked_parent(info.top, path) is not None:
            continue
        full = info.top / path
        try:
            st = full.lstat()
        except FileNotFoundError:
            continue  # tracked but deleted: its absence is the state
        mode = _git_mode(st)
        if mode is None:
            if stat.S_ISDIR(st.st_mode):
                raise refused(
                    f"{path} is a directory where git tracks a file (a submodule or nested "
                    "repository?): perfinvest cannot record it exactly"
                )
            continue
        if mode == "120000":
            links.append((path, os.fsencode(str(full.readlink())), stat.S_IMODE(st.st_mode)))
        else:
            files.append((path, mode, stat.S_IMODE(st.st_mode)))
    manifest: Manifest = {}
    if files:
        listing = b"".join(_fs(path) + b"\n" for path, _, _ in files)
        if any("\n" in path for path, _, _ in files):
            raise refused("a file name contains a newline: perfinvest cannot record it safely")
        shas = (
            _git(
                info.top,
                "hash-object",
                "-w",
                "--no-filters",
                "--stdin-paths",
                stdin=listing,
            )
            .decode()
            .split()
        )
        for (path, mode, perm), sha in zip(files, shas, strict=True):
            manifest[path] = (mode, sha, perm)
    for path, target, perm in links:
        sha = (
            _git(info.top, "hash-object", "-w", "--stdin", "--no-filters", stdin=target)
            .decode()
            .strip()
        )
        manifest[path] = ("120000", sha, perm)
    return dict(sorted(manifest.items()))


def tree_of(info: RepoInfo, manifest: Manifest) -> str:
    """A git tree holding exactly the manifest (built from a temporary index)."""
    with temp_dir("tree") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        lines = b"".join(
            f"{mode} {sha}\t".encode() + _fs(path) + b"\0"
            for path, (mode, sha, _) in manifest.items()
        )
        _git(info.top, "update-index", "-z", "--add", "--index-info", env=env, stdin=lines)
        return _text(info.top, "write-tree", env=env)


def manifest_to_json(manifest: Manifest) -> str:
    return json.dumps({p: list(v) for p, v in manifest.items()}, sort_keys=True)


def manifest_from_json(text: str) -> Manifest:
    raw = json.loads(text)
    return {p: (str(v[0]), str(v[1]), int(v[2])) for p, v in raw.items()}


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


def _cat_blobs(repo: Path, shas: Sequence[str]) -> dict[str, bytes]:
    """Blob contents by id, streamed through one ``git cat-file --batch``."""
    if not shas:
        return {}
    unique = list(dict.fromkeys(shas))
    out = _git(repo, "cat-file", "--batch", stdin="".join(f"{s}\n" for s in unique).encode())
    blobs: dict[str, bytes] = {}
    pos = 0
    for sha in unique:
        end = out.index(b"\n", pos)
        header = out[pos:end].decode().split()
        if len(header) != 3:
            raise environment_error(f"git object {sha} is missing: the snapshot is damaged")
        size = int(header[2])
        blobs[sha] = out[end + 1 : end + 1 + size]
        pos = end + 1 + size + 1
    return blobs


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _prune_empty_dirs(top: Path, start: Path) -> None:
    current = start
    while current != top and top in current.parents:
        try:
            current.rmdir()
        except OSError:
            return
        current = current.parent


def materialize(repo: Path, manifest: Manifest, dest: Path, paths: Iterable[str]) -> list[str]:
    """Write ``paths`` of ``manifest`` under ``dest`` from their raw blobs (no filters).

    A path beyond a symlinked folder of ``dest`` is skipped (never written through the
    link, the link never replaced); the skipped paths are returned."""
    wanted = [p for p in paths if p in manifest]
    skipped = [p for p in wanted if linked_parent(dest, p) is not None]
    wanted = [p for p in wanted if p not in skipped]
    blobs = _cat_blobs(repo, [manifest[p][1] for p in wanted])
    for path in wanted:
        mode, sha, perm = manifest[path]
        target = dest / path
        # a directory (or a file) the change put where a parent directory must be
        for parent in reversed(target.relative_to(dest).parents):
            if parent == Path():
                continue
            full = dest / parent
            if (full.exists() or full.is_symlink()) and (full.is_symlink() or not full.is_dir()):
                full.unlink()
        if target.is_symlink() or (target.exists() and (mode == "120000" or target.is_dir())):
            _remove(target)  # a regular file is replaced by rename: never absent mid-way
        target.parent.mkdir(parents=True, exist_ok=True)
        if mode == "120000":
            target.symlink_to(os.fsdecode(blobs[sha]))
        else:
            _write_file(target, blobs[sha])
            target.chmod(perm)
    return skipped
