"""Phase 5, hypotheses: git history first (rule 8), then hypotheses with evidence.

``gather_history`` reads the window of the user's own commits (default: since the
version tag before the baseline, else the user's last 50; perfinvest's checkpoints never
count), flags commits whose message mentions performance and commits touching files that
are hot in the latest profile, and stores it as evidence. ``add_hypothesis`` is refused until then
(the phase machine's rule 8 precondition). ``set_status`` is how experiments record what
they found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from perfinvest.app.context import AppContext
from perfinvest.app.result import CommandResult
from perfinvest.app.session import PhaseRequest, PhaseWork, run_phase
from perfinvest.core.errors import PerfError, refused, usage_error
from perfinvest.core.models import (
    CommitEvidence,
    Confidence,
    HistoryEvidence,
    Hypothesis,
    HypothesisStatus,
    Investigation,
)
from perfinvest.core.phases import Phase

CONFIDENCES: tuple[Confidence, ...] = ("low", "medium", "high")
STATUSES: tuple[HypothesisStatus, ...] = ("untested", "confirmed", "refuted", "inconclusive")


@dataclass(frozen=True)
class HypothesisInput:
    statement: str
    evidence: tuple[str, ...] = ()
    confidence: Confidence = "medium"


def hot_files(inv: Investigation) -> list[str]:
    """Repository-relative files of the latest profile's hotspots (most samples first)."""
    if not inv.profiling:
        return []
    seen: list[str] = []
    for hotspot in inv.profiling[-1].hotspots:
        file = hotspot.file
        if file and not file.startswith(("/", "<", "[")) and file not in seen:
            seen.append(file)
    return seen


def baseline_commit(ctx: AppContext, inv: Investigation) -> str | None:
    """The commit the baseline was measured at (its first run's fingerprint), if known."""
    if inv.baseline is None:
        return None
    try:
        document = ctx.store.load_baseline(inv.baseline.version)
    except PerfError:  # a missing or unreadable baseline only loses the default window
        return None
    for run in document.runs:
        if run.environment.git_commit:
            return run.environment.git_commit
    return document.environment.git_commit


def _state_prefix(ctx: AppContext) -> str | None:
    """The state folder relative to the repository (its checkpoint commits are not history)."""
    try:
        relative = ctx.paths.state_dir.resolve().relative_to(ctx.repo_root.resolve())
    except ValueError:
        return None
    return relative.as_posix().rstrip("/") + "/"


def flagged_commits(commits: Sequence[CommitEvidence]) -> list[CommitEvidence]:
    """Commits that carry a flag beyond "after the baseline": the ones worth a hypothesis."""
    from perfinvest.adapters.git.git_history import AFTER_BASELINE

    return [c for c in commits if any(f != AFTER_BASELINE for f in c.flags)]


def gather_history(
    ctx: AppContext, request: PhaseRequest, since: str | None, paths: Sequence[str]
) -> CommandResult:
    """Rule 8: read the git history of the window before any hypothesis is written."""
    steps = GatherHistoryPhase(ctx, since, paths)
    return run_phase(
        ctx, "hypotheses gather", Phase.HYPOTHESES, request, steps.work, step_exempt=True
    )


