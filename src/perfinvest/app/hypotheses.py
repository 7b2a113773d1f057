"""Phase 5, hypotheses: git history first (rule 8), then hypotheses."""

from __future__ import annotations

from collections.abc import Sequence

from perfinvest.adapters.git_history import read_history
from perfinvest.app.context import AppContext
from perfinvest.app.result import CommandResult
from perfinvest.app.session import PhaseRequest, PhaseWork, run_phase
from perfinvest.core.errors import refused, usage_error
from perfinvest.core.models import (
    Confidence,
    HistoryEvidence,
    Hypothesis,
    Investigation,
)
from perfinvest.core.phases import Phase


def gather_history(
    ctx: AppContext, request: PhaseRequest, since: str | None, paths: Sequence[str]
) -> CommandResult:
    """Rule 8: read the git history of the window before any hypothesis is written."""

    def work(inv: Investigation) -> PhaseWork:
        if not ctx.in_git_repo:
            raise refused(f"{ctx.repo_root} is not a git repository: there is no history to read")
        commits = read_history(ctx.repo_root, since, "HEAD", paths)
        inv.history = HistoryEvidence(
            gathered_at=ctx.now(), since=since, paths=list(paths), commits=commits
        )
        flagged = [c for c in commits if c.flags]
        return PhaseWork(
            summary=f"git history gathered: {len(commits)} commit(s), {len(flagged)} flagged",
            outcome="progress",
            evidence=[f"{c.sha[:10]} {c.subject}" for c in commits[:20]],
            data={"commits": [c.model_dump() for c in commits]},
        )

    return run_phase(ctx, "hypotheses gather", Phase.HYPOTHESES, request, work, step_exempt=True)


def add_hypothesis(
    ctx: AppContext,
    request: PhaseRequest,
    statement: str,
    evidence: Sequence[str],
    confidence: Confidence,
) -> CommandResult:
    def work(inv: Investigation) -> PhaseWork:
        if not statement.strip():
            raise usage_error("a hypothesis needs a statement")
        hypothesis = Hypothesis(
            id=f"H{len(inv.hypotheses) + 1}",
            statement=statement.strip(),
            evidence=list(evidence),
            confidence=confidence,
            created_at=ctx.now(),
        )
        inv.hypotheses.append(hypothesis)
        return PhaseWork(
            summary=f"{hypothesis.id} ({confidence}): {hypothesis.statement}",
            evidence=list(evidence),
            data={"hypothesis": hypothesis.model_dump(mode="json")},
        )

    return run_phase(ctx, "hypotheses add", Phase.HYPOTHESES, request, work)
