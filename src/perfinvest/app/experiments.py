"""Phase 8, optimization experiments: one change, measured A/B, the tree restored and verified.

The life of an experiment (rule 3; the mechanism is in ``adapters/worktree.py``):

1. ``start`` writes the journal, then records the tree (HEAD, index, every file).
2. The agent or engineer makes exactly one change in the working tree.
3. ``run`` captures the change as a patch, measures the recorded tree (a separate git
   worktree, the *baseline side*) against the working tree (the *candidate*) interleaved
   A B A B under one host lock, compares, restores the tree, verifies it, records it all.
4. ``abort`` restores without measuring (the change is still kept as a patch).

``ab`` is the flag-style variant: the working tree with ``PERF_EXPERIMENT=0`` against the
same tree with ``PERF_EXPERIMENT=1``; nothing is touched, so nothing is restored.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from perfinvest.adapters import worktree as wt
from perfinvest.app.answers import base_result
from perfinvest.app.benchmarking import (
    MeasureOptions,
    benchmark_lock,
    benchmark_of,
    duration_for,
    session_for,
)
from perfinvest.app.context import AppContext
from perfinvest.app.measure import (
    CV_THRESHOLD,
    Benchmark,
    Session,
    primary_values,
    run_once,
    with_env,
)
from perfinvest.app.result import CommandResult
from perfinvest.app.session import PhaseRequest, PhaseWork, run_phase, run_phase_steps
from perfinvest.core.errors import ExitCode, PerfError, benchmark_failed, refused, usage_error
from perfinvest.core.models import (
    ArtifactRef,
    Event,
    Experiment,
    HypothesisStatus,
    Investigation,
    MetricEffect,
    RecordedTree,
    RestoreCheck,
    Run,
)
from perfinvest.core.phases import Phase
from perfinvest.store.atomic import atomic_write_bytes, atomic_write_text
from perfinvest.store.journal import (
    JOURNAL_NAME,
    Journal,
    read_journal,
    remove_journal,
    write_journal,
)

DEFAULT_RUNS = 3
MIN_RUNS = 2
MAX_EXTRA_PAIRS = 2
#: Perf state files perfinvest itself rewrites while an experiment is open.
VOLATILE_PERF = ("investigation.json", "investigations", "artifacts", JOURNAL_NAME)
HYPOTHESIS_FOR: dict[str, HypothesisStatus] = {
    "improved": "confirmed",
    "regressed": "refuted",
    "unchanged": "refuted",
    "inconclusive": "inconclusive",
}


# --------------------------------------------------------------------------- helpers


def experiment_dir(ctx: AppContext, inv_id: str, number: int) -> Path:
    return ctx.paths.artifacts(inv_id) / f"experiment-{number}"


def snapshot_ref(inv_id: str, number: int) -> str:
    return f"{wt.SNAPSHOT_REF_PREFIX}{inv_id}-{number}"


def find_experiment(inv: Investigation, number: int) -> Experiment:
    for exp in inv.experiments:
        if exp.number == number:
            return exp
    known = ", ".join(str(e.number) for e in inv.experiments) or "none yet"
    raise usage_error(f"no experiment {number} in investigation {inv.id} (experiments: {known})")


def _artifact(ctx: AppContext, path: Path, description: str) -> ArtifactRef:
    import hashlib

    data = path.read_bytes()
    return ArtifactRef(
        path=ctx.paths.relative(path),
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        description=description,
    )


def _few(items: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" (+{len(items) - limit} more)" if len(items) > limit else "")


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block is done (a restore is never cut in half)."""
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    except (ValueError, OSError):  # not the main thread: nothing to defer
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def repo_info(ctx: AppContext) -> wt.RepoInfo:
    if not ctx.in_git_repo:
        raise refused(
            f"{ctx.repo_root} is not a git repository: experiments record and restore the tree "
            "with git (flag-style `perfinvest experiment ab` needs no git)"
        )
    return wt.inspect_repo(ctx.repo_root, ctx.paths.perf_dir)


def check_of(verification: wt.Verification, actions: list[str], ctx: AppContext) -> RestoreCheck:
    return RestoreCheck(
        verified=verification.verified,
        head_same=verification.head_same,
        index_same=verification.index_same,
        files_identical=verification.files_identical,
        untracked_back=verification.untracked_back,
        checkpoint_commits=verification.checkpoint_commits,
        actions=actions,
        problems=verification.problems,
        at=ctx.now(),
    )


def describe_check(check: RestoreCheck) -> str:
    if check.verified:
        extra = (
            f" (HEAD advanced only by {check.checkpoint_commits} perfinvest checkpoint commit(s))"
            if check.checkpoint_commits
            else ""
        )
        return (
            "tree restored and verified: same HEAD, same index, every file byte-identical, "
            f"untracked files back{extra}"
        )
    return f"tree restore NOT verified: {'; '.join(check.problems)}"


