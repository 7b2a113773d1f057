"""Phase 3, breaking point."""

from __future__ import annotations

from perfinvest.app.context import AppContext
from perfinvest.app.records import RecordData, require_record
from perfinvest.app.result import CommandResult
from perfinvest.app.session import PhaseRequest, PhaseWork, run_phase
from perfinvest.core.errors import usage_error
from perfinvest.core.models import (
    BreakingPointResult,
    Investigation,
    validate_input,
)
from perfinvest.core.phases import Phase


def breaking_point(
    ctx: AppContext, request: PhaseRequest, record: RecordData | None
) -> CommandResult:
    def work(inv: Investigation) -> PhaseWork:
        raw = require_record(record, Phase.BREAKING_POINT, "a BreakingPointResult object")
        result = validate_input(BreakingPointResult, raw, "--record")
        if result.minimum > result.maximum:
            raise usage_error(f"minimum {result.minimum:g} is above maximum {result.maximum:g}")
        inv.breaking_point = result
        found = (
            f"breaking point {result.breaking_point:g} (last passing {result.last_passing})"
            if result.breaking_point is not None
            else "no breaking point in the range"
        )
        return PhaseWork(
            summary=f"{found} over {result.parameter} in [{result.minimum:g}, {result.maximum:g}]",
            evidence=[f"{len(result.probes)} probe(s)", *result.thresholds],
            data={"breaking_point": result.model_dump(mode="json")},
        )

    return run_phase(ctx, "breaking-point", Phase.BREAKING_POINT, request, work)
