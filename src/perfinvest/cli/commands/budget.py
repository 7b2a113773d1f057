"""``perfinvest budget``: performance budgets for CI (docs/guardrails.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from perfinvest.cli.commands.history import history_model_option, noise_floor_option
from perfinvest.cli.group import cli
from perfinvest.cli.options import command_runner, context, json_option

_FILE = click.Path(dir_okay=False, path_type=Path)


@cli.group()
def budget() -> None:
    """Check results against budgets (perf/budgets.yaml, perf/query-budgets.yaml)."""


@budget.command(name="check")
@click.argument("current", type=_FILE)
@click.option("--baseline", type=_FILE, help="Result file to compare against.")
@click.option("--version", metavar="V", help="Compare against the stored baseline of V.")
@click.option("--budgets", type=_FILE, help="Budgets file (default: perf/budgets.yaml).")
@click.option("--enforce", is_flag=True, help="Exit 8 on a breach (default: warn-only).")
@click.option("--junit", type=_FILE, help="Also write JUnit XML here (a breach fails).")
@click.option(
    "--summary",
    type=_FILE,
    help="Append the markdown summary to this file (e.g. $GITHUB_STEP_SUMMARY).",
)
@click.option(
    "--history",
    type=int,
    metavar="N",
    help="Also judge each budget's metric against the last N results of the history.",
)
@click.option(
    "--budget-rule",
    type=click.Choice(["point", "ci"]),
    help="How a regression beyond max_regression_pct is read: point (the estimate, the "
    "default) or ci (conservative: the whole 95 % CI beyond the budget). Overrides the "
    "budgets file's `rule:`.",
)
@history_model_option
@noise_floor_option
@json_option
@command_runner("budget check")
def check(
    current: Path,
    baseline: Path | None,
    version: str | None,
    budgets: Path | None,
    enforce: bool,
    junit: Path | None,
    summary: Path | None,
    history: int | None,
    history_model: str,
    budget_rule: str | None,
    noise_floor: float,
    as_json: bool,
) -> Any:
    """Check CURRENT (a result file) against the budgets; warn-only unless --enforce.

    A regression budget (max_regression_pct) breaches only on a significant regression
    (p < 0.05, CI beyond max(noise, 2 %)) larger than the budget: by its point estimate
    (rule point, the default) or by its whole CI (rule ci; --budget-rule or `rule:` in
    the budgets file). Exit 0 (warn-only, or
    no breach), 8 (a breach with --enforce), 2 (bad file, a budget on a missing metric or
    in another unit), 4 (--version without that baseline, --history on an empty history).
    """
    from perfinvest.app.guardrails.budgets import BudgetOptions, budget_check

    result = budget_check(
        context(),
        current,
        BudgetOptions(
            budgets,
            baseline,
            version,
            enforce,
            junit,
            summary,
            history,
            history_model,
            budget_rule,  # type: ignore[arg-type]  # click.Choice: point or ci
            noise_floor,
        ),
    )
    return result, result.data.get("markdown")


@budget.command(name="queries")
@click.argument("stats", type=_FILE)
@click.option("--budgets", type=_FILE, help="Default: perf/query-budgets.yaml.")
@click.option("--enforce", is_flag=True, help="Exit 8 on a breach (default: warn-only).")
@click.option("--junit", type=_FILE, help="Also write JUnit XML here.")
@json_option
@command_runner("budget queries")
def queries(
    stats: Path, budgets: Path | None, enforce: bool, junit: Path | None, as_json: bool
) -> Any:
    """Check a query stats file (docs/guardrails.md: from pg_stat_statements or a timed
    SQLite run) against query budgets: p95_ms_budget and max_rows per query_name.
    A stats query with no budget is reported unbudgeted (never a breach). Exit 0 (warn-only
    or no breach), 8 (breach with --enforce), 2 (bad file, unknown query, a negative time or
    count, calls under 1, a budget <= 0: each with its line and field)."""
    from perfinvest.app.guardrails.budgets import query_check

    result = query_check(context(), stats, budgets, enforce, junit)
    return result, result.data.get("markdown")
