"""What a repository's git folder says about operations under way.

Checkpoints and experiments both refuse to touch HEAD and the index while another
operation owns them; they ask here so the list of markers is kept in one place.
"""

from __future__ import annotations

from pathlib import Path

#: Files in the git dir that mean another operation owns HEAD and the index right now.
IN_PROGRESS: tuple[tuple[str, str], ...] = (
    ("MERGE_HEAD", "a merge"),
    ("rebase-merge", "a rebase"),
    ("rebase-apply", "a rebase or `git am`"),
    ("CHERRY_PICK_HEAD", "a cherry-pick"),
    ("REVERT_HEAD", "a revert"),
    ("BISECT_LOG", "a bisect"),
)


def operation_in_progress(git_dir: Path) -> str | None:
    """``"a merge"``, ``"a rebase"``... when one is under way in ``git_dir``, else None."""
    return next((name for marker, name in IN_PROGRESS if (git_dir / marker).exists()), None)


def index_locked(git_dir: Path) -> bool:
    return (git_dir / "index.lock").exists()
