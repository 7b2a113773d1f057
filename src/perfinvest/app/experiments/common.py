"""Shared pieces of the experiment use cases: constants, lookups, the table."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from perfinvest.adapters import worktree as wt
from perfinvest.app.context import AppContext
from perfinvest.core.errors import refused, usage_error
from perfinvest.core.models import ArtifactRef, Experiment, HypothesisStatus, Investigation
from perfinvest.store.journal import JOURNAL_NAME, Journal, read_journal

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


def repo_info(ctx: AppContext) -> wt.RepoInfo:
    if not ctx.in_git_repo:
        raise refused(
            f"{ctx.repo_root} is not a git repository: experiments record and restore the tree "
            "with git (flag-style `perfinvest experiment ab` needs no git)"
        )
    return wt.inspect_repo(ctx.repo_root, ctx.paths.perf_dir)


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
