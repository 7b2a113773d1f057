"""``experiment abort``: the tree put back without measuring, the change kept."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from perfinvest.adapters import worktree as wt
from perfinvest.app.context import AppContext
from perfinvest.app.experiments.common import (
    _artifact,
    _open_journal,
    experiment_dir,
    find_experiment,
    repo_info,
)
from perfinvest.app.experiments.restoring import (
    SignalHold,
    _restore_and_verify,
    capture_change,
    describe_check,
)
from perfinvest.app.result import CommandResult
from perfinvest.app.session import PhaseRequest, PhaseWork, run_phase
from perfinvest.core.errors import refused
from perfinvest.core.models import Investigation
from perfinvest.core.phases import Phase
from perfinvest.store.atomic import atomic_write_bytes
from perfinvest.store.journal import read_journal, remove_journal, write_journal

# --------------------------------------------------------------------------- abort


def abort(ctx: AppContext, request: PhaseRequest) -> CommandResult:
    """Put the tree back as recorded without measuring; the change is kept as a patch."""
    perf = ctx.paths.perf_dir
    hold = SignalHold()
    steps = AbortSteps(ctx, perf, hold)
    try:
        result = run_phase(ctx, "experiment abort", Phase.OPTIMIZATION, request, steps.work)
    finally:
        caught = hold.release()
    if caught:
        result.findings.append(
            f"{' and '.join(dict.fromkeys(caught))} arrived while the tree was being put back: "
            "the abort finished recording first"
        )
        result.data["signals_held"] = caught
    return result


@dataclass(frozen=True)
class AbortSteps:
    """``experiment abort``'s work (see :func:`run_phase`), callable alone."""

    ctx: AppContext
    perf: Path
    hold: SignalHold

    def work(self, inv: Investigation) -> PhaseWork:
        ctx, perf, hold = self.ctx, self.perf, self.hold
        journal = read_journal(perf)
        if journal is None:
            opened = [e for e in inv.experiments if e.state == "open"]
            if not opened:
                raise refused("no experiment is open: nothing to abort")
            for exp in opened:
                exp.state = "aborted"
                exp.ended_at = ctx.now()
                exp.note = "aborted without a journal: nothing to restore"
            return PhaseWork(
                summary=f"experiment {opened[-1].number} aborted (no journal: nothing to restore)",
                outcome="progress",
            )
        journal = _open_journal(ctx, inv)
        exp = find_experiment(inv, journal.experiment)
        info = repo_info(ctx)
        assert journal.snapshot is not None
        snap = wt.Snapshot.from_json(journal.snapshot)
        change = wt.current_change(info, snap)
        if change.files:
            path = experiment_dir(ctx, inv.id, exp.number) / "change.patch"
            atomic_write_bytes(path, change.patch)
            exp.patch = _artifact(ctx, path, f"experiment {exp.number}'s change (aborted)")
            exp.changed_files = [f"{status} {p}" for status, p in change.files]
            exp.diffstat = change.diffstat
            journal.patch = exp.patch.path
        capture_change(ctx, info, snap, journal, change)
        # one write with the captured change: a kill from here on is finished by `recover`,
        # which then takes out only this change and keeps any later edit
        journal.claim("aborting")
        write_journal(perf, journal)
        hold.start()  # held to the end of the record: the tree is being put back
        check = _restore_and_verify(ctx, info, snap, journal, None)
        exp.state = "aborted"
        exp.ended_at = ctx.now()
        exp.restore = check
        exp.restore_verified = check.verified
        findings = [describe_check(check)]
        if exp.patch is not None:
            findings.append(
                f"the change is kept as {exp.patch.path} "
                f"(`perfinvest experiment apply {exp.number}` re-applies it)"
            )
        if check.verified:
            wt.drop_ref(info.top, snap.ref)
            remove_journal(perf)
            return PhaseWork(
                summary=f"experiment {exp.number} aborted: {exp.change}",
                outcome="progress",
                findings=findings,
                data={"experiment": exp.model_dump(mode="json")},
            )
        return PhaseWork(
            summary=f"experiment {exp.number} aborted, restore not verified",
            outcome="failed",
            findings=findings,
            data={"experiment": exp.model_dump(mode="json")},
            error=refused(
                f"{describe_check(check)}; the recorded tree is kept at {snap.ref}: run "
                "`perfinvest recover`",
                needs=["perfinvest recover"],
            ),
        )
