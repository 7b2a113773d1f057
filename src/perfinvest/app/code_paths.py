"""Phase 6, code paths."""

from __future__ import annotations

from perfinvest.app.context import AppContext
from perfinvest.app.records import RecordData, as_list, require_record, validate_all
from perfinvest.app.result import CommandResult
from perfinvest.app.session import PhaseRequest, PhaseWork, run_phase
from perfinvest.core.models import (
    CodePath,
    Investigation,
)
from perfinvest.core.phases import Phase


def code_paths(ctx: AppContext, request: PhaseRequest, record: RecordData | None) -> CommandResult:
    def work(inv: Investigation) -> PhaseWork:
        raw = require_record(record, Phase.CODE_PATHS, "CodePath objects")
        paths: list[CodePath] = validate_all(CodePath, as_list(raw), "--record")
        inv.code_paths = sorted(paths, key=lambda p: -p.score)
        return PhaseWork(
            summary=f"{len(paths)} code path(s) ranked",
            evidence=[f"{p.file}:{p.line or '?'} {p.function or ''}".strip() for p in paths[:10]],
        )

    return run_phase(ctx, "code-paths", Phase.CODE_PATHS, request, work)
