"""The user's tree, recorded, restored and verified exactly; worktrees and patches.

Protection mechanism (rule 3, "never lose a byte of the user's work"):

* **Files.** Every non-ignored file of the working tree (tracked, modified, staged,
  untracked; the perf state folder excluded) is hashed *raw* into git's object store with
  ``git hash-object -w --no-filters``: no clean/smudge filter, no end-of-line conversion,
  so a blob is exactly the bytes on disk. The result is a *manifest* (path → git mode,
  blob id, permission bits) kept as JSON next to the experiment's artifacts, and a tree
  built from it with a temporary index. Restoring writes the blobs back raw
  (``git cat-file --batch``) for the paths that differ and deletes the files the change
  added; nothing else is touched.
* **Index.** The raw ``.git/index`` file is copied byte for byte and put back with git's
  own lock protocol (``index.lock``, rename). The perf state's entries, which checkpoint
  commits update while the experiment is open, keep their current values.
* **HEAD.** Never moved. It is recorded (branch and commit); checkpoint commits that hold
  only perf state files may advance it, anything else is reported.
* **Kept alive.** A snapshot commit (tree of the working tree; parents HEAD and a commit of
  the index tree) is referenced by ``refs/perfinvest/snapshots/<id>-<n>``: never the
  user's stash list or branches, and ``git gc`` cannot prune the objects. The ref is
  deleted once the restore is verified.

Git is read through plumbing only; the user's working tree is written only by
:func:`restore` and :func:`apply_patch`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from perfinvest.adapters.git_markers import index_locked, operation_in_progress
from perfinvest.core.errors import environment_error, refused

_IDENTITY = ("-c", "user.name=perfinvest", "-c", "user.email=perfinvest@localhost")
WORKTREE_PREFIX = "perfinvest-baseline-"
SNAPSHOT_REF_PREFIX = "refs/perfinvest/snapshots/"

#: path → (git mode "100644" | "100755" | "120000", blob id, permission bits)
Manifest = dict[str, tuple[str, str, int]]


# --------------------------------------------------------------------------- git plumbing


def _run(
    repo: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", "-C", str(repo), *args],
            check=False,
            capture_output=True,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            env={**os.environ, **env} if env is not None else None,
        )
    except FileNotFoundError:
        raise environment_error("git is not installed: experiments need git") from None


def _git(
    repo: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
) -> bytes:
    proc = _run(repo, *args, env=env, stdin=stdin)
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = lines[0] if lines else f"exit status {proc.returncode}"
        command = next((a for a in args if not a.startswith("-") and "=" not in a), "")
        raise environment_error(f"git {command} failed: {detail}")
    return proc.stdout


def _text(repo: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    return _git(repo, *args, env=env).decode("utf-8", "surrogateescape").strip()


def _zsplit(data: bytes) -> list[str]:
    return [p.decode("utf-8", "surrogateescape") for p in data.split(b"\0") if p]


def _fs(path: str) -> bytes:
    return path.encode("utf-8", "surrogateescape")


# --------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class RepoInfo:
    top: Path
    git_dir: Path
    head: str
    branch: str
    exclude: str | None  # the perf state folder, relative to top (None: outside the repo)

    def pathspec(self) -> list[str]:
        spec = ["--", "."]
        if self.exclude:
            spec.append(f":(exclude){self.exclude}")
        return spec

    def excluded(self, path: str) -> bool:
        return bool(self.exclude) and (path == self.exclude or path.startswith(f"{self.exclude}/"))


def _exclude(top: Path, perf_dir: Path) -> str | None:
    try:
        rel = perf_dir.resolve().relative_to(top.resolve()).as_posix()
    except ValueError:
        return None
    return rel if rel != "." else None


def inspect_repo(repo: Path, perf_dir: Path, *, strict: bool = True) -> RepoInfo:
    """The repository's state, or a refusal naming why an experiment cannot run on it.

    ``strict=False`` (restoring, recovering) reports what is there without refusing: the
    user's files must come back whatever else happened.
    """
    probe = _run(repo, "rev-parse", "--show-toplevel", "--absolute-git-dir")
    lines = probe.stdout.decode("utf-8", "surrogateescape").splitlines()
    if probe.returncode != 0 or len(lines) != 2:
        raise refused(
            f"{repo} is not a git work tree: experiments record and restore the tree with git; "
            "run `git init` and commit first"
        )
    top, git_dir = Path(lines[0]), Path(lines[1])
    if not strict:
        head = _run(top, "rev-parse", "-q", "--verify", "HEAD^{commit}").stdout.decode().strip()
        branch = _run(top, "symbolic-ref", "-q", "HEAD").stdout.decode().strip()
        return RepoInfo(top, git_dir, head, branch or "HEAD (detached)", _exclude(top, perf_dir))
    operation = operation_in_progress(git_dir)
    if operation is not None:
        raise refused(
            f"{operation} is in progress in {top}: finish or abort it first "
            "(an experiment must own HEAD and the index)"
        )
    if index_locked(git_dir):
        raise refused(
            f"the index is locked by another git process ({git_dir / 'index.lock'} exists); "
            "wait for it, or remove the file if no git command is running"
        )
    head_proc = _run(top, "rev-parse", "-q", "--verify", "HEAD^{commit}")
    if head_proc.returncode != 0:
        raise refused("the repository has no commits yet: commit first, then start an experiment")
    branch_proc = _run(top, "symbolic-ref", "-q", "HEAD")
    if branch_proc.returncode != 0:
        raise refused(
            "HEAD is detached: check out a branch first (e.g. `git switch -c perf-work`) so the "
            "experiment's recorded commit cannot be lost"
        )
    if (top / ".gitmodules").exists():
        raise refused(
            f"{top} has submodules (.gitmodules): perfinvest cannot record and restore a "
            "submodule's own tree exactly; run the experiment inside the submodule instead"
        )
    info = RepoInfo(
        top=top,
        git_dir=git_dir,
        head=head_proc.stdout.decode().strip(),
        branch=branch_proc.stdout.decode().strip(),
        exclude=_exclude(top, perf_dir),
    )
    staged = _zsplit(_git(top, "ls-files", "-s", "-z"))
    for entry in staged:
        meta, _, path = entry.partition("\t")
        mode, _, rest = meta.partition(" ")
        if mode == "160000":
            raise refused(
                f"{path} is a submodule (gitlink): perfinvest cannot record and restore a "
                "submodule's tree exactly; run the experiment inside it instead"
            )
        if rest.split(" ")[-1] != "0":
            raise refused(f"{path} has merge conflicts in the index: resolve them first")
    return info


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


def scan(info: RepoInfo) -> Manifest:
    """Hash every non-ignored file raw (no filters) into the object store."""
    files: list[tuple[str, str, int]] = []
    links: list[tuple[str, bytes, int]] = []
    for path in _listed_paths(info):
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
    with tempfile.TemporaryDirectory(prefix="perfinvest-tree-") as tmp:
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


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


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
    return _run(repo, "update-ref", "-d", ref).returncode == 0


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


# --------------------------------------------------------------------------- restore


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


def materialize(repo: Path, manifest: Manifest, dest: Path, paths: Iterable[str]) -> None:
    """Write ``paths`` of ``manifest`` under ``dest`` from their raw blobs (no filters)."""
    wanted = [p for p in paths if p in manifest]
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
        if target.is_symlink() or target.exists():
            _remove(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        if mode == "120000":
            target.symlink_to(os.fsdecode(blobs[sha]))
        else:
            _write_file(target, blobs[sha])
            target.chmod(perm)


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


def restore(info: RepoInfo, snapshot: Snapshot) -> list[str]:
    """Make the working tree and the index what the snapshot recorded; say what was done."""
    recorded = snapshot.manifest()
    current = scan(info)
    added = [p for p in current if p not in recorded]
    differing = [p for p, entry in recorded.items() if current.get(p) != entry]
    for path in added:
        target = info.top / path
        _remove(target)
        _prune_empty_dirs(info.top, target.parent)
    materialize(info.top, recorded, info.top, differing)
    _restore_index(info, snapshot)
    actions = []
    if differing:
        actions.append(f"rewrote {len(differing)} file(s) from the snapshot: {_few(differing)}")
    if added:
        actions.append(f"removed {len(added)} file(s) the change added: {_few(added)}")
    actions.append("index restored from its recorded copy")
    return actions


def _few(paths: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(paths[:limit])
    return shown + (f" (+{len(paths) - limit} more)" if len(paths) > limit else "")


@dataclass
class Verification:
    head_same: bool = True
    index_same: bool = True
    files_identical: bool = True
    untracked_back: bool = True
    checkpoint_commits: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return self.head_same and self.index_same and self.files_identical and self.untracked_back


def head_moved(info: RepoInfo, snapshot: Snapshot) -> tuple[int, str | None]:
    """How many commits HEAD advanced by, and the problem when they are not perf-only."""
    if info.branch != snapshot.branch:
        return 0, f"HEAD is on {info.branch}, the experiment started on {snapshot.branch}"
    if info.head == snapshot.head:
        return 0, None
    if _run(info.top, "merge-base", "--is-ancestor", snapshot.head, info.head).returncode != 0:
        return 0, f"HEAD moved from {snapshot.head[:12]} to {info.head[:12]} (not a descendant)"
    count = int(_text(info.top, "rev-list", "--count", f"{snapshot.head}..{info.head}"))
    touched = _zsplit(
        _git(info.top, "diff", "--name-only", "-z", snapshot.head, info.head, *info.pathspec())
    )
    if touched:
        return count, (
            f"HEAD advanced by {count} commit(s) that change {_few(touched)}: commit nothing "
            f"during an experiment (`git reset --soft {snapshot.head[:12]}` undoes them)"
        )
    return count, None


def verify(info: RepoInfo, snapshot: Snapshot) -> Verification:
    """Same HEAD (modulo perf checkpoints), same index, every file identical, untracked back."""
    result = Verification()
    count, problem = head_moved(info, snapshot)
    result.checkpoint_commits = count
    if problem:
        result.head_same = False
        result.problems.append(problem)
    listing = index_listing(info)
    if listing != snapshot.index_listing():
        result.index_same = False
        before, after = set(_zsplit(snapshot.index_listing())), set(_zsplit(listing))
        changed = sorted({e.partition("\t")[2] for e in before ^ after})
        result.problems.append(f"index differs for {_few(changed)}")
    recorded = snapshot.manifest()
    current = scan(info)
    different = sorted(
        {p for p in recorded if current.get(p) != recorded[p]}
        | {p for p in current if p not in recorded}
    )
    if different:
        result.files_identical = False
        result.problems.append(f"files differ: {_few(different)}")
    indexed = _paths_of_listing(listing)
    missing = [p for p in snapshot.untracked if p not in current or p in indexed]
    if missing:
        result.untracked_back = False
        result.problems.append(f"untracked files not back: {_few(missing)}")
    return result


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
