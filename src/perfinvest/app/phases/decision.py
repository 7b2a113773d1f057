"""Phase 9, decision: a computed recommendation, and the user's verdict recorded next to it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from perfinvest.app.context import AppContext
from perfinvest.app.result import CommandResult
from perfinvest.app.session import PhaseRequest, PhaseWork, run_phase
from perfinvest.core import machine
from perfinvest.core.decision import Recommendation, recommend
from perfinvest.core.errors import PerfError, needs_input
from perfinvest.core.models import DecisionRecord, DecisionVerdict, Investigation
from perfinvest.core.phases import Phase


def _observed(ctx: AppContext, inv: Investigation) -> tuple[dict[str, float], str]:
    """The latest measured values: the last improved experiment's candidate, else the baseline."""
    for exp in reversed(inv.experiments):
        if exp.state == "measured" and exp.verdict == "improved" and exp.effects:
            return (
                {e.metric: e.candidate_mean for e in exp.effects},
                f"experiment {exp.number}'s candidate",
            )
    if inv.baseline is None:
        return {}, "no measurement"
    values: dict[str, float] = {}
    if inv.baseline.primary_value is not None:
        values[inv.setup.metric.name] = inv.baseline.primary_value
    try:
        doc = ctx.store.load_baseline(inv.baseline.version)
        for key, entry in doc.summaries.items():
            mean = entry.get("runs", {}).get("mean")
            if isinstance(mean, int | float):
                values[key] = float(mean)
    except (PerfError, AttributeError):
        pass
    return values, f"baseline {inv.baseline.version}"


def recommendation_of(ctx: AppContext, inv: Investigation) -> Recommendation:
    observed, source = _observed(ctx, inv)
    return recommend(inv.experiments, inv.setup.success_criteria, observed, source)


def _data(rec: Recommendation) -> dict[str, Any]:
    return {
        "recommendation": rec.verdict,
        "reasoning": rec.reasoning,
        "goal_met": rec.goal_met,
        "criteria": [c.model_dump(mode="json") for c in rec.criteria],
    }


def decide(
    ctx: AppContext, request: PhaseRequest, verdict: DecisionVerdict | None, rationale: str | None
) -> CommandResult:
    """Without --verdict: the recommendation and what is needed (exit 3). With it: recorded."""
    if request.skip_reason is None and (verdict is None or not (rationale and rationale.strip())):
        store = ctx.store
        with store.locked():
            inv = store.load_active()
            machine.require_runnable(inv, Phase.DECISION)
            rec = recommendation_of(ctx, inv)
        needs = []
        if verdict is None:
            needs.append(f"--verdict continue|stop|abandon (recommended: {rec.verdict})")
        if not (rationale and rationale.strip()):
            needs.append("--rationale: why, in a sentence or two")
        error = needs_input(
            f"decide recommends {rec.verdict!r}; record your verdict and its rationale", needs
        )
        result = CommandResult.failure(
            "decide",
            error,
            investigation=inv.id,
            phase=Phase.DECISION.value,
            baseline=inv.baseline.version if inv.baseline else None,
        )
        result.findings = [f"recommendation: {rec.verdict}", *rec.reasoning]
        result.data = _data(rec)
        return result
    steps = DecisionPhase(ctx, verdict, rationale)
    return run_phase(ctx, "decide", Phase.DECISION, request, steps.work)


@dataclass(frozen=True)
class DecisionPhase:
    """The decision phase's work (see :func:`run_phase`), callable alone."""

    ctx: AppContext
    verdict: DecisionVerdict | None
    rationale: str | None

    def work(self, inv: Investigation) -> PhaseWork:
        ctx, verdict, rationale = self.ctx, self.verdict, self.rationale
        assert verdict is not None and rationale is not None
        rec = recommendation_of(ctx, inv)
        inv.decision = DecisionRecord(
            verdict=verdict,
            rationale=rationale.strip(),
            recommendation=rec.verdict,
            reasoning=rec.reasoning,
            goal_met=rec.goal_met,
            criteria=rec.criteria,
            decided_at=ctx.now(),
        )
        agrees = "as recommended" if verdict == rec.verdict else f"recommended: {rec.verdict}"
        return PhaseWork(
            summary=f"verdict: {verdict} ({agrees})",
            decision=f"{verdict}: {rationale.strip()}",
            evidence=rec.reasoning,
            findings=[f"recommendation: {rec.verdict}", *rec.reasoning],
            data={**_data(rec), "verdict": verdict, "rationale": rationale.strip()},
        )
