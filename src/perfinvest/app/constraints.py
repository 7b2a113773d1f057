"""Phase 4, constraints."""

from __future__ import annotations

from perfinvest.app.context import AppContext
from perfinvest.app.records import RecordData, as_list, require_record, validate_all
from perfinvest.app.result import CommandResult
from perfinvest.app.session import PhaseRequest, PhaseWork, run_phase
from perfinvest.core.models import (
    ConstraintResult,
    Investigation,
)
from perfinvest.core.phases import Phase


def constraints(ctx: AppContext, request: PhaseRequest, record: RecordData | None) -> CommandResult:
    def work(inv: Investigation) -> PhaseWork:
        raw = require_record(record, Phase.CONSTRAINTS, "ConstraintResult objects")
        results: list[ConstraintResult] = validate_all(ConstraintResult, as_list(raw), "--record")
        inv.constraints.extend(results)
        ooms = sum(1 for r in results if r.oom_killed)
        return PhaseWork(
            summary=f"{len(results)} constrained configuration(s) recorded, {ooms} OOM-killed",
            evidence=[f"{r.backend}: cpu={r.cpu} memory={r.memory_bytes}" for r in results],
        )

    return run_phase(ctx, "constraints", Phase.CONSTRAINTS, request, work)
