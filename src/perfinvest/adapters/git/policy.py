"""What the user's git configuration asks of a checkpoint commit (F8).

The policy, in one place (docs/checkpoints.md explains it to users):

- ``.gitignore`` is honoured: when a perf file to commit is git-ignored (and not already
  tracked), the checkpoint is skipped with the rule that ignores it; nothing is force-added.
- signing follows the user: under ``commit.gpgsign=true`` the checkpoint is signed with the
  user's own key and format (``-S``); if signing fails the checkpoint is skipped, never
  made unsigned.
- commit hooks are not run: a checkpoint holds only perfinvest's JSON and markdown, and a
  hook run against the temporary index could rewrite the user's work tree (pre-commit
  stashes "unstaged" changes). When the repository has such hooks the answer says so.
- ``git config perfinvest.checkpoints false`` turns checkpoints off for the repository.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from perfinvest.adapters.git.run import run_git as _run

#: Hooks ``git commit`` would run and a checkpoint (``commit-tree``) does not.
COMMIT_HOOKS = ("pre-commit", "prepare-commit-msg", "commit-msg", "post-commit")


def _config_bool(top: Path, key: str) -> bool | None:
    proc = _run(top, "config", "--type=bool", "--get", key)
    value = proc.stdout.strip()
    return None if proc.returncode != 0 or not value else value == "true"


def disabled(top: Path) -> str | None:
    """The skip reason when the repository's config turns checkpoints off."""
    if _config_bool(top, "perfinvest.checkpoints") is False:
        return "disabled by `git config perfinvest.checkpoints false`"
    return None


def ignored(top: Path, rels: Sequence[str]) -> str | None:
    """The skip reason when one of ``rels`` is git-ignored and untracked, else None."""
    if not rels:
        return None
    proc = _run(top, "check-ignore", "-v", "-z", "--stdin", stdin="\0".join(rels) + "\0")
    fields = proc.stdout.split("\0")
    records = [fields[i : i + 4] for i in range(0, len(fields) - 3, 4)]
    # -v also reports paths whose last matching pattern is a negation: those are kept.
    hits = [r for r in records if not r[2].startswith("!")]
    if proc.returncode != 0 or not hits:
        return None
    source, line, pattern, path = hits[0]
    more = f" (and {len(hits) - 1} more)" if len(hits) > 1 else ""
    return (
        f"{path}{more} is git-ignored ({source}:{line}: {pattern}); checkpoints honour "
        ".gitignore and never force-add: un-ignore the perf state folder to checkpoint it, "
        "or pass --no-checkpoint"
    )


def signing_args(top: Path) -> list[str]:
    """``["-S"]`` when the user signs their commits (``commit.gpgsign``), else nothing."""
    return ["-S"] if _config_bool(top, "commit.gpgsign") else []


def hooks_not_run(top: Path) -> list[str]:
    """The commit hooks of this repository a checkpoint does not run (executable ones)."""
    proc = _run(top, "rev-parse", "--git-path", "hooks")
    if proc.returncode != 0 or not proc.stdout.strip():
        return []
    folder = Path(proc.stdout.strip())
    folder = folder if folder.is_absolute() else top / folder
    return [
        name
        for name in COMMIT_HOOKS
        if (folder / name).is_file() and os.access(folder / name, os.X_OK)
    ]


def hooks_note(hooks: Sequence[str]) -> str:
    return (
        f"commit hooks not run ({', '.join(hooks)}): checkpoints hold only perfinvest's "
        "state files and never run hooks (docs/checkpoints.md)"
    )