@dataclass(frozen=True)
class GatherHistoryPhase:
    """``hypotheses gather``: its work (see :func:`run_phase`), callable alone."""

    ctx: AppContext
    since: str | None
    paths: Sequence[str]

    def work(self, inv: Investigation) -> PhaseWork:
        from perfinvest.adapters.git.git_history import (
            AFTER_BASELINE,
            MAX_COMMITS,
            check_paths,
            default_window,
            read_history,
            resolve_since,
        )

        ctx, since, paths = self.ctx, self.since, self.paths
        if not ctx.in_git_repo:
            raise refused(f"{ctx.repo_root} is not a git repository: there is no history to read")
        checked = check_paths(ctx.repo_root, paths)
        prefix = _state_prefix(ctx)
        measured_at = baseline_commit(ctx, inv)
        limit = MAX_COMMITS
        if since is None:
            start, source, user_limit = default_window(ctx.repo_root, measured_at, prefix)
            limit = user_limit or limit
        else:
            start, source = resolve_since(ctx.repo_root, since, prefix)
        hot = hot_files(inv)
        window = read_history(
            ctx.repo_root,
            start,
            "HEAD",
            checked,
            hot,
            max_commits=limit,
            ignore_prefix=prefix,
            baseline_commit=measured_at,
        )
        commits = window.commits
        inv.history = HistoryEvidence(
            gathered_at=ctx.now(),
            since=start,
            since_source=source,
            head_commit=window.head,
            paths=checked,
            commits=commits,
            files_changed=window.files_changed,
            hot_files=hot,
        )
        flagged = [c for c in commits if any(f != AFTER_BASELINE for f in c.flags)]
        touching_hot = [c for c in commits if c.hot_files]
        findings = [f"{c.sha[:10]} {c.subject} [{'; '.join(c.flags)}]" for c in flagged[:10]]
        if window.truncated:
            findings.append(f"window holds the newest {len(commits)} of your commits only")
        busiest = sorted(window.files_changed.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        summary = (
            f"git history gathered ({source}): {len(commits)} commit(s) of yours, "
            f"{len(flagged)} flagged, {len(touching_hot)} touching hot files"
            + (f"; {window.skipped_own} checkpoint(s) left out" if window.skipped_own else "")
        )
        return PhaseWork(
            summary=summary,
            outcome="progress",
            findings=findings,
            evidence=[
                f"{c.sha[:10]} {c.subject} (+{c.insertions}/-{c.deletions}, "
                f"{len(c.files)} file(s))" + (f" [{'; '.join(c.flags)}]" if c.flags else "")
                for c in commits[:20]
            ],
            data={
                "since": start,
                "since_source": source,
                "head": window.head,
                "baseline_commit": measured_at,
                "checkpoints_left_out": window.skipped_own,
                "truncated": window.truncated,
                "paths": checked,
                "hot_files": hot,
                "files_changed": dict(busiest),
                "commits": [c.model_dump() for c in commits],
                "next_command": 'perfinvest hypotheses add "..." --evidence ... --confidence ...',
            },
        )


def read_hypotheses_file(path: str) -> list[HypothesisInput]:
    """``--from-file FILE.json``: read, parse and validate the whole file first."""
    import json
    from pathlib import Path

    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise usage_error(f"--from-file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise usage_error(f"cannot read --from-file {path}: {exc}") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise usage_error(
            f"--from-file {path} is not JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    return parse_hypotheses_file(raw, f"--from-file {path}")


def parse_hypotheses_file(raw: Any, source: str) -> list[HypothesisInput]:
    """A JSON list (or ``{"hypotheses": [...]}``) of ``{statement, evidence, confidence}``."""
    items = raw.get("hypotheses") if isinstance(raw, dict) else raw
    if not isinstance(items, list) or not items:
        raise usage_error(
            f"{source} must hold a non-empty JSON list of "
            '{"statement": ..., "evidence": [...], "confidence": "low|medium|high"}'
        )
    parsed = []
    for index, item in enumerate(items):
        where = f"{source} item {index}"
        if not isinstance(item, dict):
            raise usage_error(f"{where} is not an object")
        statement = item.get("statement")
        if not isinstance(statement, str) or not statement.strip():
            raise usage_error(f"{where} needs a statement")
        unknown = set(item) - {"statement", "evidence", "confidence"}
        if unknown:
            raise usage_error(f"{where} has unknown field(s): {', '.join(sorted(unknown))}")
        evidence = item.get("evidence", [])
        if isinstance(evidence, str):
            evidence = [evidence]
        if not isinstance(evidence, list) or not all(isinstance(e, str) for e in evidence):
            raise usage_error(f"{where}: evidence must be a list of strings")
        confidence = item.get("confidence", "medium")
        if confidence not in CONFIDENCES:
            raise usage_error(f"{where}: confidence must be low, medium or high")
        parsed.append(HypothesisInput(statement.strip(), tuple(evidence), confidence))
    return parsed


def add_hypotheses(
    ctx: AppContext, request: PhaseRequest, items: Sequence[HypothesisInput]
) -> CommandResult:
    """Add one or more hypotheses (refused until the history is gathered: rule 8)."""
    if not items:
        raise usage_error("give a statement, or --from-file FILE.json with several")
    for item in items:
        if not item.statement.strip():
            raise usage_error("a hypothesis needs a statement")
        if item.confidence not in CONFIDENCES:
            raise usage_error("--confidence must be low, medium or high")
    steps = AddHypothesesPhase(ctx, items)
    return run_phase(ctx, "hypotheses add", Phase.HYPOTHESES, request, steps.work)


@dataclass(frozen=True)
class AddHypothesesPhase:
    """``hypotheses add``: its work (see :func:`run_phase`), callable alone."""

    ctx: AppContext
    items: Sequence[HypothesisInput]

    def work(self, inv: Investigation) -> PhaseWork:
        ctx, items = self.ctx, self.items
        added = []
        for item in items:
            known = _same_hypothesis(inv, item)
            if known is not None:  # a retry of the same input: never a duplicate
                added.append(known)
                continue
            hypothesis = Hypothesis(
                id=f"H{len(inv.hypotheses) + 1}",
                statement=item.statement.strip(),
                evidence=[e for e in item.evidence if e.strip()],
                confidence=item.confidence,
                created_at=ctx.now(),
            )
            inv.hypotheses.append(hypothesis)
            added.append(hypothesis)
        first = added[0]
        summary = (
            f"{first.id} ({first.confidence}): {first.statement}"
            if len(added) == 1
            else f"{len(added)} hypotheses added ({', '.join(h.id for h in added)})"
        )
        return PhaseWork(
            summary=summary,
            evidence=[f"{h.id}: {e}" for h in added for e in h.evidence]
            or [f"{h.id}: (no evidence given)" for h in added],
            findings=[] if len(added) == 1 else [f"{h.id}: {h.statement}" for h in added],
            data={
                "hypothesis": first.model_dump(mode="json"),
                "hypotheses": [h.model_dump(mode="json") for h in added],
            },
        )


def _same_hypothesis(inv: Investigation, item: HypothesisInput) -> Hypothesis | None:
    """The recorded hypothesis with exactly this statement, evidence and confidence."""
    evidence = [e for e in item.evidence if e.strip()]
    for known in inv.hypotheses:
        if (known.statement, list(known.evidence), known.confidence) == (
            item.statement.strip(),
            evidence,
            item.confidence,
        ):
            return known
    return None


def add_hypothesis(
    ctx: AppContext,
    request: PhaseRequest,
    statement: str,
    evidence: Sequence[str],
    confidence: Confidence,
) -> CommandResult:
    return add_hypotheses(ctx, request, [HypothesisInput(statement, tuple(evidence), confidence)])


def set_status(
    inv: Investigation,
    hypothesis_id: str,
    status: HypothesisStatus,
    *,
    note: str = "",
    at: datetime | None = None,
) -> Hypothesis:
    """Record what an experiment found about a hypothesis (caller holds the state lock)."""
    if status not in STATUSES:
        raise usage_error(f"unknown hypothesis status {status!r}: use {', '.join(STATUSES)}")
    for hypothesis in inv.hypotheses:
        if hypothesis.id == hypothesis_id:
            hypothesis.status = status
            hypothesis.status_note = note
            hypothesis.status_changed_at = at
            return hypothesis
    known = ", ".join(h.id for h in inv.hypotheses) or "none"
    raise usage_error(f"no hypothesis {hypothesis_id!r} (known: {known})")