def _open_journal(ctx: AppContext, inv: Investigation) -> Journal:
    journal = read_journal(ctx.paths.perf_dir)
    if journal is None:
        raise refused(
            "no experiment is open: start one with "
            '`perfinvest experiment start --hypothesis H1 --change "what changes"`'
        )
    if journal.crashed():
        raise refused(
            f"experiment {journal.experiment} was interrupted while {journal.stage}: run "
            "`perfinvest recover` first",
            needs=["perfinvest recover"],
        )
    if journal.busy:
        raise refused(
            f"experiment {journal.experiment} is {journal.stage} in process {journal.pid} right "
            "now: wait for it to finish"
        )
    if journal.investigation != inv.id:
        raise refused(
            f"the open experiment {journal.experiment} belongs to investigation "
            f"{journal.investigation}: `perfinvest resume {journal.investigation}` first"
        )
    if journal.snapshot is None:
        raise refused("the experiment journal has no recorded tree: run `perfinvest recover`")
    return journal


def _resolve_hypothesis(inv: Investigation, hypothesis: str | None) -> str | None:
    if hypothesis is None or not hypothesis.strip():
        if inv.hypotheses:
            known = ", ".join(h.id for h in inv.hypotheses)
            raise usage_error(f"--hypothesis is required: which one does this test? ({known})")
        return None
    wanted = hypothesis.strip()
    for h in inv.hypotheses:
        if h.id.lower() == wanted.lower():
            return h.id
    if inv.hypotheses:
        known = ", ".join(f"{h.id} ({h.statement[:40]})" for h in inv.hypotheses)
        raise usage_error(
            f"unknown hypothesis {wanted!r}; known: {known} "
            '(add one with `perfinvest hypotheses add "..."`)'
        )
    return wanted  # no hypotheses recorded (phase skipped): keep the user's words


def _normalize_files(ctx: AppContext, files: Sequence[str]) -> list[str]:
    """Declared paths, relative to the repository top (given relative to the cwd)."""
    top = ctx.repo_root.resolve()
    perf = ctx.paths.perf_dir.resolve()
    out: list[str] = []
    for raw in files:
        given = Path(raw)
        full = given if given.is_absolute() else Path.cwd() / given
        located = full.parent.resolve() / full.name
        if not located.is_relative_to(top):
            raise usage_error(f"--files {raw}: outside the repository {top}")
        if located == perf or located.is_relative_to(perf):
            raise usage_error(
                f"--files {raw}: inside the perf state folder, which is perfinvest's own: an "
                "experiment changes code, never the measurements"
            )
        rel = located.relative_to(top).as_posix()
        if rel == ".":
            raise usage_error("--files .: declare the files the change touches, not the repository")
        if rel not in out:
            out.append(rel)
    return out


def _declared(path: str, files: Sequence[str]) -> bool:
    return any(path == f or path.startswith(f.rstrip("/") + "/") for f in files)


def _perf_tampering(ctx: AppContext, journal: Journal) -> list[str]:
    now = wt.perf_state_digest(ctx.paths.perf_dir, VOLATILE_PERF)
    before = journal.perf_digest
    return sorted(
        {p for p in before if now.get(p) != before[p]} | {p for p in now if p not in before}
    )


def experiments_table(inv: Investigation) -> list[str]:
    """One line per experiment: its own effect on the primary metric (the A / B / A+B table)."""
    rows = []
    for e in inv.experiments:
        change = f"{e.relative_change:+.2%}" if e.relative_change is not None else "n/a"
        ci = (
            f" CI [{e.ci_low:+.2%}, {e.ci_high:+.2%}]"
            if e.ci_low is not None and e.ci_high is not None
            else ""
        )
        p = f" p={e.p_value:.3g}" if e.p_value is not None else ""
        restored = (
            ""
            if e.kind == "flag" or e.restore_verified is None
            else (" restored" if e.restore_verified else " RESTORE UNVERIFIED")
        )
        rows.append(
            f"#{e.number} [{e.kind}] {e.change} ({e.hypothesis or '-'}): {e.state}, "
            f"{e.metric or '-'} {change}{ci}{p} {e.verdict or ''}{restored}".rstrip()
        )
    return rows


# --------------------------------------------------------------------------- start


