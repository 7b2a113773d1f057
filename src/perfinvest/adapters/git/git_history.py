"""Reading git history for rule 8 (hypotheses come after the history is read), via gitpython.

``read_history`` lists the commits of a window (``since..until``, or all of ``until``'s
history without ``since``) with the files each changed, their diff stats, and flags: a
message with performance words, a change to a file that is hot in the latest profile.
``git`` (gitpython) is imported only here, only when history is read.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from perfinvest.adapters.git.checkpoint import is_checkpoint_message
from perfinvest.core.errors import environment_error, usage_error
from perfinvest.core.models import CommitEvidence

if TYPE_CHECKING:
    import git

#: Most commits read for one window; older ones are left out and said so.
MAX_COMMITS = 500
#: The user's commits in the default window when no version tag precedes the baseline.
DEFAULT_COMMITS = 50
#: The flag of a commit the baseline did not measure: context, not a suspicion.
AFTER_BASELINE = "after the baseline (not in its measurement)"
#: ``REV~N`` in ``--since``: N counts the user's commits, not checkpoints.
_ANCESTOR = re.compile(r"(.+?)~(\d*)")
#: Characters ``git describe --exclude`` would read as a pattern.
_SHA = re.compile(r"[0-9a-f]{40}")
_GLOB = re.compile(r"[*?\[\\]")
_PERF_WORDS = re.compile(
    r"\b(perf|performance|slow|slower|slowdown|fast|faster|speed|speedup|latency|throughput|"
    r"optimi[sz]\w*|cache[sd]?|caching|regression|quadratic|O\(n|memory|alloc\w*|hot ?path|"
    r"benchmark\w*|timeout|n\+1|lock|contention|batch\w*|index(es)?)\b",
    re.IGNORECASE,
)


@dataclass
class HistoryWindow:
    """The commits of a window, newest first, and what they changed."""

    commits: list[CommitEvidence]
    head: str
    files_changed: dict[str, int] = field(default_factory=dict)
    truncated: bool = False
    skipped_own: int = 0  # perfinvest's own commits (checkpoints) left out of the window


def _open(repo_root: Path) -> git.Repo:
    try:
        import git
    except ImportError:  # pragma: no cover - gitpython is a dependency
        raise environment_error("gitpython is not installed: pip install gitpython") from None
    try:
        return git.Repo(repo_root, search_parent_directories=False)
    except git.exc.GitCommandNotFound:
        raise environment_error("git is not installed; install git to gather history") from None
    except (git.exc.InvalidGitRepositoryError, git.exc.NoSuchPathError):
        raise usage_error(f"{repo_root} is not a git repository: there is no history") from None


def check_paths(repo_root: Path, paths: Sequence[str]) -> list[str]:
    """``paths`` as repository-relative POSIX paths; one outside the repository is refused."""
    root = repo_root.resolve()
    checked = []
    for raw in paths:
        if not raw.strip() or "\x00" in raw:
            raise usage_error("--paths needs a non-empty path inside the repository")
        candidate = Path(raw)
        resolved = (candidate if candidate.is_absolute() else Path.cwd() / candidate).resolve()
        try:
            relative = resolved.relative_to(root)
        except ValueError:
            raise usage_error(
                f"--paths {raw!r} is outside the repository {root}: give a path inside it"
            ) from None
        checked.append(relative.as_posix() or ".")
    return checked


def perf_words(message: str) -> list[str]:
    seen: list[str] = []
    for match in _PERF_WORDS.finditer(message):
        word = match.group(0).lower()
        if word not in seen:
            seen.append(word)
    return seen


def _revision(repo: git.Repo, rev: str, what: str) -> git.Commit:
    import git

    try:
        return repo.commit(rev)
    except (git.exc.BadName, ValueError, git.exc.GitCommandError):
        raise usage_error(
            f"{what} {rev!r} is not a revision of this repository (a commit, tag or branch, "
            "e.g. HEAD~10)"
        ) from None


def _is_own(commit: git.Commit, ignore_prefix: str | None, stats: git.Stats | None = None) -> bool:
    """perfinvest's own commit: a checkpoint, or a commit of state files only."""
    if is_checkpoint_message(str(commit.message)):
        return True
    if not ignore_prefix:
        return False
    names = [str(name) for name in (stats or commit.stats).files]
    return bool(names) and all(name.startswith(ignore_prefix) for name in names)


