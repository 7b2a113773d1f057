"""Putting the tree back: signals deferred, restore, verify, the check recorded."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path

from perfinvest.adapters import worktree as wt
from perfinvest.app.context import AppContext
from perfinvest.core.models import RestoreCheck
from perfinvest.store.journal import Journal, write_journal


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block is done (a restore is never cut in half)."""
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    except (ValueError, OSError):  # not the main thread: nothing to defer
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def check_of(verification: wt.Verification, actions: list[str], ctx: AppContext) -> RestoreCheck:
    return RestoreCheck(
        verified=verification.verified,
        head_same=verification.head_same,
        index_same=verification.index_same,
        files_identical=verification.files_identical,
        untracked_back=verification.untracked_back,
        checkpoint_commits=verification.checkpoint_commits,
        actions=actions,
        problems=verification.problems,
        at=ctx.now(),
    )


def describe_check(check: RestoreCheck) -> str:
    if check.verified:
        extra = (
            f" (HEAD advanced only by {check.checkpoint_commits} perfinvest checkpoint commit(s))"
            if check.checkpoint_commits
            else ""
        )
        return (
            "tree restored and verified: same HEAD, same index, every file byte-identical, "
            f"untracked files back{extra}"
        )
    return f"tree restore NOT verified: {'; '.join(check.problems)}"


def _restore_and_verify(
    ctx: AppContext,
    info: wt.RepoInfo,
    snapshot: wt.Snapshot,
    journal: Journal,
    worktree_path: Path | None,
) -> RestoreCheck:
    """Journal ``restoring``, remove the worktree, restore, verify, journal ``restored``."""
    perf = ctx.paths.perf_dir
    journal.claim("restoring")
    write_journal(perf, journal)
    actions: list[str] = []
    if worktree_path is not None and wt.remove_worktree(info.top, worktree_path):
        actions.append(f"removed the baseline-side worktree {worktree_path}")
    actions.extend(wt.restore(wt.inspect_repo(info.top, perf, strict=False), snapshot))
    verification = wt.verify(wt.inspect_repo(info.top, perf, strict=False), snapshot)
    journal.claim("restored")
    write_journal(perf, journal)
    return check_of(verification, actions, ctx)