def start(
    ctx: AppContext,
    request: PhaseRequest,
    hypothesis: str | None,
    change: str | None,
    files: Sequence[str],
) -> CommandResult:
    """Record the tree exactly (journal first) and open experiment N."""

    def work(inv: Investigation) -> PhaseWork:
        perf = ctx.paths.perf_dir
        existing = read_journal(perf)
        if existing is not None:
            if existing.crashed():
                raise refused(
                    f"experiment {existing.experiment} was interrupted while {existing.stage}: "
                    "run `perfinvest recover` first",
                    needs=["perfinvest recover"],
                )
            raise refused(
                f"experiment {existing.experiment} (investigation {existing.investigation}) is "
                f"still open ({existing.stage}): one change at a time; `perfinvest experiment "
                "run` or `perfinvest experiment abort` it first"
            )
        if not change or not change.strip():
            raise usage_error('--change is required: say what the one change is ("...")')
        linked = _resolve_hypothesis(inv, hypothesis)
        declared = _normalize_files(ctx, files)
        info = repo_info(ctx)
        number = len(inv.experiments) + 1
        store = experiment_dir(ctx, inv.id, number)
        ref = snapshot_ref(inv.id, number)
        journal = Journal(
            investigation=inv.id,
            experiment=number,
            stage="starting",
            repo=str(info.top),
            snapshot_ref=ref,
            snapshot_store=str(store),
            files=declared,
        )
        write_journal(perf, journal)  # before anything is recorded or touched
        try:
            snap = wt.take_snapshot(info, store, ref)
            journal.snapshot = snap.to_json()
            journal.perf_digest = wt.perf_state_digest(perf, VOLATILE_PERF)
            journal.claim("open")
            write_journal(perf, journal)
        except BaseException:
            wt.drop_ref(info.top, ref)
            remove_journal(perf)
            raise
        exp = Experiment(
            number=number,
            kind="tree",
            hypothesis=linked,
            change=change.strip(),
            files=declared,
            state="open",
            started_at=ctx.now(),
            metric=inv.setup.metric.name,
            recorded=RecordedTree(
                head=snap.head,
                branch=snap.branch,
                snapshot_commit=snap.commit,
                tree=snap.tree,
                index_tree=snap.index_tree,
                files=snap.files,
                staged=list(snap.staged),
                modified=list(snap.modified),
                untracked=list(snap.untracked),
            ),
        )
        inv.experiments.append(exp)
        branch = snap.branch.removeprefix("refs/heads/")
        return PhaseWork(
            summary=f"experiment {number} started: {exp.change}",
            outcome="progress",
            evidence=[f"{branch} {snap.head[:12]}", f"snapshot {snap.commit[:12]} ({ref})"],
            findings=[
                f"recorded {branch} at {snap.head[:12]}: {snap.files} file(s); protected "
                f"{len(snap.staged)} staged, {len(snap.modified)} modified, "
                f"{len(snap.untracked)} untracked",
                "now make the one change"
                + (f" (in {', '.join(declared)})" if declared else "")
                + ", then `perfinvest experiment run`",
            ],
            data={"experiment": exp.model_dump(mode="json"), "snapshot_ref": ref},
        )

    return run_phase(ctx, "experiment start", Phase.OPTIMIZATION, request, work)


# --------------------------------------------------------------------------- measuring


@dataclass
class _Sides:
    baseline: Benchmark
    candidate: Benchmark
    baseline_git: tuple[str | None, bool | None] | None
    candidate_git: tuple[str | None, bool | None] | None


@dataclass
class _Plan:
    inv_id: str
    number: int
    session: Session
    runs: int
    metric: str
    sides: _Sides
    # tree experiments only
    info: wt.RepoInfo | None = None
    snapshot: wt.Snapshot | None = None
    journal: Journal | None = None
    worktree: Path | None = None
    change: wt.Change | None = None
    patch: ArtifactRef | None = None


@dataclass
class _Outcome:
    baseline: list[Run] = field(default_factory=list)
    candidate: list[Run] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    interrupted: bool = False
    error: PerfError | None = None
    check: RestoreCheck | None = None


def _interleave(ctx: AppContext, plan: _Plan, outcome: _Outcome) -> None:
    """A B A B ... under one host lock; rule 5 adds up to two pairs when a side is noisy."""
    total = plan.runs
    index = 0
    label = f"exp{plan.number}"
    with benchmark_lock(ctx, plan.inv_id, f"experiment {plan.number}", outcome.events):
        while index < total:
            index += 1
            for side, bench, git, runs in (
                ("baseline", plan.sides.baseline, plan.sides.baseline_git, outcome.baseline),
                ("candidate", plan.sides.candidate, plan.sides.candidate_git, outcome.candidate),
            ):
                runs.append(run_once(bench, plan.session, f"{label}-{side}", index, total, git))
            if index == 1 and not (outcome.baseline[0].valid and outcome.candidate[0].valid):
                return  # a side that cannot build or run once will not do better: stop early
            if index == total and total < plan.runs + MAX_EXTRA_PAIRS:
                for side, runs in (
                    ("baseline", outcome.baseline),
                    ("candidate", outcome.candidate),
                ):
                    values = primary_values(runs, plan.metric)
                    if len(values) >= 2:
                        from perfinvest.core.stats import summarize

                        cv = summarize(values).cv
                        if cv is not None and cv > CV_THRESHOLD:
                            total += 1
                            message = (
                                f"rule 5: CV of {plan.metric} on the {side} side is {cv:.1%} > "
                                f"{CV_THRESHOLD:.0%}; one more A/B pair"
                            )
                            outcome.warnings.append(message)
                            plan.session.progress.note(message)
                            break


