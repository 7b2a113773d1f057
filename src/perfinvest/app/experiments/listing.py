"""``experiment list``, ``show`` and ``apply``: reading and re-applying kept changes."""

from __future__ import annotations

from perfinvest.adapters import worktree as wt
from perfinvest.app.after_save import append_log_soft
from perfinvest.app.answers import base_result
from perfinvest.app.context import AppContext
from perfinvest.app.experiments.common import _few, experiments_table, find_experiment, repo_info
from perfinvest.app.experiments.restoring import describe_check
from perfinvest.app.result import CommandResult
from perfinvest.core.errors import refused
from perfinvest.core.models import Event
from perfinvest.core.phases import Phase
from perfinvest.store.journal import read_journal

# --------------------------------------------------------------------------- queries


def list_experiments(ctx: AppContext) -> CommandResult:
    store = ctx.store
    with store.locked():
        inv = store.load_active()
    result = base_result("experiment list", inv, Phase.OPTIMIZATION)
    result.findings = experiments_table(inv) or ["no experiments yet"]
    journal = read_journal(ctx.paths.perf_dir)
    result.data["experiments"] = [
        e.model_dump(mode="json", exclude={"recorded", "diffstat"}) for e in inv.experiments
    ]
    result.data["open"] = journal.experiment if journal is not None else None
    return result


def show_experiment(ctx: AppContext, number: int) -> CommandResult:
    store = ctx.store
    with store.locked():
        inv = store.load_active()
    exp = find_experiment(inv, number)
    result = base_result("experiment show", inv, Phase.OPTIMIZATION)
    result.findings = [row for row in experiments_table(inv) if row.startswith(f"#{number} ")]
    if exp.restore is not None:
        result.findings.append(describe_check(exp.restore))
    result.data["experiment"] = exp.model_dump(mode="json")
    return result


def apply_change(ctx: AppContext, number: int) -> CommandResult:
    """Re-apply experiment N's patch to the working tree, for the user to commit.

    The state change (the event, the log line) ends in a checkpoint commit of the perf
    files like every phase's does; the applied code is left for the user to commit.
    """
    from perfinvest.app.checkpoint import checkpoint, checkpoint_data
    from perfinvest.app.queries import remember_status
    from perfinvest.core.report.log import render_event, render_header

    store = ctx.store
    with store.locked():
        inv = store.load_active()
        exp = find_experiment(inv, number)
        journal = read_journal(ctx.paths.perf_dir)
        if journal is not None:
            raise refused(
                f"experiment {journal.experiment} is open ({journal.stage}): applying another "
                "change now would mix two changes; run or abort it first"
            )
        if exp.patch is None:
            raise refused(f"experiment {number} has no patch (state {exp.state}, kind {exp.kind})")
        patch = ctx.paths.perf_dir / exp.patch.path
        if not patch.is_file():
            raise refused(f"the patch {patch} of experiment {number} is missing")
        repo_info(ctx)
        files = wt.apply_patch(ctx.repo_root, patch)
        event = Event(
            at=ctx.now(),
            kind="change applied",
            message=f"experiment {number}'s patch applied to the working tree: {_few(files)}",
        )
        inv.events.append(event)
        store.save_active(inv)
        remember_status(ctx, inv)
        _, log_problems = append_log_soft(ctx, inv.id, render_header(inv), [render_event(event)])
        committed = checkpoint(ctx, inv, Phase.OPTIMIZATION)
    result = base_result("experiment apply", inv, Phase.OPTIMIZATION)
    result.findings = [
        f"experiment {number}'s change applied to the working tree ({_few(files)}): review and "
        "commit it yourself",
        *log_problems,
    ]
    result.data["files"] = files
    result.data["patch"] = str(patch)
    result.data["checkpoint"] = checkpoint_data(committed)
    return result
