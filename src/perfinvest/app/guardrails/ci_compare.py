"""``perfinvest ci compare``: base and head measured on one runner, interleaved, compared.

Cloud CI machines differ from run to run by more than most regressions, so a result
stored by another job is no baseline. Here both sides are checked out into temporary
worktrees (named ``perfinvest-baseline-ci-*``: ``recover`` removes them after a kill; the
user's tree, index and HEAD are never touched), measured A B A B ... under the host lock
and the run policy of ``perfinvest run``, compared with ``diff``'s statistics and judged
by ``budget check``'s budgets. Writes ``base.json``, ``head.json``, ``diff.json``,
``diff.md``, ``junit.xml`` and ``comment.md`` (core/guardrails/ci_comment.py) to the report folder.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from perfinvest.adapters import worktree as wt
from perfinvest.app.context import AppContext
from perfinvest.app.guardrails.budgets import DEFAULT_BUDGETS, read_yaml
from perfinvest.app.measuring.adhoc import AdhocRequest, _adhoc_benchmark
from perfinvest.app.measuring.benchmark import MeasureOptions, benchmark_lock
from perfinvest.app.measuring.measure import Benchmark, Session, run_once
from perfinvest.app.result import CommandResult, regression_failure
from perfinvest.core.errors import (
    ExitCode,
    PerfError,
    benchmark_failed,
    environment_error,
    refused,
    usage_error,
)
from perfinvest.core.guardrails.budgets import (
    Budget,
    BudgetVerdict,
    check_budgets,
    parse_budgets,
    render_junit,
)
from perfinvest.core.guardrails.ci_comment import CompareSetup, render_comment
from perfinvest.core.models import Event, Run
from perfinvest.core.policy import DurationDecision, decide_duration
from perfinvest.core.stats.comparability import mismatches
from perfinvest.core.stats.comparing import ComparisonTable, compare_runs, table_json
from perfinvest.store.atomic import atomic_write_text

SIDES = ("base", "head")
#: Next to a running ``ci compare``'s worktrees: its pid, so ``recover`` leaves them alone.
OWNER_FILE = "perfinvest-ci-owner.pid"


def in_use_by_live_compare(worktree: Path) -> bool:
    """Whether ``worktree`` belongs to a ``ci compare`` that is still running."""
    try:
        pid = int((worktree.parent / OWNER_FILE).read_text(encoding="utf-8").strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class CiCompareRequest:
    base: str
    command: str
    head: str = "HEAD"
    runs: int = 5
    allow_short: str | None = None
    budgets: Path | None = None  # default: perf/budgets.yaml of the checkout, when present
    enforce: bool = False
    report_dir: Path = Path("perf-report")
    summary: Path | None = None  # comment.md appended here too (e.g. $GITHUB_STEP_SUMMARY)


def _git_text(top: Path, *args: str) -> str | None:
    import subprocess

    try:
        done = subprocess.run(
            ["git", "-C", str(top), *args], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise environment_error(
            "git is not installed: ci compare checks out base and head with git"
        ) from None
    return done.stdout.strip() if done.returncode == 0 else None


def _checkout_top(cwd: Path) -> Path:
    top = _git_text(cwd, "rev-parse", "--show-toplevel")
    if top is None:
        raise refused(
            f"{cwd} is not in a git repository: ci compare checks out --base and --head "
            "from it; run it inside the repository's checkout"
        )
    return Path(top)


def _commit(top: Path, ref: str, option: str) -> str:
    sha = _git_text(top, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}")
    if sha is None:
        raise usage_error(
            f"{option} {ref}: no such commit in {top} (fetch it first, e.g. "
            f"`git fetch origin {ref}`, or give a branch, tag or commit id)"
        )
    return sha


def _budgets(top: Path, given: Path | None) -> tuple[list[Budget] | None, str]:
    """The budgets to judge by; None: none written, the primary metric's default applies."""
    path = given if given is not None else top / DEFAULT_BUDGETS
    if given is None and not path.is_file():
        return None, "default: any significant regression of the primary metric"
    return parse_budgets(read_yaml(path, "budgets file"), str(path)), str(given or DEFAULT_BUDGETS)