def _side_failure(side: str, runs: list[Run], metric: str, where: str) -> PerfError | None:
    values = primary_values(runs, metric)
    if len(values) >= MIN_RUNS:
        return None
    reasons = [f"{r.run_id}: {r.invalid_reason}" for r in runs if not r.valid]
    detail = "; ".join(reasons[:2]) or f"no run reported {metric!r}"
    return benchmark_failed(
        f"the {side} side ({where}) failed to build or run: {len(values)} of {len(runs)} run(s) "
        f"valid with {metric}: {detail}"
    )


def _record_measurement(
    ctx: AppContext, inv: Investigation, exp: Experiment, outcome: _Outcome, where: tuple[str, str]
) -> tuple[PhaseWork | None, list[str]]:
    """Compare the sides into ``exp``; a PhaseWork when the measurement failed."""
    from perfinvest.core.comparing import compare_runs

    metric = inv.setup.metric.name
    store = experiment_dir(ctx, inv.id, exp.number)
    runs_path = store / "runs.json"
    atomic_write_text(
        runs_path,
        json.dumps(
            {
                "baseline": [r.model_dump(mode="json") for r in outcome.baseline],
                "candidate": [r.model_dump(mode="json") for r in outcome.candidate],
            },
            indent=1,
        )
        + "\n",
    )
    exp.runs = _artifact(ctx, runs_path, "every run of both sides")
    exp.runs_per_side = min(len(outcome.baseline), len(outcome.candidate))
    exp.compliant = all(r.compliant for r in [*outcome.baseline, *outcome.candidate])
    exp.metric = metric
    evidence = [r.run_id for r in [*outcome.baseline, *outcome.candidate]]
    for side, runs, place in (
        ("baseline", outcome.baseline, where[0]),
        ("candidate", outcome.candidate, where[1]),
    ):
        failure = _side_failure(side, runs, metric, place)
        if failure is not None:
            exp.state = "failed"
            exp.note = failure.message
            return (
                PhaseWork(
                    summary=f"experiment {exp.number} failed: {failure.message}",
                    outcome="failed",
                    evidence=evidence,
                    non_compliant=not exp.compliant,
                    error=failure,
                ),
                evidence,
            )
    base = [r for r in outcome.baseline if r.valid]
    cand = [r for r in outcome.candidate if r.valid]
    try:
        table = compare_runs(
            base,
            cand,
            baseline_label=f"experiment {exp.number} baseline side",
            candidate_label=f"experiment {exp.number} candidate",
            primary=metric,
        )
    except PerfError as error:
        exp.state = "failed"
        exp.note = error.message
        return (
            PhaseWork(
                summary=f"experiment {exp.number} failed: {error.message}",
                outcome="failed",
                evidence=evidence,
                error=error,
            ),
            evidence,
        )
    exp.effects = [
        MetricEffect(
            metric=row.key,
            unit=row.unit,
            baseline_mean=row.comparison.baseline_mean,
            candidate_mean=row.comparison.candidate_mean,
            relative_change=row.comparison.relative_change,
            ci_low=row.comparison.ci_low,
            ci_high=row.comparison.ci_high,
            p_welch=row.comparison.p_welch,
            p_mannwhitney=row.comparison.p_mannwhitney,
            verdict=row.comparison.verdict,
        )
        for row in table.rows
    ]
    primary = next((e for e in exp.effects if e.metric == metric), None)
    if primary is None:
        missing = benchmark_failed(f"the sides do not both report {metric!r}")
        exp.state = "failed"
        exp.note = missing.message
        return (
            PhaseWork(
                summary=f"experiment {exp.number} failed: {missing.message}",
                outcome="failed",
                evidence=evidence,
                error=missing,
            ),
            evidence,
        )
    exp.state = "measured"
    exp.verdict = primary.verdict
    exp.relative_change = primary.relative_change
    exp.ci_low, exp.ci_high = primary.ci_low, primary.ci_high
    exp.p_value = primary.p_welch
    exp.p_mannwhitney = primary.p_mannwhitney
    exp.baseline_mean, exp.candidate_mean = primary.baseline_mean, primary.candidate_mean
    if exp.hypothesis is not None:
        _set_hypothesis(inv, exp.hypothesis, HYPOTHESIS_FOR[primary.verdict])
    return None, evidence


def _set_hypothesis(inv: Investigation, hypothesis_id: str, status: HypothesisStatus) -> None:
    from perfinvest.app import hypotheses

    set_status = getattr(hypotheses, "set_status", None)
    if set_status is not None:
        with contextlib.suppress(PerfError):
            set_status(inv, hypothesis_id, status)
            return
    for h in inv.hypotheses:
        if h.id == hypothesis_id:
            h.status = status


