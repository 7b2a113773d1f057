"""``perfinvest recover``: finish what a killed experiment left, and say exactly what was done.

:func:`ensure_no_unfinished_journal` runs before every command but ``recover``,
``status``, ``list`` and ``log``: a file-existence test first (no pydantic), so a clean
state costs nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from perfinvest.app.context import AppContext
from perfinvest.app.result import CommandResult
from perfinvest.core.errors import refused
from perfinvest.store.journal import Journal, journal_path, read_journal, remove_journal


def ensure_no_unfinished_journal(ctx: AppContext) -> None:
    """Refuse (exit 4) while a killed experiment's journal waits for ``perfinvest recover``."""
    if not journal_path(ctx.paths.perf_dir).exists():
        return
    journal = read_journal(ctx.paths.perf_dir)
    if journal is not None and journal.crashed():
        raise refused(
            f"experiment {journal.experiment} of investigation {journal.investigation} was "
            f"interrupted while {journal.stage} (process {journal.pid} is gone): the tree may "
            f"still hold its change; run `perfinvest recover` first: {what_recover_does(journal)}",
            needs=["perfinvest recover"],
        )


def what_recover_does(journal: Journal) -> str:
    """One sentence, from the journal alone (no scan): what ``recover`` will do to the tree."""
    if journal.snapshot is None:
        return "the tree was never touched; it only deletes the partial recording"
    if journal.change_manifest:
        shown = ", ".join(journal.changed[:5]) + (
            f" (+{len(journal.changed) - 5} more)" if len(journal.changed) > 5 else ""
        )
        return (
            f"it puts back as recorded only the file(s) the experiment changed ({shown}) that "
            "still hold its change, takes the change out of any you edited since (your edits "
            f"kept; if that cannot merge, your file is saved under artifacts/"
            f"{journal.investigation}/recover-<time>/), leaves every other file as it is, "
            "and removes its baseline-side worktree"
        )
    return (
        "it keeps the tree's differences from the recording as a patch, then puts every file "
        "back as recorded at `experiment start` and removes its baseline-side worktree"
    )


def _cleanup_stale_constraints() -> list[str]:
    """Stale cgroups and containers, when the constraints backends provide a cleanup."""
    try:
        from perfinvest.adapters.constraints.cleanup import (  # type: ignore[import-not-found,unused-ignore]
            cleanup_stale,
        )
    except ImportError:
        return []
    try:
        done: Any = cleanup_stale()
    except Exception as exc:  # never let a cleanup stop the tree's recovery
        return [f"stale constraint cleanup failed: {type(exc).__name__}: {exc}"]
    if not done:
        return []
    if isinstance(done, str):
        return [done]
    return [str(item) for item in done]


def _stop_orphaned_benchmarks() -> list[str]:
    """Rule 1: stop the benchmark tree a SIGKILLed perfinvest left running (lock file)."""
    from perfinvest.adapters.hostlock import stop_orphans

    return stop_orphans()


def _stale_worktrees(ctx: AppContext, keep: str | None) -> list[str]:
    from perfinvest.adapters import worktree as wt

    if not ctx.in_git_repo:
        return []
    actions = []
    from perfinvest.app.guardrails.ci_compare import in_use_by_live_compare

    for path in wt.stale_worktrees(ctx.repo_root):
        if keep is not None and str(path) == keep:
            continue
        if in_use_by_live_compare(path):  # a running `ci compare` removes its own
            continue
        if wt.remove_worktree(ctx.repo_root, path):
            actions.append(f"removed stale baseline-side worktree {path}")
    return actions


def recover(ctx: AppContext, release: bool = False) -> CommandResult:
    """Restore and verify the tree of an interrupted experiment; clean what it left."""
    from perfinvest.adapters import worktree as wt
    from perfinvest.app.recover_guards import clean_temp_folders, hands_off_reason
    from perfinvest.core.errors import usage_error

    perf = ctx.paths.perf_dir
    result = CommandResult(command="recover")
    journal = read_journal(perf)
    actions: list[str] = [*_stop_orphaned_benchmarks(), *clean_temp_folders()]
    if journal is None:
        if release:
            raise usage_error("--release: there is no experiment journal to release")
        actions.extend(_stale_worktrees(ctx, None))
        actions.extend(_cleanup_stale_constraints())
        result.findings = (
            [*actions, "no unfinished experiment to restore"]
            if actions
            else ["nothing to recover: no unfinished experiment, no orphaned benchmark"]
        )
        result.data = {"actions": actions, "journal": None}
        return result
    if journal.busy and journal.owner_alive() and journal.pid != os.getpid():
        raise refused(
            f"experiment {journal.experiment} is {journal.stage} in process {journal.pid} right "
            f"now: wait for it, or stop it (`kill -INT {journal.pid}` restores the tree)"
        )
    result.investigation = journal.investigation
    if journal.stage == "open":
        actions.extend(_stale_worktrees(ctx, None))
        actions.extend(_cleanup_stale_constraints())
        result.findings = [
            f"experiment {journal.experiment} is open, nothing was interrupted: make the change, "
            "then `perfinvest experiment run` (or `perfinvest experiment abort`)",
            *actions,
        ]
        result.data = {"actions": actions, "journal": journal.stage}
        return result
    info = wt.inspect_repo(ctx.repo_root, perf, strict=False)
    snapshot = wt.Snapshot.from_json(journal.snapshot) if journal.snapshot else None
    if snapshot is not None:
        reason = hands_off_reason(info, snapshot)
        if reason is not None:
            return _hands_off(ctx, journal, snapshot, reason, release, actions)
    return _restore_and_record(ctx, journal, info, snapshot, release, actions)


