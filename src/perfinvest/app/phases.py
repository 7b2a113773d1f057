"""One use case per phase after setup (2-10).

The measuring, profiling and experimenting engines arrive in later issues; until then each
phase records what it is given (``--record FILE``: JSON validated against the phase's
record model) under the full machinery of ordering, preconditions, attempts, log and
checkpoint, which :func:`perfinvest.app.session.run_phase` provides.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from perfinvest.adapters.git_history import read_history
from perfinvest.app.context import AppContext
from perfinvest.app.result import CommandResult
from perfinvest.app.session import PhaseRequest, PhaseWork, run_phase
from perfinvest.core.baselines import mergeable, summarize_runs
from perfinvest.core.errors import needs_input, refused, usage_error
from perfinvest.core.models import (
    BreakingPointResult,
    CodePath,
    Confidence,
    Consolidation,
    ConstraintResult,
    DecisionRecord,
    DecisionVerdict,
    Experiment,
    HistoryEvidence,
    Hypothesis,
    Investigation,
    ProfilingResult,
    validate_input,
)
from perfinvest.core.phases import Phase

RecordData = Any  # parsed JSON from a --record file


def _require_record(record: RecordData | None, phase: Phase, shape: str) -> RecordData:
    if record is None:
        raise usage_error(
            f"{phase.value} records what it is given: pass --record FILE with {shape} "
            '(or --skip-reason "why" to skip the phase)'
        )
    return record


def _as_list(record: RecordData) -> list[Any]:
    return record if isinstance(record, list) else [record]


def _validate_all(model: type[BaseModel], items: list[Any], source: str) -> list[Any]:
    return [validate_input(model, item, f"{source} item {i}") for i, item in enumerate(items)]


# --- phases 3 and 4 -----------------------------------------------------------------------


def breaking_point(
    ctx: AppContext, request: PhaseRequest, record: RecordData | None
) -> CommandResult:
    def work(inv: Investigation) -> PhaseWork:
        raw = _require_record(record, Phase.BREAKING_POINT, "a BreakingPointResult object")
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


def constraints(ctx: AppContext, request: PhaseRequest, record: RecordData | None) -> CommandResult:
    def work(inv: Investigation) -> PhaseWork:
        raw = _require_record(record, Phase.CONSTRAINTS, "ConstraintResult objects")
        results: list[ConstraintResult] = _validate_all(ConstraintResult, _as_list(raw), "--record")
        inv.constraints.extend(results)
        ooms = sum(1 for r in results if r.oom_killed)
        return PhaseWork(
            summary=f"{len(results)} constrained configuration(s) recorded, {ooms} OOM-killed",
            evidence=[f"{r.backend}: cpu={r.cpu} memory={r.memory_bytes}" for r in results],
        )

    return run_phase(ctx, "constraints", Phase.CONSTRAINTS, request, work)


# --- phase 5 ------------------------------------------------------------------------------


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


# --- phases 6 to 8 ------------------------------------------------------------------------


def code_paths(ctx: AppContext, request: PhaseRequest, record: RecordData | None) -> CommandResult:
    def work(inv: Investigation) -> PhaseWork:
        raw = _require_record(record, Phase.CODE_PATHS, "CodePath objects")
        paths: list[CodePath] = _validate_all(CodePath, _as_list(raw), "--record")
        inv.code_paths = sorted(paths, key=lambda p: -p.score)
        return PhaseWork(
            summary=f"{len(paths)} code path(s) ranked",
            evidence=[f"{p.file}:{p.line or '?'} {p.function or ''}".strip() for p in paths[:10]],
        )

    return run_phase(ctx, "code-paths", Phase.CODE_PATHS, request, work)


def profiling(ctx: AppContext, request: PhaseRequest, record: RecordData | None) -> CommandResult:
    def work(inv: Investigation) -> PhaseWork:
        raw = _require_record(record, Phase.PROFILING, "a ProfilingResult object")
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


def experiment(ctx: AppContext, request: PhaseRequest, record: RecordData | None) -> CommandResult:
    def work(inv: Investigation) -> PhaseWork:
        raw = _require_record(record, Phase.OPTIMIZATION, "an Experiment object")
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


# --- phases 9 and 10 ----------------------------------------------------------------------


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


def consolidate(ctx: AppContext, request: PhaseRequest) -> CommandResult:
    """Merge this version's validated runs into its single baseline; mark complete."""

    def work(inv: Investigation) -> PhaseWork:
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
        primary = merged.summaries.get(inv.setup.metric.name, {}).get("runs", {})
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

    return run_phase(ctx, "consolidate", Phase.CONSOLIDATION, request, work)