def _measured_work(
    inv: Investigation, exp: Experiment, outcome: _Outcome, evidence: list[str]
) -> PhaseWork:
    unit = inv.setup.metric.unit
    change = f"{exp.relative_change:+.2%}" if exp.relative_change is not None else "n/a"
    ci = (
        f", 95 % CI [{exp.ci_low:+.2%}, {exp.ci_high:+.2%}]"
        if exp.ci_low is not None and exp.ci_high is not None
        else ""
    )
    p = f", p={exp.p_value:.3g}" if exp.p_value is not None else ""
    summary = (
        f"experiment {exp.number} ({exp.change}): {exp.metric} {exp.baseline_mean:.6g} → "
        f"{exp.candidate_mean:.6g}{(' ' + unit) if unit else ''} ({change}{ci}{p}): "
        f"**{exp.verdict}**"
    )
    findings = [*outcome.warnings]
    if exp.hypothesis is not None:
        status = next((h.status for h in inv.hypotheses if h.id == exp.hypothesis), None)
        if status is not None:
            findings.append(f"hypothesis {exp.hypothesis}: {status}")
    findings.extend(e.message for e in outcome.events)
    if not exp.compliant:
        findings.append("non-compliant: runs shorter than the duration policy (short-run policy)")
    return PhaseWork(
        summary=summary.replace("**", ""),
        evidence=evidence,
        findings=findings,
        non_compliant=not exp.compliant,
        delta=change if exp.relative_change is not None else None,
    )


def _plan_sides(
    ctx: AppContext, inv: Investigation, number: int, baseline_cwd: Path | None, flag: bool
) -> _Sides:
    bench = benchmark_of(ctx, inv)
    if flag:  # one tree, the flag decides
        base, candidate_flag = bench, "1"
    else:  # two trees, the flag is off on both sides: only the tree change differs
        assert baseline_cwd is not None
        base = replace(bench, cwd=(baseline_cwd / inv.setup.workdir).resolve())
        candidate_flag = "0"
    tag = {"PERF_EXPERIMENT_NUMBER": str(number)}
    return _Sides(
        baseline=with_env(
            base, {**tag, "PERF_EXPERIMENT": "0", "PERF_EXPERIMENT_SIDE": "baseline"}
        ),
        candidate=with_env(
            bench,
            {**tag, "PERF_EXPERIMENT": candidate_flag, "PERF_EXPERIMENT_SIDE": "candidate"},
        ),
        baseline_git=None,
        candidate_git=None,
    )


# --------------------------------------------------------------------------- run