def _validate(
    ctx: AppContext, request: CiCompareRequest, options: MeasureOptions
) -> DurationDecision:
    if not request.command.strip():
        raise usage_error("--command is empty: give the benchmark command, e.g. --command ./bench")
    if request.runs < 2:
        raise usage_error(f"--runs {request.runs}: each side needs at least 2 runs for a verdict")
    if request.allow_short is not None and not request.allow_short.strip():
        raise usage_error("--allow-short needs a reason")
    from perfinvest.adapters.meters import require_meter

    require_meter(options.meter)
    return decide_duration(
        options.duration_s,
        short_policy=request.allow_short,
        env_allow_short=ctx.environ.get("PERF_ALLOW_SHORT") == "1",
        allow_flag="--allow-short REASON",
    )


def _interleave(
    ctx: AppContext,
    sides: dict[str, Benchmark],
    commits: dict[str, str],
    session: Session,
    runs: int,
    events: list[Event],
) -> dict[str, list[Run]]:
    """A B A B ... under one host lock; a side that cannot run once stops it (exit 5)."""
    out: dict[str, list[Run]] = {side: [] for side in SIDES}
    with benchmark_lock(ctx, None, f"ci compare: {sides['head'].command[0]}", events):
        for index in range(1, runs + 1):
            for side in SIDES:
                git = (commits[side], False)
                out[side].append(run_once(sides[side], session, side, index, runs, git))
            if index == 1:
                for side in SIDES:
                    first = out[side][0]
                    if not first.valid:
                        raise benchmark_failed(
                            f"the {side} side ({commits[side][:12]}) failed: {first.invalid_reason}"
                        )
    return out


def _measure(
    ctx: AppContext,
    request: CiCompareRequest,
    options: MeasureOptions,
    duration: DurationDecision,
    top: Path,
    commits: dict[str, str],
) -> tuple[dict[str, list[Run]], list[Event], Benchmark]:
    relative = Path.cwd().resolve().relative_to(top.resolve())
    benchmark = _adhoc_benchmark(
        AdhocRequest(command=(request.command,), shell=True), [request.command], options
    )
    events: list[Event] = []
    with tempfile.TemporaryDirectory(prefix="perfinvest-ci-") as scratch:
        trees = {s: Path(scratch) / f"{wt.WORKTREE_PREFIX}ci-{s}" for s in SIDES}
        (Path(scratch) / OWNER_FILE).write_text(str(os.getpid()), encoding="utf-8")
        try:
            for side in SIDES:
                wt.add_commit_worktree(top, commits[side], trees[side])
            sides = {s: replace(benchmark, cwd=trees[s] / relative) for s in SIDES}
            session = Session(
                repo_root=top,
                artifact_root=Path(scratch) / "artifacts",
                perf_dir=None,
                investigation_id=None,
                duration=duration,
                strict_quiet=options.strict,
                progress=options.progress,
                stop=options.stop,
            )
            runs = _interleave(ctx, sides, commits, session, request.runs, events)
        except KeyboardInterrupt:
            raise PerfError(
                "interrupted: the runs were stopped, the worktrees removed, the lock released",
                ExitCode.INTERRUPTED,
                kind="interrupted",
            ) from None
        finally:
            for side in SIDES:
                wt.remove_worktree(top, trees[side])
    kept = {s: [r.model_copy(update={"artifacts": []}) for r in runs[s]] for s in SIDES}
    return kept, events, benchmark


def _judge(
    runs: dict[str, list[Run]], primary: str | None, budgets: list[Budget] | None
) -> tuple[ComparisonTable, list[BudgetVerdict], str | None]:
    valid = {s: [r for r in runs[s] if r.valid] for s in SIDES}
    for side in SIDES:
        if len(valid[side]) < 2:
            reasons = "; ".join(
                sorted({r.invalid_reason or "?" for r in runs[side] if not r.valid})
            )
            raise benchmark_failed(
                f"the {side} side has {len(valid[side])} valid run(s) of {len(runs[side])}, "
                f"2 are needed: {reasons or 'no metric reported'}"
            )
    found = mismatches(valid["base"][0].environment, valid["head"][0].environment)
    if found:
        raise refused(f"base and head were measured differently ({'; '.join(found)})")
    table = compare_runs(
        valid["base"], valid["head"], baseline_label="base", candidate_label="head", primary=primary
    )
    primary = primary or (table.rows[0].key if table.rows else None)
    if budgets is None:
        budgets = [Budget(metric=primary, max_regression_pct=0.0)] if primary else []
    verdicts = check_budgets(
        budgets, valid["head"], valid["base"], current_label="head", baseline_label="base"
    )
    return table, verdicts, primary


