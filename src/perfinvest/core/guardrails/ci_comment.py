"""The pull-request comment of ``ci compare`` (pure): ``comment.md``.

A verdict line, the metrics table (base, head, change, 95 % CI, p, verdict), the budget
rows and what to do next. Its first line is :data:`MARKER`, by which the PR workflow finds
and updates its one comment instead of adding another on every push.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from perfinvest.core.guardrails.budgets import BudgetVerdict, render_markdown
from perfinvest.core.guardrails.diffreport import ordered
from perfinvest.core.stats.comparing import ComparisonTable

MARKER = "<!-- perfinvest ci compare -->"


@dataclass(frozen=True)
class CompareSetup:
    """What was measured, for the comment's second line and its reproduce command."""

    base_ref: str
    base_commit: str
    head_ref: str
    head_commit: str
    command: str
    runs_per_side: int
    duration_s: float
    enforce: bool
    meter: str | None = None
    compliance_note: str | None = None  # set when the runs were shorter than the policy
    budgets_source: str = "default: any significant regression of the primary metric"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2%}"


def _num(value: float | None, spec: str = ".4g") -> str:
    return "n/a" if value is None else format(value, spec)


def verdict_line(
    table: ComparisonTable, verdicts: Sequence[BudgetVerdict], enforce: bool, primary: str | None
) -> str:
    """One line a reviewer reads first: breach, regression within budget, or why not."""
    breaches = [v for v in verdicts if v.status == "breach"]
    if breaches:
        what = ", ".join(
            f"{v.metric} {_pct(v.change)}" if v.change is not None else v.metric for v in breaches
        )
        mode = "enforced: this check fails" if enforce else "warn-only"
        return f"### :x: Performance budget breached: {what} ({mode})"
    regressed = table.regressed()
    if regressed:
        return f"### :warning: Significant regression within budget: {', '.join(sorted(regressed))}"
    row = next((r for r in table.rows if r.key == primary), table.rows[0] if table.rows else None)
    if row is None:
        return "### :grey_question: No metric both sides report"
    c = row.comparison
    if c.verdict == "improved":
        return f"### :rocket: {row.key} improved {_pct(c.relative_change)}, no budget breached"
    if c.verdict == "inconclusive":
        ci = f"95 % CI [{_pct(c.ci_low)}, {_pct(c.ci_high)}]"
        return (
            f"### :grey_question: {row.key} inconclusive: {_pct(c.relative_change)}, {ci} "
            f"against a ±{c.threshold:.1%} threshold; no budget breached"
        )
    return f"### :white_check_mark: No significant change in {row.key}, no budget breached"


def _metrics_table(table: ComparisonTable) -> list[str]:
    lines = [
        f"| metric | base ({table.baseline_label}) | head ({table.candidate_label}) "
        "| change | 95 % CI | p | verdict |",
        "|---|---:|---:|---:|---|---:|---|",
    ]
    for r in ordered(table).rows:
        c = r.comparison
        ci = (
            "n/a"
            if c.ci_low is None or c.ci_high is None
            else f"[{_pct(c.ci_low)}, {_pct(c.ci_high)}]"
        )
        unit = f" {r.unit}" if r.unit else ""
        verdict = f"**{c.verdict}**" if c.verdict == "regressed" else c.verdict
        lines.append(
            f"| {r.key} | {_num(c.baseline_mean)}{unit} | {_num(c.candidate_mean)}{unit} "
            f"| {_pct(c.relative_change)} | {ci} | {_num(c.p_welch, '.3g')} | {verdict} |"
        )
    return lines


def _next_steps(
    table: ComparisonTable, verdicts: Sequence[BudgetVerdict], setup: CompareSetup
) -> list[str]:
    again = (
        f"perfinvest ci compare --base {setup.base_commit[:12]} --head {setup.head_commit[:12]} "
        f"--command {shlex.quote(setup.command)} --runs {setup.runs_per_side}"
    )
    if any(v.status == "breach" for v in verdicts):
        return [
            f"- Reproduce it on your machine: `{again}`",
            "- Find the cause: `perfinvest start ...`, then `perfinvest profile` on the head "
            "(docs/profiling.md); `perfinvest experiment` measures one fix at a time",
            "- Intended (a feature that costs time)? Raise the budget in `perf/budgets.yaml` "
            "with a note saying why, in this pull request",
        ]
    if table.regressed():
        return [
            "- Within budget, but real: say in the pull request why the cost is worth it",
            f"- Measure it again: `{again}`",
        ]
    if any(r.comparison.verdict == "inconclusive" for r in table.rows):
        return [
            "- Not enough evidence either way: more runs (`--runs`), longer runs "
            "(`--duration`), or exact counts (`--meter instructions`) narrow the interval",
        ]
    return ["- Nothing to do."]


def render_comment(
    table: ComparisonTable,
    verdicts: Sequence[BudgetVerdict],
    setup: CompareSetup,
    primary: str | None,
) -> str:
    how = "instructions counted under cachegrind" if setup.meter else f"{setup.duration_s:g} s each"
    lines = [
        MARKER,
        verdict_line(table, verdicts, setup.enforce, primary),
        "",
        f"base `{setup.base_ref}` ({setup.base_commit[:12]}) against head `{setup.head_ref}` "
        f"({setup.head_commit[:12]}): {setup.runs_per_side} interleaved runs per side "
        f"(A B A B ...) of `{setup.command}` on this runner, {how}.",
    ]
    if setup.compliance_note:
        lines.append(f"Non-compliant: {setup.compliance_note}.")
    lines += ["", *_metrics_table(table), ""]
    if table.only_in_baseline or table.only_in_candidate:
        gone = ", ".join(table.only_in_baseline) or "none"
        new = ", ".join(table.only_in_candidate) or "none"
        lines += [f"Only in base: {gone}. Only in head: {new}.", ""]
    budget = render_markdown(verdicts, setup.enforce).replace("## ", "#### ", 1)
    lines += [budget.rstrip("\n"), f"Budgets: {setup.budgets_source}.", ""]
    lines += ["#### What to do next", "", *_next_steps(table, verdicts, setup), ""]
    lines.append(
        "<sub>A change counts when p < 0.05 and its whole 95 % CI lies beyond max(noise, 2 %). "
        "`perfinvest diff base.json head.json` in the report artifact recomputes this.</sub>"
    )
    return "\n".join(lines) + "\n"