def run(
    ctx: AppContext, request: PhaseRequest, runs: int, options: MeasureOptions
) -> CommandResult:
    """Capture the change, measure both sides interleaved, restore and verify the tree."""
    if runs < MIN_RUNS:
        raise usage_error(
            f"--runs must be at least {MIN_RUNS} per side (a comparison needs a spread)"
        )
    perf = ctx.paths.perf_dir

    def prepare(inv: Investigation) -> _Plan:
        journal = _open_journal(ctx, inv)
        # claimed at once: a kill from here on is a crash `perfinvest recover` finishes
        journal.claim("measuring")
        write_journal(perf, journal)
        try:
            return plan_for(inv, journal)
        except BaseException:
            journal.claim("open")
            write_journal(perf, journal)
            raise

    def plan_for(inv: Investigation, journal: Journal) -> _Plan:
        exp = find_experiment(inv, journal.experiment)
        if exp.state != "open":
            raise refused(f"experiment {exp.number} is {exp.state}, not open")
        info = repo_info(ctx)
        assert journal.snapshot is not None
        snap = wt.Snapshot.from_json(journal.snapshot)
        _, moved = wt.head_moved(info, snap)
        if moved:
            raise refused(f"{moved}; nothing was measured or touched")
        tampered = _perf_tampering(ctx, journal)
        if tampered:
            raise refused(
                f"the change touches the perf state ({_few(tampered)}): the measurements are "
                "perfinvest's own; put those files back (or `perfinvest experiment abort`)"
            )
        change = wt.current_change(info, snap)
        if not change.files:
            raise refused(
                "no change to measure: the working tree is exactly as recorded at `experiment "
                "start` (changes under the perf state folder never count); make the one change, "
                "or `perfinvest experiment abort`"
            )
        if exp.files:
            outside = [p for p in change.paths if not _declared(p, exp.files)]
            if outside:
                raise refused(
                    f"the change spans files beyond the declared --files ({', '.join(exp.files)}):"
                    f" {_few(outside)}; one change at a time: undo those, or abort and start an "
                    "experiment that declares them"
                )
        store = experiment_dir(ctx, inv.id, exp.number)
        patch_path = store / "change.patch"
        atomic_write_bytes(patch_path, change.patch)
        patch = _artifact(ctx, patch_path, f"experiment {exp.number}'s change (git diff --binary)")
        duration = duration_for(ctx, inv, options)
        worktree_path = Path(tempfile.gettempdir()) / (
            f"{wt.WORKTREE_PREFIX}{inv.id}-{exp.number}-{os.getpid()}"
        )
        journal.patch = patch.path
        journal.worktree = str(worktree_path)
        write_journal(perf, journal)  # the worktree is recorded before it exists
        return _Plan(
            inv_id=inv.id,
            number=exp.number,
            session=session_for(ctx, inv, options, duration),
            runs=runs,
            metric=inv.setup.metric.name,
            sides=_plan_sides(ctx, inv, exp.number, worktree_path, flag=False),
            info=info,
            snapshot=snap,
            journal=journal,
            worktree=worktree_path,
            change=change,
            patch=patch,
        )

    def execute(plan: _Plan) -> _Outcome:
        assert plan.info and plan.snapshot and plan.journal and plan.worktree
        outcome = _Outcome()
        try:
            try:
                wt.add_worktree(plan.info, plan.snapshot, plan.worktree)
                plan.sides.baseline_git = (plan.snapshot.head, None)
                _interleave(ctx, plan, outcome)
            except KeyboardInterrupt:
                outcome.interrupted = True
            except PerfError as error:
                outcome.error = error
        finally:
            try:
                with deferred_signals():
                    outcome.check = _restore_and_verify(
                        ctx, plan.info, plan.snapshot, plan.journal, plan.worktree
                    )
            except KeyboardInterrupt:  # arrived during the restore, delivered after it
                outcome.interrupted = True
        return outcome

    def apply(inv: Investigation, outcome: _Outcome) -> PhaseWork:
        assert plan_holder
        plan = plan_holder[0]
        inv.events.extend(outcome.events)
        exp = find_experiment(inv, plan.number)
        exp.ended_at = ctx.now()
        exp.patch = plan.patch
        assert plan.change is not None
        exp.changed_files = [f"{status} {path}" for status, path in plan.change.files]
        exp.diffstat = plan.change.diffstat
        exp.restore = outcome.check
        exp.restore_verified = outcome.check.verified if outcome.check else False
        restored = describe_check(outcome.check) if outcome.check else "tree restore did not run"
        work: PhaseWork | None
        evidence: list[str] = []
        if outcome.interrupted:
            exp.state = "interrupted"
            work = PhaseWork(
                summary=f"experiment {exp.number} interrupted; {restored}",
                outcome="failed",
                error=PerfError(
                    "interrupted: the runs were stopped, the tree restored, the lock released",
                    ExitCode.INTERRUPTED,
                    kind="interrupted",
                ),
            )
        elif outcome.error is not None:
            exp.state = "failed"
            exp.note = outcome.error.message
            work = PhaseWork(
                summary=f"experiment {exp.number} failed: {outcome.error.message}",
                outcome="failed",
                error=outcome.error,
            )
        else:
            assert plan.snapshot is not None
            work, evidence = _record_measurement(
                ctx,
                inv,
                exp,
                outcome,
                (
                    f"worktree at {plan.snapshot.head[:12]} plus the recorded changes",
                    "working tree",
                ),
            )
            if work is None:
                work = _measured_work(inv, exp, outcome, evidence)
        assert plan.info is not None and plan.snapshot is not None
        if exp.restore_verified:
            wt.drop_ref(plan.info.top, plan.snapshot.ref)
            remove_journal(perf)
        elif work.error is None or work.error.code != ExitCode.INTERRUPTED:
            work = PhaseWork(
                summary=f"experiment {exp.number}: {restored}",
                outcome="failed",
                error=refused(
                    f"{restored}; the recorded tree is kept at {plan.snapshot.ref}: run "
                    "`perfinvest recover`",
                    needs=["perfinvest recover"],
                ),
            )
        work.findings = [
            *work.findings,
            restored,
            f"change kept as {exp.patch.path if exp.patch else 'n/a'} "
            f"(`perfinvest experiment apply {exp.number}` re-applies it)",
        ]
        work.evidence = [*work.evidence, *(f"experiment {row}" for row in experiments_table(inv))]
        work.data.update(
            {
                "experiment": exp.model_dump(mode="json"),
                "diffstat": exp.diffstat,
                "experiments": experiments_table(inv),
            }
        )
        return work

    plan_holder: list[_Plan] = []

    def prepare_and_keep(inv: Investigation) -> _Plan:
        plan = prepare(inv)
        plan_holder.append(plan)
        return plan

    return run_phase_steps(
        ctx,
        "experiment run",
        Phase.OPTIMIZATION,
        request,
        prepare=prepare_and_keep,
        execute=execute,
        apply=apply,
    )


