"""Checkpoint commits that hold the perf state files and nothing else (rule 10).

The commit is built from a temporary index (``HEAD``'s tree plus the given files),
so whatever the user has staged, left dirty or untracked is neither committed nor
touched. The user's real index is told about the new versions of the perf files only
(so their next ``git commit`` neither deletes nor re-adds them), and only then does the
branch move, with a compare-and-swap. A journal in the git dir covers the moment in
between: a kill there is finished by the next checkpoint (:func:`repair`), and it can
never leave the index holding the previous checkpoint's perf files. The working tree is
never written.

What the user's configuration asks (``.gitignore``, ``commit.gpgsign``, hooks) is decided
in :mod:`perfinvest.adapters.git.policy`. Every situation where a checkpoint cannot
sensibly be made (no git, no repository, no commits yet, detached HEAD, a merge or rebase
in progress, state files outside the repository or git-ignored, signing failed, nothing
new) is a skip with a reason, never an error: the phase
itself succeeded and must not fail because of version control.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from perfinvest.adapters.git import policy as git_policy
from perfinvest.adapters.git.markers import index_locked, operation_in_progress
from perfinvest.adapters.git.run import run_git as _run
from perfinvest.adapters.tempdirs import temp_dir
from perfinvest.core.errors import environment_error, usage_error
from perfinvest.store.atomic import atomic_write_text

_TRAILER_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
#: In the git dir while a checkpoint moves the index and the branch (see :func:`_move`).
JOURNAL_NAME = "perfinvest-checkpoint.json"
_FALLBACK_IDENTITY = {"user.name": "perfinvest", "user.email": "perfinvest@localhost"}


@dataclass(frozen=True)
class CheckpointResult:
    """What a checkpoint did: the new commit, or why none was made."""

    committed: bool
    sha: str | None
    reason: str | None  # why it was skipped; None when committed
    files: tuple[str, ...]  # repo-relative POSIX paths included in the commit (existing ones)
    notes: tuple[str, ...] = ()  # what the user should know either way (repairs, policy)
    signed: bool = False  # signed with the user's key (commit.gpgsign)


def _skip(reason: str, notes: Sequence[str] = ()) -> CheckpointResult:
    return CheckpointResult(committed=False, sha=None, reason=reason, files=(), notes=tuple(notes))


def _git(
    repo: Path, *args: str, env: Mapping[str, str] | None = None, stdin: str | None = None
) -> str:
    """Run git and return stdout without the trailing newline; failure is a PerfError."""
    proc = _run(repo, *args, env=env, stdin=stdin)
    command = next((a for a in args if not a.startswith("-") and "=" not in a), "")
    return _checked(proc, command)


def _checked(proc: subprocess.CompletedProcess[str], command: str) -> str:
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        detail = lines[0] if lines else f"exit status {proc.returncode}"
        raise environment_error(f"git {command} failed: {detail}")
    return proc.stdout.rstrip("\n")


def find_repo_root(start: Path) -> Path | None:
    """The top of the work tree containing ``start``; None outside one or without git."""
    where = start if start.is_dir() else start.parent
    try:
        proc = _run(where, "rev-parse", "--show-toplevel")
    except FileNotFoundError:
        return None
    top = proc.stdout.strip()
    return Path(top) if proc.returncode == 0 and top else None


def uncommitted(repo_root: Path, folder: Path) -> list[str]:
    """``git status`` lines (``XY path``) for files under ``folder`` not as committed.

    Git-ignored files (locks, caches, large artifacts) are not listed; outside a work
    tree, or without git, the list is empty.
    """
    try:
        proc = _run(
            repo_root, "status", "--porcelain", "-z", "--untracked-files=all", "--", str(folder)
        )
    except FileNotFoundError:
        return []
    if proc.returncode != 0:
        return []
    return [entry for entry in proc.stdout.split("\0") if len(entry) > 3]


def _relative_paths(top: Path, paths: Sequence[Path], base: Path) -> list[str] | str:
    """Repo-relative POSIX paths of the existing files, or the reason they can't be used.

    Relative paths are taken relative to ``base`` (the repo_root the caller gave), never
    to the process's working directory. Only the parent is resolved, so a symlinked
    temp dir or checkout still matches git's idea of the top level.
    """
    real_top = top.resolve()
    rels: list[str] = []
    for path in paths:
        full = path if path.is_absolute() else base / path
        located = full.parent.resolve() / full.name
        if not located.is_relative_to(real_top):
            return f"{full} is outside the repository {top}"
        if located.is_dir():
            # `git add -f` on a directory would sweep in git-ignored large artifacts.
            raise usage_error(f"checkpoint paths must be files, not a directory: {full}")
        if located.exists() or located.is_symlink():
            rel = located.relative_to(real_top).as_posix()
            if rel not in rels:
                rels.append(rel)
    return sorted(rels)


#: A checkpoint's subject, ``perf(<investigation id>): <phase>``, and its phase trailer.
_CHECKPOINT_SUBJECT = re.compile(r"perf\([^()\s]+\): \S")
_CHECKPOINT_TRAILER = re.compile(r"^Perf-Phase: \S", re.MULTILINE)


def is_checkpoint_message(message: str) -> bool:
    """True for a message :func:`checkpoint_commit` wrote (history readers skip those)."""
    return bool(_CHECKPOINT_SUBJECT.match(message.lstrip()) and _CHECKPOINT_TRAILER.search(message))


def _message_with_trailers(message: str, trailers: Mapping[str, str]) -> str:
    """The message, a blank line, then one ``Key: value`` line per trailer."""
    body = message.strip()
    if not body:
        raise usage_error("a checkpoint commit needs a non-empty message")
    lines: list[str] = []
    for key, value in trailers.items():
        if not _TRAILER_KEY.fullmatch(key):
            raise usage_error(f"invalid commit trailer key {key!r}: use letters, digits and '-'")
        if not value.strip() or "\n" in value or "\r" in value:
            raise usage_error(f"commit trailer {key} needs a non-empty one-line value")
        lines.append(f"{key}: {value.strip()}")
    return body + "\n" + ("\n" + "\n".join(lines) + "\n" if lines else "")


def _identity_overrides(top: Path) -> list[str]:
    """``-c`` options for the identity parts the user has not configured (else git fails)."""
    proc = _run(top, "config", "--get-regexp", r"^user\.(name|email)$")
    configured = {line.split(" ", 1)[0].lower() for line in proc.stdout.splitlines()}
    overrides: list[str] = []
    for key, value in _FALLBACK_IDENTITY.items():
        if key not in configured:
            overrides += ["-c", f"{key}={value}"]
    return overrides


def checkpoint_commit(
    repo_root: Path,
    paths: Sequence[Path],
    message: str,
    trailers: Mapping[str, str],
    moved_away: Sequence[Path] = (),
    state_key: str | None = None,
) -> CheckpointResult:
    """Commit exactly ``paths``' current contents on top of HEAD, touching nothing else.

    ``state_key`` (the state folder) names the checkpoint journal, so two state folders of
    one repository (each with its own state lock) never share one.

    Paths that do not exist are left out (perf files are never deleted, so a missing
    one was simply never written). ``moved_away`` are state files a command moved
    elsewhere (``resume`` turns an archived copy into the active file): their absence
    is committed too, so the move leaves nothing pending in ``git status``. Raises
    PerfError only for caller mistakes (empty message, bad trailer, a directory among
    ``paths``) and for git failing unexpectedly.
    """
    full_message = _message_with_trailers(message, trailers)
    try:
        probe = _run(repo_root, "rev-parse", "--show-toplevel", "--absolute-git-dir")
    except FileNotFoundError:
        return _skip("git is not installed")
    lines = probe.stdout.splitlines()
    if probe.returncode != 0 or len(lines) != 2:
        return _skip(f"{repo_root} is not inside a git work tree")
    top, git_dir = Path(lines[0]), Path(lines[1])

    rels = _relative_paths(top, paths, repo_root)
    if isinstance(rels, str):
        return _skip(rels)
    gone = _moved_away(top, moved_away, repo_root)
    journal = _journal(git_dir, state_key)
    # a journal of the shared name is an older perfinvest's: finished (or dropped) first
    legacy = repair(top, git_dir) if state_key else None
    repaired = repair(top, git_dir, journal) or legacy
    result = _checkpoint(top, git_dir, rels, full_message, gone, journal)
    if repaired is None:
        return result
    return replace(result, notes=(repaired, *result.notes))


def _moved_away(top: Path, paths: Sequence[Path], base: Path) -> list[str]:
    """Repo-relative paths of the moved-away files that are really gone."""
    real_top = top.resolve()
    rels = []
    for path in paths:
        full = path if path.is_absolute() else base / path
        located = full.parent.resolve() / full.name
        if located.is_relative_to(real_top) and not (located.exists() or located.is_symlink()):
            rels.append(located.relative_to(real_top).as_posix())
    return sorted(rels)


def _checkpoint(
    top: Path,
    git_dir: Path,
    rels: list[str],
    full_message: str,
    gone: Sequence[str] = (),
    journal: Path | None = None,
) -> CheckpointResult:
    operation = operation_in_progress(git_dir)
    if operation is not None:
        return _skip(f"{operation} is in progress")
    if index_locked(git_dir):
        # Checked up front, so a busy index is a clear skip rather than a failed update.
        return _skip("the index is locked by another git process (index.lock exists)")
    if _run(top, "symbolic-ref", "-q", "HEAD").returncode != 0:
        return _skip("HEAD is detached: a checkpoint there would be an easily lost commit")
    head = _run(top, "rev-parse", "-q", "--verify", "HEAD^{commit}")
    if head.returncode != 0:
        return _skip("repository has no commits yet")
    old = head.stdout.strip()
    if not rels and not gone:
        return _skip("nothing new to checkpoint")
    refusal = git_policy.disabled(top) or git_policy.ignored(top, rels)
    if refusal is not None:
        return _skip(refusal)

    with temp_dir("index") as tmp:
        temp_env = {**os.environ, "GIT_INDEX_FILE": str(Path(tmp) / "index")}
        _git(top, "read-tree", old, env=temp_env)
        # Untracked git-ignored paths were refused above (the policy honours .gitignore);
        # -f only lets tracked files in an ignored folder be updated, as `commit -a` would.
        if rels:
            _git(top, "--literal-pathspecs", "add", "-f", "--", *rels, env=temp_env)
        if gone:
            _git(top, "--literal-pathspecs", "rm", "-q", "--cached", "--ignore-unmatch",
                 "--", *gone, env=temp_env)  # fmt: skip
        tree = _git(top, "write-tree", env=temp_env)
        if tree == _git(top, "rev-parse", f"{old}^{{tree}}"):
            return _skip("nothing new to checkpoint")
        ident = _identity_overrides(top)
        sign = git_policy.signing_args(top)
        made = _run(top, *ident, "commit-tree", *sign, tree, "-p", old, stdin=full_message)
        if made.returncode != 0 and sign:
            first = (made.stderr.strip().splitlines() or ["unknown error"])[0]
            return _skip(
                f"commit.gpgsign is set but signing failed ({first}); checkpoints are signed "
                "when you sign, never made unsigned"
            )
        new = _checked(made, "commit-tree")
        # The temp index's entries for our paths, NUL-terminated ls-files --stage lines:
        # exactly the input `update-index --index-info` takes for the real index.
        every = sorted({*rels, *gone})
        entries = _index_entries(top, every, env=temp_env)  # a removal line for each gone
    subject = full_message.splitlines()[0]
    pending = _Pending(old=old, new=new, subject=subject, entries=entries, rels=tuple(every))
    result = _move(top, git_dir, pending, journal)
    hooks = git_policy.hooks_not_run(top) if result.committed else []
    notes = (*result.notes, git_policy.hooks_note(hooks)) if hooks else result.notes
    return replace(result, signed=bool(sign) and result.committed, notes=notes)


@dataclass(frozen=True)
class _Pending:
    """A checkpoint between "commit object written" and "branch moved": the journal."""

    old: str
    new: str
    subject: str
    entries: str  # the real index's new entries for ``rels`` (``ls-files -s -z`` lines)
    rels: tuple[str, ...]
    previous: str = ""  # the real index's entries before, to undo a failed move

    def dump(self) -> str:
        return json.dumps(
            {
                "format": 1,
                "old": self.old,
                "new": self.new,
                "subject": self.subject,
                "entries": self.entries,
                "rels": list(self.rels),
                "previous": self.previous,
            }
        )


def _journal(git_dir: Path, state_key: str | None = None) -> Path:
    """``perfinvest-checkpoint.json``, or per state folder ``perfinvest-checkpoint-<hash>``."""
    if not state_key:
        return git_dir / JOURNAL_NAME
    digest = hashlib.sha256(state_key.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return git_dir / f"{Path(JOURNAL_NAME).stem}-{digest}.json"


def _index_entries(top: Path, rels: Sequence[str], env: Mapping[str, str] | None = None) -> str:
    """An index's stage lines for ``rels`` (the real one unless ``env`` names another),
    plus a removal line for each absent one: ``update-index -z --index-info`` input."""
    present = _git(top, "--literal-pathspecs", "ls-files", "-s", "-z", "--", *rels, env=env)
    listed = {line.split("\t", 1)[1] for line in present.split("\0") if "\t" in line}
    removals = "".join(f"0 {'0' * 40}\t{rel}\0" for rel in rels if rel not in listed)
    return (present + "\0" if present and not present.endswith("\0") else present) + removals


def _move(
    top: Path, git_dir: Path, pending: _Pending, journal: Path | None = None
) -> CheckpointResult:
    """Index first, then the branch, with a journal in between (F6: safe against a kill).

    The user's index is told about the new perf files *before* the branch moves. A kill
    between the two leaves the index one checkpoint ahead of HEAD, never behind: the
    user's next ``git commit`` then carries the current perf files (no rollback), and
    the next checkpoint finds the journal and finishes the move (:func:`repair`).
    """
    pending = replace(pending, previous=_index_entries(top, pending.rels))
    journal = journal or _journal(git_dir)
    atomic_write_text(journal, pending.dump())
    sync = _run(top, "update-index", "-z", "--index-info", stdin=pending.entries)
    if sync.returncode != 0:
        journal.unlink(missing_ok=True)
        first = (sync.stderr.strip().splitlines() or ["unknown error"])[0]
        return _skip(f"the index could not be updated ({first}); nothing was committed")
    moved = _run(
        top, "update-ref", "-m", f"perfinvest checkpoint: {pending.subject}", "HEAD",
        pending.new, pending.old,
    )  # fmt: skip
    if moved.returncode != 0:
        _run(top, "update-index", "-z", "--index-info", stdin=pending.previous)
        journal.unlink(missing_ok=True)
        return _skip("HEAD moved while the checkpoint was being made; nothing was committed")
    journal.unlink(missing_ok=True)
    return CheckpointResult(committed=True, sha=pending.new, reason=None, files=pending.rels)


def repair(top: Path, git_dir: Path, journal: Path | None = None) -> str | None:
    """Finish (or drop) a checkpoint a kill interrupted; says what it did, if anything.

    HEAD still at the old commit: the index already holds (or is given again) the new
    entries and the branch is moved, so the checkpoint completes. HEAD elsewhere (the
    move happened, or the user committed or switched branch since): the journal is only
    dropped, so nothing the user did is undone.
    """
    journal = journal or _journal(git_dir)
    try:
        raw = json.loads(journal.read_text(encoding="utf-8"))
        pending = _Pending(
            old=str(raw["old"]), new=str(raw["new"]), subject=str(raw["subject"]),
            entries=str(raw["entries"]), rels=tuple(str(r) for r in raw["rels"]),
            previous=str(raw.get("previous", "")),
        )  # fmt: skip
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        journal.unlink(missing_ok=True)
        return "dropped an unreadable checkpoint journal"
    head = _run(top, "rev-parse", "-q", "--verify", "HEAD^{commit}").stdout.strip()
    on_branch = _run(top, "symbolic-ref", "-q", "HEAD").returncode == 0
    busy = operation_in_progress(git_dir) is not None or index_locked(git_dir)
    if head != pending.old or busy or not on_branch:
        journal.unlink(missing_ok=True)
        return None if head == pending.new else "dropped an interrupted checkpoint"
    done = _move(top, git_dir, pending, journal)
    return f"finished the interrupted checkpoint {pending.new[:12]}" if done.committed else None
