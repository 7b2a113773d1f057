"""Phase 10, consolidation: one baseline per version, investigation complete."""

from __future__ import annotations

from dataclasses import dataclass

from perfinvest.app.context import AppContext
from perfinvest.app.result import CommandResult
from perfinvest.app.session import PhaseRequest, PhaseWork, run_phase
from perfinvest.core.models import (
    Consolidation,
    Investigation,
)
from perfinvest.core.phases import Phase
from perfinvest.core.stats.baselines import mergeable, resolve_key, summarize_runs


def consolidate(ctx: AppContext, request: PhaseRequest) -> CommandResult:
    """Merge this version's validated runs into its single baseline; mark complete."""
    steps = ConsolidationPhase(ctx)
    return run_phase(ctx, "consolidate", Phase.CONSOLIDATION, request, steps.work)


@dataclass(frozen=True)
class ConsolidationPhase:
    """The consolidation phase's work (see :func:`run_phase`), callable alone."""

    ctx: AppContext

    def work(self, inv: Investigation) -> PhaseWork:
        ctx = self.ctx
        now = ctx.now()
        if inv.baseline is None or inv.baseline.version != inv.setup.version:
            inv.consolidation = Consolidation(version=inv.setup.version, completed_at=now)
            return PhaseWork(
                summary=f"investigation complete; no baseline measured for {inv.setup.version}",
                findings=["no baseline to consolidate: run `perfinvest baseline` next time"],
            )
        store = ctx.store
        current = store.load_baseline(inv.baseline.version)
        archived = [
            (path, doc)
            for path, doc in store.archived_baselines(inv.baseline.version)
            if doc.investigation_id == inv.id
        ]
        mine = [doc for _, doc in archived]
        if current.investigation_id == inv.id:
            mine.append(current)
        runs = mergeable(mine)
        # the file replaced now is archived by write_baseline and named in ``supersedes``
        merged = current.model_copy(
            update={
                "runs": runs,
                "summaries": summarize_runs(runs),
                "consolidated": True,
                "created_at": now,
                "merged_from": [p for p, _ in archived],
            }
        )
        path = store.write_baseline(merged, now)
        primary = merged.summaries.get(resolve_key(runs, inv.setup.metric.name) or "", {}).get(
            "runs", {}
        )
        inv.baseline = inv.baseline.model_copy(
            update={"runs": len(runs), "primary_value": primary.get("mean"), "created_at": now}
        )
        inv.consolidation = Consolidation(
            version=inv.setup.version, baseline_path=inv.baseline.path, completed_at=now
        )
        return PhaseWork(
            summary=(
                f"investigation complete; baseline {inv.setup.version} consolidated from "
                f"{len(runs)} valid run(s) of {len(mine)} measurement(s)"
            ),
            evidence=[ctx.paths.relative(path)],
            data={"baseline_path": str(path), "merged_runs": len(runs)},
        )