def _restore_and_record(
    ctx: AppContext,
    journal: Journal,
    info: Any,
    snapshot: Any,
    release: bool,
    actions: list[str],
) -> CommandResult:
    """Put the tree back as recorded (or only the change out), record, release the journal."""
    from perfinvest.adapters import worktree as wt
    from perfinvest.app.experiments import describe_check

    perf = ctx.paths.perf_dir
    stage = journal.stage
    check = None
    if snapshot is None:
        # killed while the snapshot was taken: nothing of the user's was touched
        if journal.snapshot_ref:
            wt.drop_ref(info.top, journal.snapshot_ref)
            actions.append(f"deleted the partial snapshot ref {journal.snapshot_ref}")
        actions.append(
            f"experiment {journal.experiment} was killed while starting: the tree was never touched"
        )
    else:
        check = _put_back(ctx, journal, info, snapshot, actions)
    patch_rel = journal.patch
    actions.extend(_stale_worktrees(ctx, None))
    actions.extend(_cleanup_stale_constraints())
    recorded, committed = _record(ctx, journal, stage, check, patch_rel, actions, None)
    verified = check is None or check.verified
    if verified or release:
        if snapshot is not None and verified:
            wt.drop_ref(info.top, snapshot.ref)
        remove_journal(perf)
        actions.append("journal removed: other commands may run again")
        if not verified:
            kept = snapshot.ref if snapshot else "-"
            actions.append(f"released unverified: the recorded tree stays at {kept}")
    result = CommandResult(command="recover", investigation=journal.investigation)
    result.findings = actions
    result.data = _answer_data(journal, stage, actions, check, patch_rel, recorded, committed)
    if not (verified or release):
        assert check is not None and snapshot is not None
        error = refused(
            f"{describe_check(check)}; the recorded tree is kept at {snapshot.ref} "
            f"(`git checkout {snapshot.ref} -- .` brings its files back); fix it and run "
            "`perfinvest recover` again, or `perfinvest recover --release` to accept the tree "
            "as it is"
        )
        failed = CommandResult.failure("recover", error, investigation=journal.investigation)
        failed.findings, failed.data = result.findings, result.data
        return failed
    return result


def _put_back(
    ctx: AppContext, journal: Journal, info: Any, snapshot: Any, actions: list[str]
) -> Any:
    """Keep the change as a patch, put back what still holds it, verify; the check."""
    from perfinvest.adapters import worktree as wt
    from perfinvest.app.experiments import (
        check_of,
        deferred_signals,
        describe_check,
        experiment_dir,
        put_back,
    )
    from perfinvest.store.atomic import atomic_write_bytes
    from perfinvest.store.journal import write_journal

    perf = ctx.paths.perf_dir
    if journal.worktree and wt.remove_worktree(info.top, Path(journal.worktree)):
        actions.append(f"removed the baseline-side worktree {journal.worktree}")
    if journal.patch is None:
        change = wt.current_change(info, snapshot)
        if change.files:  # keep the change before putting the tree back
            folder = experiment_dir(ctx, journal.investigation, journal.experiment)
            path = folder / "change.patch"
            atomic_write_bytes(path, change.patch)
            journal.patch = ctx.paths.relative(path)
            actions.append(f"kept the change as {journal.patch}")
    with deferred_signals():
        journal.claim("restoring")
        write_journal(perf, journal)
        # only what still holds the captured change goes back; the rest is the user's
        done, undone = put_back(ctx, info, snapshot, journal, "recover")
        actions.extend(done)
        verification = wt.verify(
            wt.inspect_repo(ctx.repo_root, perf, strict=False),
            snapshot,
            undone.expected if undone else None,
            undone.expected_index if undone else None,
        )
        journal.claim("restored")
        write_journal(perf, journal)
    check = check_of(verification, list(actions), ctx, undone)
    actions.append(describe_check(check))
    return check