def _restore_and_verify(
    ctx: AppContext,
    info: wt.RepoInfo,
    snapshot: wt.Snapshot,
    journal: Journal,
    worktree_path: Path | None,
) -> RestoreCheck:
    """Journal ``restoring``, remove the worktree, restore, verify, journal ``restored``."""
    perf = ctx.paths.perf_dir
    journal.claim("restoring")
    write_journal(perf, journal)
    actions: list[str] = []
    if worktree_path is not None and wt.remove_worktree(info.top, worktree_path):
        actions.append(f"removed the baseline-side worktree {worktree_path}")
    actions.extend(wt.restore(wt.inspect_repo(info.top, perf, strict=False), snapshot))
    verification = wt.verify(wt.inspect_repo(info.top, perf, strict=False), snapshot)
    journal.claim("restored")
    write_journal(perf, journal)
    return check_of(verification, actions, ctx)


# --------------------------------------------------------------------------- abort


def abort(ctx: AppContext, request: PhaseRequest) -> CommandResult:
    """Put the tree back as recorded without measuring; the change is kept as a patch."""
    perf = ctx.paths.perf_dir

    def work(inv: Investigation) -> PhaseWork:
        journal = read_journal(perf)
        if journal is None:
            opened = [e for e in inv.experiments if e.state == "open"]
            if not opened:
                raise refused("no experiment is open: nothing to abort")
            for exp in opened:
                exp.state = "aborted"
                exp.ended_at = ctx.now()
                exp.note = "aborted without a journal: nothing to restore"
            return PhaseWork(
                summary=f"experiment {opened[-1].number} aborted (no journal: nothing to restore)",
                outcome="progress",
            )
        journal = _open_journal(ctx, inv)
        exp = find_experiment(inv, journal.experiment)
        info = repo_info(ctx)
        assert journal.snapshot is not None
        snap = wt.Snapshot.from_json(journal.snapshot)
        journal.claim("aborting")  # a kill from here on is finished by `perfinvest recover`
        write_journal(perf, journal)
        change = wt.current_change(info, snap)
        if change.files:
            path = experiment_dir(ctx, inv.id, exp.number) / "change.patch"
            atomic_write_bytes(path, change.patch)
            exp.patch = _artifact(ctx, path, f"experiment {exp.number}'s change (aborted)")
            exp.changed_files = [f"{status} {p}" for status, p in change.files]
            exp.diffstat = change.diffstat
            journal.patch = exp.patch.path
        with deferred_signals():
            check = _restore_and_verify(ctx, info, snap, journal, None)
        exp.state = "aborted"
        exp.ended_at = ctx.now()
        exp.restore = check
        exp.restore_verified = check.verified
        findings = [describe_check(check)]
        if exp.patch is not None:
            findings.append(
                f"the change is kept as {exp.patch.path} "
                f"(`perfinvest experiment apply {exp.number}` re-applies it)"
            )
        if check.verified:
            wt.drop_ref(info.top, snap.ref)
            remove_journal(perf)
            return PhaseWork(
                summary=f"experiment {exp.number} aborted: {exp.change}",
                outcome="progress",
                findings=findings,
                data={"experiment": exp.model_dump(mode="json")},
            )
        return PhaseWork(
            summary=f"experiment {exp.number} aborted, restore not verified",
            outcome="failed",
            findings=findings,
            data={"experiment": exp.model_dump(mode="json")},
            error=refused(
                f"{describe_check(check)}; the recorded tree is kept at {snap.ref}: run "
                "`perfinvest recover`",
                needs=["perfinvest recover"],
            ),
        )

    return run_phase(ctx, "experiment abort", Phase.OPTIMIZATION, request, work)


# --------------------------------------------------------------------------- flag A/B