def _write(report_dir: Path, files: dict[str, str]) -> None:
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            atomic_write_text(report_dir / name, text)
    except OSError as exc:
        raise usage_error(
            f"cannot write the report to {report_dir}: {exc.strerror or exc} "
            "(give a writable --report-dir)"
        ) from None


def ci_compare(
    ctx: AppContext, request: CiCompareRequest, options: MeasureOptions
) -> CommandResult:
    from perfinvest.adapters.meters import INSTRUCTIONS
    from perfinvest.core.guardrails.diffreport import report_json, report_markdown

    duration = _validate(ctx, request, options)
    top = _checkout_top(Path.cwd())
    commits = {
        "base": _commit(top, request.base, "--base"),
        "head": _commit(top, request.head, "--head"),
    }
    budgets, source = _budgets(top, request.budgets)
    runs, events, benchmark = _measure(ctx, request, options, duration, top, commits)
    primary = INSTRUCTIONS if options.meter else "wall_ms" if benchmark.mode == "repeat" else None
    table, verdicts, primary = _judge(runs, primary, budgets)
    setup = CompareSetup(
        base_ref=request.base,
        base_commit=commits["base"],
        head_ref=request.head,
        head_commit=commits["head"],
        command=request.command,
        runs_per_side=request.runs,
        duration_s=duration.duration_s,
        enforce=request.enforce,
        meter=options.meter,
        compliance_note=None if duration.compliant else duration.note,
        budgets_source=source,
    )
    comment = render_comment(table, verdicts, setup, primary)
    _write(
        request.report_dir,
        {
            "base.json": json.dumps([r.model_dump(mode="json") for r in runs["base"]], indent=2)
            + "\n",
            "head.json": json.dumps([r.model_dump(mode="json") for r in runs["head"]], indent=2)
            + "\n",
            "diff.json": report_json(table),
            "diff.md": report_markdown(table),
            "junit.xml": render_junit(verdicts, "perfinvest.ci-compare"),
            "comment.md": comment,
        },
    )
    if request.summary is not None:
        with request.summary.open("a", encoding="utf-8") as out:
            out.write(comment)
    return _answer(table, verdicts, request, commits, comment, events, duration)


def _answer(
    table: ComparisonTable,
    verdicts: list[BudgetVerdict],
    request: CiCompareRequest,
    commits: dict[str, str],
    comment: str,
    events: list[Event],
    duration: DurationDecision,
) -> CommandResult:
    result = CommandResult(command="ci compare", investigation=None, phase=None)
    breaches = [v for v in verdicts if v.status == "breach"]
    result.findings = [
        f"{row.key}: {row.comparison.verdict} ({row.comparison.reason})" for row in table.rows
    ]
    result.findings += [
        ("BREACH: " if v.status == "breach" else f"{v.status}: ") + v.message for v in verdicts
    ]
    result.findings += [event.message for event in events]
    if not duration.compliant:
        result.findings.append(f"non-compliant: {duration.note}")
    result.data = {
        "base": {"ref": request.base, "commit": commits["base"]},
        "head": {"ref": request.head, "commit": commits["head"]},
        "runs_per_side": request.runs,
        "comparison": table_json(table),
        "verdicts": [v.to_json() for v in verdicts],
        "breaches": len(breaches),
        "enforce": request.enforce,
        "report_dir": str(request.report_dir),
        "comment": str(request.report_dir / "comment.md"),
        "markdown": comment,
        "compliant": duration.compliant,
    }
    if breaches and request.enforce:
        regression_failure(
            result, f"budget breached: {', '.join(sorted({v.metric for v in breaches}))}"
        )
    elif breaches:
        result.next = "warn-only: pass --enforce to fail the job on a breach (exit 8)"
    else:
        result.next = f"post {request.report_dir / 'comment.md'} on the pull request"
    return result
