"""``experiment start``: the journal first, then the tree recorded exactly."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass

from perfinvest.adapters import worktree as wt
from perfinvest.adapters.worktree.plumbing import os_errors_as_environment
from perfinvest.app.context import AppContext
from perfinvest.app.experiments.common import (
    VOLATILE_PERF,
    _normalize_files,
    _resolve_hypothesis,
    experiment_dir,
    repo_info,
    snapshot_ref,
)
from perfinvest.app.result import CommandResult
from perfinvest.app.session import PhaseRequest, PhaseWork, run_phase
from perfinvest.core.errors import refused, usage_error
from perfinvest.core.models import Experiment, Investigation, RecordedTree
from perfinvest.core.phases import Phase
from perfinvest.store.journal import Journal, read_journal, remove_journal, write_journal

# --------------------------------------------------------------------------- start


def start(
    ctx: AppContext,
    request: PhaseRequest,
    hypothesis: str | None,
    change: str | None,
    files: Sequence[str],
) -> CommandResult:
    """Record the tree exactly (journal first) and open experiment N."""
    steps = StartSteps(ctx, hypothesis, change, files)
    return run_phase(ctx, "experiment start", Phase.OPTIMIZATION, request, steps.work)


@dataclass(frozen=True)
class StartSteps:
    """``experiment start``'s work (see :func:`run_phase`), callable alone."""

    ctx: AppContext
    hypothesis: str | None
    change: str | None
    files: Sequence[str]

    def work(self, inv: Investigation) -> PhaseWork:
        ctx, hypothesis, change, files = self.ctx, self.hypothesis, self.change, self.files
        perf = ctx.paths.perf_dir
        existing = read_journal(perf)
        if existing is not None:
            if existing.crashed():
                raise refused(
                    f"experiment {existing.experiment} was interrupted while {existing.stage}: "
                    "run `perfinvest recover` first",
                    needs=["perfinvest recover"],
                )
            raise refused(
                f"experiment {existing.experiment} (investigation {existing.investigation}) is "
                f"still open ({existing.stage}): one change at a time; `perfinvest experiment "
                "run` or `perfinvest experiment abort` it first"
            )
        if not change or not change.strip():
            raise usage_error('--change is required: say what the one change is ("...")')
        linked = _resolve_hypothesis(inv, hypothesis)
        declared = _normalize_files(ctx, files)
        info = repo_info(ctx)
        number = len(inv.experiments) + 1
        store = experiment_dir(ctx, inv.id, number)
        ref = snapshot_ref(inv.id, number)
        journal = Journal(
            investigation=inv.id,
            experiment=number,
            stage="starting",
            repo=str(info.top),
            snapshot_ref=ref,
            snapshot_store=str(store),
            files=declared,
        )
        fresh = not store.exists()
        write_journal(perf, journal)  # before anything is recorded or touched
        try:
            with os_errors_as_environment("record the tree for the experiment"):
                snap = wt.take_snapshot(info, store, ref)
                journal.snapshot = snap.to_json()
                journal.perf_digest = wt.perf_state_digest(perf, VOLATILE_PERF)
                journal.claim("open")
                write_journal(perf, journal)
        except BaseException:
            wt.drop_ref(info.top, ref)
            remove_journal(perf)
            if fresh:  # the partial recording gives its space back
                shutil.rmtree(store, ignore_errors=True)
            raise
        exp = Experiment(
            number=number,
            kind="tree",
            hypothesis=linked,
            change=change.strip(),
            files=declared,
            state="open",
            started_at=ctx.now(),
            metric=inv.setup.metric.name,
            recorded=RecordedTree(
                head=snap.head,
                branch=snap.branch,
                snapshot_commit=snap.commit,
                tree=snap.tree,
                index_tree=snap.index_tree,
                files=snap.files,
                staged=list(snap.staged),
                modified=list(snap.modified),
                untracked=list(snap.untracked),
            ),
        )
        inv.experiments.append(exp)
        branch = snap.branch.removeprefix("refs/heads/")
        return PhaseWork(
            summary=f"experiment {number} started: {exp.change}",
            outcome="progress",
            evidence=[f"{branch} {snap.head[:12]}", f"snapshot {snap.commit[:12]} ({ref})"],
            findings=[
                f"recorded {branch} at {snap.head[:12]}: {snap.files} file(s); protected "
                f"{len(snap.staged)} staged, {len(snap.modified)} modified, "
                f"{len(snap.untracked)} untracked",
                "now make the one change"
                + (f" (in {', '.join(declared)})" if declared else "")
                + ", then `perfinvest experiment run`",
            ],
            data={"experiment": exp.model_dump(mode="json"), "snapshot_ref": ref},
        )