def ab(
    ctx: AppContext,
    request: PhaseRequest,
    hypothesis: str | None,
    change: str | None,
    runs: int,
    options: MeasureOptions,
) -> CommandResult:
    """``PERF_EXPERIMENT=0`` against ``=1`` on the working tree, interleaved; nothing touched."""
    if runs < MIN_RUNS:
        raise usage_error(f"--runs must be at least {MIN_RUNS} per side")
    if not change or not change.strip():
        raise usage_error('--change is required: say what PERF_EXPERIMENT=1 switches on ("...")')
    holder: list[tuple[int, str | None]] = []

    def prepare(inv: Investigation) -> _Plan:
        journal = read_journal(ctx.paths.perf_dir)
        if journal is not None:
            raise refused(
                f"experiment {journal.experiment} is open ({journal.stage}): its change is in the "
                "working tree; run or abort it before a flag A/B"
            )
        linked = _resolve_hypothesis(inv, hypothesis)
        number = len(inv.experiments) + 1
        holder.append((number, linked))
        duration = duration_for(ctx, inv, options)
        return _Plan(
            inv_id=inv.id,
            number=number,
            session=session_for(ctx, inv, options, duration),
            runs=runs,
            metric=inv.setup.metric.name,
            sides=_plan_sides(ctx, inv, number, None, flag=True),
        )

    def execute(plan: _Plan) -> _Outcome:
        outcome = _Outcome()
        try:
            _interleave(ctx, plan, outcome)
        except KeyboardInterrupt:
            outcome.interrupted = True
        except PerfError as error:
            outcome.error = error
        return outcome

    def apply(inv: Investigation, outcome: _Outcome) -> PhaseWork:
        number, linked = holder[0]
        if any(e.number == number for e in inv.experiments):
            number = len(inv.experiments) + 1
        exp = Experiment(
            number=number,
            kind="flag",
            hypothesis=linked,
            change=(change or "").strip(),
            state="measured",
            started_at=ctx.now(),
        )
        inv.experiments.append(exp)
        inv.events.extend(outcome.events)
        exp.ended_at = ctx.now()
        if outcome.interrupted:
            exp.state = "interrupted"
            return PhaseWork(
                summary=f"flag experiment {number} interrupted",
                outcome="failed",
                error=PerfError(
                    "interrupted: the runs were stopped, the lock released",
                    ExitCode.INTERRUPTED,
                    kind="interrupted",
                ),
            )
        if outcome.error is not None:
            exp.state = "failed"
            return PhaseWork(
                summary=f"flag experiment {number} failed: {outcome.error.message}",
                outcome="failed",
                error=outcome.error,
            )
        work, evidence = _record_measurement(
            ctx, inv, exp, outcome, ("PERF_EXPERIMENT=0", "PERF_EXPERIMENT=1")
        )
        if work is None:
            work = _measured_work(inv, exp, outcome, evidence)
        work.evidence = [*work.evidence, *(f"experiment {row}" for row in experiments_table(inv))]
        work.data.update(
            {"experiment": exp.model_dump(mode="json"), "experiments": experiments_table(inv)}
        )
        return work

    return run_phase_steps(
        ctx,
        "experiment ab",
        Phase.OPTIMIZATION,
        request,
        prepare=prepare,
        execute=execute,
        apply=apply,
    )


# --------------------------------------------------------------------------- queries


def list_experiments(ctx: AppContext) -> CommandResult:
    store = ctx.store
    with store.locked():
        inv = store.load_active()
    result = base_result("experiment list", inv, Phase.OPTIMIZATION)
    result.findings = experiments_table(inv) or ["no experiments yet"]
    journal = read_journal(ctx.paths.perf_dir)
    result.data["experiments"] = [
        e.model_dump(mode="json", exclude={"recorded", "diffstat"}) for e in inv.experiments
    ]
    result.data["open"] = journal.experiment if journal is not None else None
    return result


def show_experiment(ctx: AppContext, number: int) -> CommandResult:
    store = ctx.store
    with store.locked():
        inv = store.load_active()
    exp = find_experiment(inv, number)
    result = base_result("experiment show", inv, Phase.OPTIMIZATION)
    result.findings = [row for row in experiments_table(inv) if row.startswith(f"#{number} ")]
    if exp.restore is not None:
        result.findings.append(describe_check(exp.restore))
    result.data["experiment"] = exp.model_dump(mode="json")
    return result


def apply_change(ctx: AppContext, number: int) -> CommandResult:
    """Re-apply experiment N's patch to the working tree, for the user to commit."""
    from perfinvest.app.queries import remember_status
    from perfinvest.core.logrender import render_event, render_header

    store = ctx.store
    with store.locked():
        inv = store.load_active()
        exp = find_experiment(inv, number)
        journal = read_journal(ctx.paths.perf_dir)
        if journal is not None:
            raise refused(
                f"experiment {journal.experiment} is open ({journal.stage}): applying another "
                "change now would mix two changes; run or abort it first"
            )
        if exp.patch is None:
            raise refused(f"experiment {number} has no patch (state {exp.state}, kind {exp.kind})")
        patch = ctx.paths.perf_dir / exp.patch.path
        if not patch.is_file():
            raise refused(f"the patch {patch} of experiment {number} is missing")
        repo_info(ctx)
        files = wt.apply_patch(ctx.repo_root, patch)
        event = Event(
            at=ctx.now(),
            kind="change applied",
            message=f"experiment {number}'s patch applied to the working tree: {_few(files)}",
        )
        inv.events.append(event)
        store.save_active(inv)
        remember_status(ctx, inv)
        store.append_log(inv.id, render_header(inv), render_event(event))
    result = base_result("experiment apply", inv, Phase.OPTIMIZATION)
    result.findings = [
        f"experiment {number}'s change applied to the working tree ({_few(files)}): review and "
        "commit it yourself"
    ]
    result.data["files"] = files
    result.data["patch"] = str(patch)
    return result
