"""Phase 7, profiling."""

from __future__ import annotations

from perfinvest.app.context import AppContext
from perfinvest.app.records import RecordData, require_record
from perfinvest.app.result import CommandResult
from perfinvest.app.session import PhaseRequest, PhaseWork, run_phase
from perfinvest.core.models import (
    Investigation,
    ProfilingResult,
    validate_input,
)
from perfinvest.core.phases import Phase


def profiling(ctx: AppContext, request: PhaseRequest, record: RecordData | None) -> CommandResult:
    def work(inv: Investigation) -> PhaseWork:
        raw = require_record(record, Phase.PROFILING, "a ProfilingResult object")
        result = validate_input(ProfilingResult, raw, "--record")
        inv.profiling.append(result)
        top = result.hotspots[0].function if result.hotspots else "none"
        return PhaseWork(
            summary=f"{result.profiler} profile recorded, top hotspot: {top}",
            evidence=[
                f"{h.function} {h.file}:{h.line} self {h.self_pct:.1f}%"
                for h in result.hotspots[:10]
            ],
        )

    return run_phase(ctx, "profile", Phase.PROFILING, request, work)