def _user_tip(commit: git.Commit, ignore_prefix: str | None) -> git.Commit | None:
    """The newest commit of the user's at or below ``commit`` along first parents."""
    current: git.Commit | None = commit
    while current is not None and _is_own(current, ignore_prefix):
        current = current.parents[0] if current.parents else None
    return current


def resolve_since(
    repo_root: Path, since: str, ignore_prefix: str | None = None
) -> tuple[str | None, str]:
    """``--since`` as a commit (None: from the root) and how it was read.

    ``REV~N`` counts N of the user's commits back along first parents, never perfinvest's
    checkpoints: ``HEAD~3`` is the window of the user's last three commits however many
    phases ran in between. Any other revision is taken as git reads it.
    """
    repo = _open(repo_root)
    counted = _ANCESTOR.fullmatch(since)
    if counted is None:
        return _revision(repo, since, "--since").hexsha, "--since"
    base, steps = counted.group(1), int(counted.group(2) or "1")
    current: git.Commit | None = _revision(repo, base, "--since")
    found = 0
    while current is not None and steps > 0:
        if not _is_own(current, ignore_prefix):
            found += 1
            if found == steps:
                parent = current.parents[0] if current.parents else None
                source = f"--since {since}: {steps} commit(s) of yours, checkpoints not counted"
                return (parent.hexsha if parent is not None else None), source
        current = current.parents[0] if current.parents else None
    if steps == 0:
        return _revision(repo, base, "--since").hexsha, "--since"
    raise usage_error(
        f"--since {since}: {base} has only {found} commit(s) of yours (perfinvest's "
        f"checkpoints are not counted); pass --since {base}~{found} or leave --since out"
    )


def default_window(
    repo_root: Path, baseline_commit: str | None, ignore_prefix: str | None = None
) -> tuple[str | None, str, int | None]:
    """The window when no ``--since`` is given: ``(since, source, user-commit limit)``.

    It must hold the user's commits that led to the baseline, not the checkpoints made
    since: the newest version tag below the user's last commit before the baseline (a
    tag on that commit itself names the version measured, so the one before counts),
    else the user's last :data:`DEFAULT_COMMITS` commits.
    """
    import git

    repo = _open(repo_root)
    start: git.Commit | None = None
    if baseline_commit:
        with contextlib.suppress(git.exc.BadName, ValueError, git.exc.GitCommandError):
            start = repo.commit(baseline_commit)
    if start is None:
        start = _revision(repo, "HEAD", "revision")
    tip = _user_tip(start, ignore_prefix)
    fallback = (None, f"your last {DEFAULT_COMMITS} commits: no version tag before them")
    if tip is None:
        return (*fallback, DEFAULT_COMMITS)
    at_tip = [str(t) for t in repo.git.tag("--points-at", tip.hexsha).split()]
    excludes = ["--exclude=" + _GLOB.sub(lambda m: "\\" + m.group(0), t) for t in at_tip]
    try:
        tag = str(repo.git.describe("--tags", "--abbrev=0", *excludes, tip.hexsha)).strip()
    except git.exc.GitCommandError:  # no tag below the tip
        return (*fallback, DEFAULT_COMMITS)
    return tag, f"since the previous version tag {tag}", None


