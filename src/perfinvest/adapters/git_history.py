"""Reading git history for rule 8 (hypotheses come after the history is read), via gitpython.

``read_history`` lists the commits of a window (``since..until``, or all of ``until``'s
history without ``since``) with the files each changed, their diff stats, and flags: a
message with performance words, a change to a file that is hot in the latest profile.
``git`` (gitpython) is imported only here, only when history is read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from perfinvest.core.errors import environment_error, usage_error
from perfinvest.core.models import CommitEvidence

if TYPE_CHECKING:
    import git

#: Most commits read for one window; older ones are left out and said so.
MAX_COMMITS = 500
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


def read_history(
    repo_root: Path,
    since: str | None,
    until: str = "HEAD",
    paths: Sequence[str] = (),
    hot_files: Sequence[str] = (),
    max_commits: int = MAX_COMMITS,
    ignore_prefix: str | None = None,
) -> HistoryWindow:
    """Commits in ``since..until`` (all of ``until``'s history without ``since``), newest first.

    Commits that only touch files under ``ignore_prefix`` (perfinvest's own checkpoint
    commits of the state folder) are left out, and so are those files. Raises a usage error
    for an unknown revision, an empty repository, or a window with no commits, naming what
    to pass instead.
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
    if since is not None:
        try:
            base = repo.commit(since)
        except (git.exc.BadName, ValueError, git.exc.GitCommandError):
            raise usage_error(
                f"--since {since!r} is not a revision of this repository (a commit, tag or "
                "branch, e.g. HEAD~10)"
            ) from None
        revision = f"{base.hexsha}..{head.hexsha}"
    else:
        revision = head.hexsha
    hot = set(hot_files)
    commits: list[CommitEvidence] = []
    files_changed: dict[str, int] = {}
    truncated = False
    kwargs = {"paths": list(paths)} if paths else {}
    for index, commit in enumerate(repo.iter_commits(revision, **kwargs)):  # type: ignore[arg-type]
        if index >= max_commits:
            truncated = True
            break
        stats = commit.stats
        files = sorted(str(name) for name in stats.files)
        if ignore_prefix:
            files = [f for f in files if not f.startswith(ignore_prefix)]
            if not files and stats.files:
                continue
        message = str(commit.message)
        subject = message.strip().splitlines()[0] if message.strip() else ""
        words = perf_words(message)
        touched_hot = [f for f in files if f in hot]
        flags = []
        if words:
            flags.append(f"mentions performance: {', '.join(words[:4])}")
        flags.extend(f"touches hot file: {f}" for f in touched_hot)
        for name in files:
            files_changed[name] = files_changed.get(name, 0) + 1
        commits.append(
            CommitEvidence(
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
        )
    if not commits:
        window = f"{since}..{until}" if since else until
        where = f" touching {', '.join(paths)}" if paths else ""
        raise usage_error(
            f"no commits in the window {window}{where}: pass --since with an older revision "
            "(e.g. --since HEAD~20) or other --paths"
        )
    return HistoryWindow(commits, head.hexsha, files_changed, truncated)
