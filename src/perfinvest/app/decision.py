"""Phase 9, decision."""

from __future__ import annotations

from perfinvest.app.context import AppContext
from perfinvest.app.result import CommandResult
from perfinvest.app.session import PhaseRequest, PhaseWork, run_phase
from perfinvest.core.errors import needs_input
from perfinvest.core.models import (
    DecisionRecord,
    DecisionVerdict,
    Investigation,
)
from perfinvest.core.phases import Phase


def decide(
    ctx: AppContext, request: PhaseRequest, verdict: DecisionVerdict | None, rationale: str | None
) -> CommandResult:
    def work(inv: Investigation) -> PhaseWork:
        missing = []
        if verdict is None:
            missing.append("--verdict: continue, stop or abandon")
        if not rationale or not rationale.strip():
            missing.append("--rationale: why, in a sentence or two")
        if missing:
            raise needs_input("decide needs a verdict and its rationale", missing)
        assert verdict is not None and rationale is not None
        inv.decision = DecisionRecord(verdict=verdict, rationale=rationale.strip())
        return PhaseWork(summary=f"verdict: {verdict}", decision=f"{verdict}: {rationale.strip()}")

    return run_phase(ctx, "decide", Phase.DECISION, request, work)
