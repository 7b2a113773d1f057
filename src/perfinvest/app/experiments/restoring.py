"""Putting the tree back: signals deferred, restore, verify, the check recorded."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path

from perfinvest.adapters import worktree as wt
from perfinvest.adapters.worktree.plumbing import os_errors_as_environment
from perfinvest.app.context import AppContext
from perfinvest.app.experiments.common import _few
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


class SignalHold:
    """SIGINT and SIGTERM held from the restore to the end of the record (issue 15 F3).

    Once the measurement is over and the tree is being put back, stopping would only throw
    away a finished A/B: a signal then waits, the run records its result, and
    :meth:`release` consumes the signal and names it, so the answer can say so.
    """

    SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})

    def __init__(self) -> None:
        self._old: set[int | signal.Signals] | None = None

    def start(self) -> None:
        if self._old is not None:
            return
        with contextlib.suppress(ValueError, OSError):  # not the main thread: nothing held
            self._old = signal.pthread_sigmask(signal.SIG_BLOCK, self.SIGNALS)

    def release(self) -> list[str]:
        """Unblock; the names of the signals that arrived while held (they are consumed)."""
        if self._old is None:
            return []
        caught: list[str] = []
        try:
            while (info := signal.sigtimedwait(self.SIGNALS, 0)) is not None:
                caught.append(signal.Signals(info.si_signo).name)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, self._old)
            self._old = None
        return caught


def held_note(caught: list[str]) -> str:
    return (
        f"{' and '.join(dict.fromkeys(caught))} arrived after the measurement had finished, "
        "while the tree was being restored or already back: the run finished recording its "
        "result instead of discarding it"
    )


def check_of(
    verification: wt.Verification,
    actions: list[str],
    ctx: AppContext,
    undone: wt.Undone | None = None,
) -> RestoreCheck:
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
        kept=list(undone.kept) if undone else [],
        merged=list(undone.merged) if undone else [],
        saved=list(undone.saved) if undone else [],
        saved_dir=str(undone.save_dir) if undone and undone.save_dir else None,
    )


def describe_check(check: RestoreCheck) -> str:
    if check.verified:
        extra = (
            f" (HEAD advanced only by {check.checkpoint_commits} perfinvest checkpoint commit(s))"
            if check.checkpoint_commits
            else ""
        )
        if check.kept or check.merged:
            yours = sorted({*check.kept, *check.merged})
            saved = (
                f"; your files as found are saved under {check.saved_dir}" if check.saved else ""
            )
            return (
                "tree restored and verified: same HEAD, same index, the experiment's change "
                f"taken out, every other file byte-identical; {len(yours)} file(s) you changed "
                f"after the change was captured kept ({_few(yours)}){saved}{extra}"
            )
        return (
            "tree restored and verified: same HEAD, same index, every file byte-identical, "
            f"untracked files back{extra}"
        )
    return f"tree restore NOT verified: {'; '.join(check.problems)}"


def save_dir_for(ctx: AppContext, investigation: str, kind: str) -> Path:
    """Where the user's files as found are saved before a restore replaces them."""
    stamp = ctx.now().strftime("%Y%m%dT%H%M%S%fZ")
    return ctx.paths.artifacts(investigation) / f"{kind}-{stamp}"


def capture_change(
    ctx: AppContext, info: wt.RepoInfo, snapshot: wt.Snapshot, journal: Journal, change: wt.Change
) -> None:
    """Keep the captured change (manifest and a ref) and name it in the journal.

    Written before the journal claims a busy stage: from then on a recovery knows exactly
    which files hold the experiment's change, and leaves every other edit alone.
    """
    with os_errors_as_environment("keep the experiment's change"):
        journal.change_manifest = str(wt.keep_change(info, snapshot, change))
    journal.changed = change.paths


def put_back(
    ctx: AppContext, info: wt.RepoInfo, snapshot: wt.Snapshot, journal: Journal, kind: str
) -> tuple[list[str], wt.Undone | None]:
    """Take the captured change out (everything back when none was captured); what was done."""
    manifest = Path(journal.change_manifest) if journal.change_manifest else None
    if manifest is not None and manifest.is_file():
        save_dir = save_dir_for(ctx, journal.investigation, kind)
        undone = wt.undo_change(info, snapshot, wt.kept_change(manifest), save_dir)
        return list(undone.actions), undone
    return wt.restore(info, snapshot), None


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
    done, undone = put_back(
        ctx, wt.inspect_repo(info.top, perf, strict=False), snapshot, journal, "restore"
    )
    actions.extend(done)
    verification = wt.verify(
        wt.inspect_repo(info.top, perf, strict=False),
        snapshot,
        undone.expected if undone else None,
        undone.expected_index if undone else None,
    )
    journal.claim("restored")
    write_journal(perf, journal)
    return check_of(verification, actions, ctx, undone)
