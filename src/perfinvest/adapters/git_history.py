"""Reading git history for rule 8 (hypotheses come after the history is read)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from perfinvest.core.errors import environment_error, usage_error
from perfinvest.core.models import CommitEvidence

_FIELD = "\x1f"
_RECORD = "\x1e"
_PERF_WORDS = re.compile(
    r"\b(perf|performance|slow|slower|fast|faster|speed|latency|throughput|optimi[sz]\w*|"
    r"cache|regression|quadratic|O\(n|memory|alloc\w*|hot ?path|benchmark)\b",
    re.IGNORECASE,
)


def _git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise environment_error("git is not installed; install git to gather history") from None
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["unknown error"])[0]
        raise usage_error(f"git {' '.join(args[:2])} failed: {first}")
    return done.stdout


def read_history(
    repo: Path, since: str | None, until: str = "HEAD", paths: Sequence[str] = ()
) -> list[CommitEvidence]:
    """Commits in ``since..until`` (all of ``until``'s history without ``since``), newest first."""
    revision = f"{since}..{until}" if since else until
    out = _git(
        repo,
        "log",
        f"--format={_RECORD}%H{_FIELD}%an{_FIELD}%aI{_FIELD}%s",
        "--numstat",
        "--no-renames",
        revision,
        "--",
        *paths,
    )
    commits: list[CommitEvidence] = []
    for record in out.split(_RECORD)[1:]:
        header, _, body = record.partition("\n")
        sha, author, date, subject = [*header.split(_FIELD), "", "", ""][:4]
        files: list[str] = []
        insertions = deletions = 0
        for line in body.splitlines():
            parts = line.split("\t")
            if len(parts) != 3:
                continue
            added, removed, name = parts
            files.append(name)
            insertions += int(added) if added.isdigit() else 0
            deletions += int(removed) if removed.isdigit() else 0
        flags = ["mentions performance"] if _PERF_WORDS.search(subject) else []
        commits.append(
            CommitEvidence(
                sha=sha,
                author=author,
                date=date,
                subject=subject,
                files=files,
                insertions=insertions,
                deletions=deletions,
                flags=flags,
            )
        )
    return commits
