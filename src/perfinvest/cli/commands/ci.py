"""``perfinvest ci``: CI workflow templates (docs/guardrails.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from perfinvest.cli.group import cli
from perfinvest.cli.options import (
    command_runner,
    context,
    json_option,
    measure_options,
    measure_settings,
    meter_option,
)


@cli.group()
def ci() -> None:
    """Performance checks for CI: base against head on one runner, and GitHub workflows."""


@ci.command(name="init")
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@click.option(
    "--release",
    is_flag=True,
    help="Also write .github/workflows/release.yml: build, twine check, publish to PyPI "
    "with trusted publishing on a v* tag.",
)
@click.option(
    "--dir",
    "root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write under this folder (default: the repository root).",
)
@json_option
@command_runner("ci init")
def init(force: bool, release: bool, root: Path | None, as_json: bool) -> Any:
    """Write .github/workflows/perf-budgets.yml (pull requests: `ci compare` of the merge
    base against the head on one runner, one PR comment), perf-nightly.yml (the nightly
    result appended to the perf-history branch and judged by `history check`) and starter
    perf/budgets.yaml, perf/query-budgets.yaml. perfinvest is installed from the repository
    variable PERFINVEST_SPEC (default: a pinned release). Exit 2 if a file exists (named)
    unless --force."""
    from perfinvest.app.guardrails.ci_init import ci_init

    return ci_init(context(), force, root, release=release)


@ci.command(name="compare")
@click.option("--base", required=True, metavar="REF", help="The commit to compare against.")
@click.option("--head", default="HEAD", show_default=True, metavar="REF", help="The change.")
@click.option(
    "--command",
    "bench",
    required=True,
    metavar="CMD",
    help="The benchmark, one /bin/sh command line run in each side's checkout.",
)
@click.option("--runs", type=int, default=5, show_default=True, help="Runs per side (A B A B).")
@click.option(
    "--allow-short",
    metavar="REASON",
    help="Allow runs under 60 s; they are marked non-compliant with REASON.",
)
@click.option(
    "--budgets",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Budgets file (default: perf/budgets.yaml when present, else any significant "
    "regression of the primary metric is a breach).",
)
@click.option("--enforce", is_flag=True, help="Exit 8 on a breach (default: warn-only).")
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("perf-report"),
    show_default=True,
    help="Write base.json, head.json, diff.json, diff.md, junit.xml and comment.md here.",
)
@click.option(
    "--summary",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also append comment.md to this file (e.g. $GITHUB_STEP_SUMMARY).",
)
@measure_options
@meter_option
@json_option
@command_runner("ci compare")
def compare(
    base: str,
    head: str,
    bench: str,
    runs: int,
    allow_short: str | None,
    budgets: Path | None,
    enforce: bool,
    report_dir: Path,
    summary: Path | None,
    duration: float | None,
    strict: bool,
    meter: str | None,
    as_json: bool,
) -> Any:
    """Measure --base and --head on this machine, interleaved, and judge the change.

    Both commits are checked out into temporary worktrees (your tree, index and HEAD are
    untouched; `perfinvest recover` removes them after a kill), measured A B A B ... under
    the host lock and the run policy, compared like `diff` and judged by the budgets like
    `budget check`. Exit 0 (no breach, or warn-only), 8 (a breach with --enforce),
    2 (unknown ref, bad budgets), 4 (not a git repository, short runs not allowed),
    5 (a side failed to run).

    \b
      perfinvest ci compare --base origin/main --command ./bench --enforce
      perfinvest ci compare --base main --command 'python bench.py' --runs 3 \\
          --duration 5 --allow-short "pull-request check"
    """
    from perfinvest.app.context import AppContext
    from perfinvest.app.guardrails.ci_compare import CiCompareRequest, ci_compare

    request = CiCompareRequest(
        base=base,
        command=bench,
        head=head,
        runs=runs,
        allow_short=allow_short,
        budgets=budgets,
        enforce=enforce,
        report_dir=report_dir,
        summary=summary,
    )
    result = ci_compare(
        AppContext.discover(checkpoint=False), request, measure_settings(duration, strict, meter)
    )
    return result, result.data.get("markdown")