def read_history(
    repo_root: Path,
    since: str | None,
    until: str = "HEAD",
    paths: Sequence[str] = (),
    hot_files: Sequence[str] = (),
    max_commits: int = MAX_COMMITS,
    ignore_prefix: str | None = None,
    baseline_commit: str | None = None,
) -> HistoryWindow:
    """The user's commits in ``since..until`` (all of ``until``'s history without ``since``).

    perfinvest's own commits (checkpoints, commits of state files only) are left out and
    counted, and so are the state files in the others. At most ``max_commits`` of the
    user's commits are read, newest first. Commits the baseline did not measure (not
    below ``baseline_commit``) are flagged. Raises a usage error for an unknown
    revision, an empty repository, or a window without commits of the user's.
    """
    import git

    repo = _open(repo_root)
    try:
        head = repo.commit(until)
    except (git.exc.BadName, ValueError, git.exc.GitCommandError):
        if not repo.head.is_valid():
            raise usage_error(
                f"{repo_root} has no commits yet: there is no history to read"
            ) from None
        raise usage_error(f"unknown revision {until!r}") from None
    revision = head.hexsha
    if since is not None:
        revision = f"{_revision(repo, since, '--since').hexsha}..{head.hexsha}"
    after = _after_baseline(repo, baseline_commit, head.hexsha)
    hot = set(hot_files)
    window = HistoryWindow(commits=[], head=head.hexsha)
    kwargs = {"paths": list(paths)} if paths else {}
    for commit in repo.iter_commits(revision, **kwargs):  # type: ignore[arg-type]
        if is_checkpoint_message(str(commit.message)):  # no diff needed to know
            window.skipped_own += 1
            continue
        stats = commit.stats  # one `git diff` per commit: computed once, used twice
        if _is_own(commit, ignore_prefix, stats):
            window.skipped_own += 1
            continue
        if len(window.commits) >= max_commits:
            window.truncated = True
            break
        window.commits.append(_evidence(commit, stats, hot, ignore_prefix, after, window))
    if not window.commits:
        where = f" touching {', '.join(paths)}" if paths else ""
        own = f" ({window.skipped_own} checkpoint(s) left out)" if window.skipped_own else ""
        start = f"{since[:12] if _SHA.fullmatch(since) else since}.." if since else ""
        raise usage_error(
            f"no commits of yours in the window {start}{until}{where}"
            f"{own}: pass --since with an older revision (e.g. --since HEAD~20) or other --paths"
        )
    return window


def _after_baseline(repo: git.Repo, baseline_commit: str | None, head: str) -> set[str]:
    """The commits the baseline did not measure (``baseline..HEAD``; few: read at once)."""
    import git

    if not baseline_commit:
        return set()
    try:
        return set(str(repo.git.rev_list(f"{repo.commit(baseline_commit).hexsha}..{head}")).split())
    except (git.exc.BadName, ValueError, git.exc.GitCommandError):
        return set()


def _evidence(
    commit: git.Commit,
    stats: git.Stats,
    hot: set[str],
    ignore_prefix: str | None,
    after: set[str],
    window: HistoryWindow,
) -> CommitEvidence:
    files = sorted(str(name) for name in stats.files)
    if ignore_prefix:
        files = [f for f in files if not f.startswith(ignore_prefix)]
    message = str(commit.message)
    subject = message.strip().splitlines()[0] if message.strip() else ""
    words = perf_words(message)
    touched_hot = [f for f in files if f in hot]
    flags = []
    if words:
        flags.append(f"mentions performance: {', '.join(words[:4])}")
    flags.extend(f"touches hot file: {f}" for f in touched_hot)
    if commit.hexsha in after:
        flags.append(AFTER_BASELINE)
    for name in files:
        window.files_changed[name] = window.files_changed.get(name, 0) + 1
    return CommitEvidence(
        sha=commit.hexsha,
        author=str(commit.author.name or ""),
        date=commit.authored_datetime.isoformat(),
        subject=subject,
        files=files,
        insertions=int(stats.total.get("insertions", 0)),
        deletions=int(stats.total.get("deletions", 0)),
        flags=flags,
        hot_files=touched_hot,
    )
