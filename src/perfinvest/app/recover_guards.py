"""What ``perfinvest recover`` checks before it touches the tree, and the temp folders it
cleans (issue 23 items 3, 4 and 8)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from perfinvest.adapters.worktree.repo import RepoInfo
    from perfinvest.adapters.worktree.snapshot import Snapshot


def hands_off_reason(info: RepoInfo, snapshot: Snapshot) -> str | None:
    """Why recover must leave the tree alone: the user committed or switched branch since
    the experiment began (HEAD moved by more than perfinvest's own checkpoints). Putting
    the recorded files back then would revert the user's own commit at their next
    ``git commit``."""
    from perfinvest.adapters.worktree.verifying import head_moved

    _, problem = head_moved(info, snapshot)
    if problem is None:
        return None
    return problem.split(": commit nothing")[0]


def clean_temp_folders() -> list[str]:
    """Remove the ``perfinvest-index-*``/``perfinvest-run-*``... folders a killed process left."""
    from perfinvest.adapters.tempdirs import remove_stale_temp_folders

    return remove_stale_temp_folders()
