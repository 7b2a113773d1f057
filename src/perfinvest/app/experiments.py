"""Phase 8, optimization experiments."""

from __future__ import annotations

from perfinvest.app.context import AppContext
from perfinvest.app.records import RecordData, require_record
from perfinvest.app.result import CommandResult
from perfinvest.app.session import PhaseRequest, PhaseWork, run_phase
from perfinvest.core.models import (
    Experiment,
    Investigation,
    validate_input,
)
from perfinvest.core.phases import Phase


def experiment(ctx: AppContext, request: PhaseRequest, record: RecordData | None) -> CommandResult:
    def work(inv: Investigation) -> PhaseWork:
        raw = require_record(record, Phase.OPTIMIZATION, "an Experiment object")
        if isinstance(raw, dict):
            raw = {**raw, "number": len(inv.experiments) + 1}
        result = validate_input(Experiment, raw, "--record")
        inv.experiments.append(result)
        delta = f"{result.relative_change:+.2%}" if result.relative_change is not None else None
        return PhaseWork(
            summary=(
                f"experiment {result.number}: {result.change}: {result.verdict or 'no verdict'}"
            ),
            evidence=[*result.files],
            delta=delta,
        )

    return run_phase(ctx, "experiment", Phase.OPTIMIZATION, request, work)