def _hands_off(
    ctx: AppContext,
    journal: Journal,
    snapshot: Any,
    reason: str,
    release: bool,
    actions: list[str],
) -> CommandResult:
    """The user moved on (committed, switched branch) since the experiment began: touch no
    file, no index entry, no commit of theirs; keep the recorded version at its ref."""
    from perfinvest.adapters import worktree as wt

    stage = journal.stage
    if journal.worktree and wt.remove_worktree(ctx.repo_root, Path(journal.worktree)):
        actions.append(f"removed the baseline-side worktree {journal.worktree}")
    actions.extend(_stale_worktrees(ctx, None))
    actions.extend(_cleanup_stale_constraints())
    said = (
        f"{reason}; recover touched nothing: your files, index and commits stay as they are, "
        f"the tree recorded at `experiment start` is kept at {snapshot.ref} "
        f"(`git diff {snapshot.ref} HEAD` compares them)"
    )
    actions.append(said)
    note = f"recover touched nothing after a crash while {stage}: {reason}"
    recorded, committed = _record(ctx, journal, stage, None, journal.patch, actions, note)
    data = _answer_data(journal, stage, actions, None, journal.patch, recorded, committed)
    data["recorded_ref"] = snapshot.ref
    data["hands_off"] = reason
    if release:
        remove_journal(ctx.paths.perf_dir)
        actions.append(
            f"journal removed: the tree is accepted as it is; {snapshot.ref} keeps the recorded one"
        )
        result = CommandResult(command="recover", investigation=journal.investigation)
        result.findings, result.data = actions, data
        return result
    error = refused(
        f"{said}; bring back what you need from it, then `perfinvest recover --release` "
        "accepts the tree as it is"
    )
    failed = CommandResult.failure("recover", error, investigation=journal.investigation)
    failed.findings, failed.data = actions, data
    return failed


def _answer_data(
    journal: Journal,
    stage: str,
    actions: list[str],
    check: Any,
    patch_rel: str | None,
    recorded: bool,
    committed: Any,
) -> dict[str, Any]:
    from perfinvest.app.checkpoint import checkpoint_data

    return {
        "actions": actions,
        "journal": stage,
        "experiment": journal.experiment,
        "restore": check.model_dump(mode="json") if check is not None else None,
        "patch": patch_rel,
        "recorded_in_state": recorded,
        "checkpoint": checkpoint_data(committed) if committed is not None else None,
    }


def _record(
    ctx: AppContext,
    journal: Journal,
    stage: str,
    check: Any,
    patch_rel: str | None,
    actions: list[str],
    note: str | None,
) -> tuple[bool, Any]:
    """The record: the experiment is interrupted, with what the restore found (or ``note``)."""
    from perfinvest.app.after_save import append_log_soft
    from perfinvest.app.checkpoint import checkpoint
    from perfinvest.app.experiments import _artifact, find_experiment
    from perfinvest.app.queries import remember_status
    from perfinvest.core.errors import PerfError
    from perfinvest.core.models import Event
    from perfinvest.core.phases import Phase
    from perfinvest.core.report.log import render_event, render_header

    store = ctx.store
    with store.locked():
        try:
            inv = store.load_active()
        except PerfError:
            return False, None
        if inv.id != journal.investigation:
            return False, None
        try:
            exp = find_experiment(inv, journal.experiment)
        except PerfError:
            exp = None
        if exp is not None:
            if exp.state == "open":
                exp.state = "interrupted"
                exp.ended_at = ctx.now()
            exp.note = note or f"recovered by `perfinvest recover` after a crash while {stage}"
            if check is not None:
                exp.restore = check
                exp.restore_verified = check.verified
            if patch_rel is not None and exp.patch is None:
                patch_path = ctx.paths.perf_dir / patch_rel
                if patch_path.is_file():
                    exp.patch = _artifact(ctx, patch_path, f"experiment {exp.number}'s change")
        event = Event(
            at=ctx.now(),
            kind="recover",
            message=f"experiment {journal.experiment} (killed while {stage}): "
            + "; ".join(actions),
        )
        inv.events.append(event)
        store.save_active(inv)
        remember_status(ctx, inv)
        _, problems = append_log_soft(ctx, inv.id, render_header(inv), [render_event(event)])
        actions.extend(problems)
        return True, checkpoint(ctx, inv, Phase.OPTIMIZATION)
