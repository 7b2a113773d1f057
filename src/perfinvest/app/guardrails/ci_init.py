"""``perfinvest ci init``: write the CI workflow templates and starter budget files.

Never overwrites a user's file unless forced (exit 2 names the first one that exists).
The workflows (app/guardrails/ci_workflows.py) are validated against the GitHub workflow schema and
actionlint, and their run steps executed, in the tests (tests/cli/test_ci_workflows.py).
"""

from __future__ import annotations

from pathlib import Path

from perfinvest.app.context import AppContext
from perfinvest.app.guardrails.ci_workflows import (
    DEFAULT_SPEC,
    NIGHTLY_WORKFLOW,
    PR_WORKFLOW,
    RELEASE_WORKFLOW,
)
from perfinvest.app.result import CommandResult
from perfinvest.core.errors import usage_error

__all__ = ["DEFAULT_SPEC", "FILES", "NIGHTLY_WORKFLOW", "PR_WORKFLOW", "RELEASE_WORKFLOW"]

BUDGETS = """\
# Performance budgets (docs/guardrails.md). Per metric (and scenario):
#   max: absolute ceiling on the mean (a floor for higher-is-better metrics), in its unit
#   max_regression_pct: largest significant regression against the baseline
budgets:
  - metric: wall_ms
    unit: ms
    max_regression_pct: 20   # SPEC-940: fail on a significant regression of more than 20 %
"""

QUERY_BUDGETS = """\
# Query budgets (docs/guardrails.md): checked by `perfinvest budget queries STATS.json`.
queries:
  - query_name: example_lookup
    p95_ms_budget: 50
    max_rows: 100
    notes: replace with your queries
"""

FILES = {
    ".github/workflows/perf-budgets.yml": PR_WORKFLOW,
    ".github/workflows/perf-nightly.yml": NIGHTLY_WORKFLOW,
    "perf/budgets.yaml": BUDGETS,
    "perf/query-budgets.yaml": QUERY_BUDGETS,
}
RELEASE_FILE = ".github/workflows/release.yml"
#: Written by earlier versions; the nightly workflow's perf-history branch replaces it.
SUPERSEDED = ".github/workflows/perf-history.yml"


def ci_init(
    ctx: AppContext, force: bool, root: Path | None = None, *, release: bool = False
) -> CommandResult:
    base = root or ctx.repo_root
    files = {**FILES, RELEASE_FILE: RELEASE_WORKFLOW} if release else dict(FILES)
    existing = [name for name in files if (base / name).exists()]
    if existing and not force:
        raise usage_error(
            f"{existing[0]} already exists; not overwriting it (pass --force to replace "
            f"{', '.join(existing)})"
        )
    from perfinvest.store.outputs import check_output, write_output

    for name in files:  # every file is checked (never into the state folder) before writing
        check_output(ctx.paths, base / name, force=force, create_parents=True)
    backups = {}
    for name, text in files.items():
        written = write_output(ctx.paths, base / name, text, force=force, create_parents=True)
        if written.backup is not None:
            backups[name] = str(written.backup)
    result = CommandResult(command="ci init")
    result.findings = [f"wrote {name}" for name in files]
    result.findings += [
        f"the {name} it replaced is kept at {kept}" for name, kept in backups.items()
    ]
    result.findings.append(
        f"perfinvest is installed from vars.PERFINVEST_SPEC, default {DEFAULT_SPEC}"
    )
    if (base / SUPERSEDED).exists():
        result.findings.append(
            f"{SUPERSEDED} (cache-based history) is superseded by perf-nightly.yml's "
            "perf-history branch: delete it"
        )
    result.data = {
        "files": sorted(files),
        "overwritten": existing,
        "backups": backups,
        "spec": DEFAULT_SPEC,
    }
    result.next = (
        "commit the files; set the repository variable PERF_BENCH_COMMAND (default ./bench)"
    )
    return result
