"""``perfinvest ci init``: write the CI workflow templates and starter budget files.

Never overwrites a user's file unless forced (exit 2 names the first one that exists).
The workflows are validated against the GitHub workflow schema in the tests
(``check-jsonschema --builtin-schema vendor.github-workflows``).
"""

from __future__ import annotations

from pathlib import Path

from perfinvest.app.context import AppContext
from perfinvest.app.result import CommandResult
from perfinvest.core.errors import usage_error

PR_WORKFLOW = """\
# Written by `perfinvest ci init`: performance budgets on every pull request.
# Warn-only: breaches are marked in the step summary and the artifacts, the job stays
# green. Set the repository variable PERF_ENFORCE=1 to fail on a breach (exit 8).
# Opt-in history gate: PERF_HISTORY_WINDOW=N also judges the result against the last N
# baselines (a threshold from their spread, docs/history.md), restored from the cache
# "perf-history-<os>-" of .claude/perf/baselines/ that perf-history.yml fills.
name: perf-budgets
on:
  pull_request:
permissions:
  contents: read
jobs:
  budgets:
    runs-on: ubuntu-latest
    timeout-minutes: 30
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install perfinvest
        run: pip install perfinvest
      - name: Measure the pull request
        env:
          BENCH: ${{ vars.PERF_BENCH_COMMAND || './bench' }}
        run: perfinvest run --runs 5 --export perf-current.json --shell -- "$BENCH"
      - name: Restore the baselines history
        if: vars.PERF_HISTORY_WINDOW != ''
        uses: actions/cache/restore@v4
        with:
          path: .claude/perf/baselines
          key: perf-history-${{ runner.os }}-${{ github.sha }}
          restore-keys: perf-history-${{ runner.os }}-
      - name: Check budgets
        env:
          WINDOW: ${{ vars.PERF_HISTORY_WINDOW }}
        run: |
          enforce=""
          if [ "${{ vars.PERF_ENFORCE }}" = "1" ]; then enforce="--enforce"; fi
          history=""
          if [ -n "$WINDOW" ]; then history="--history $WINDOW"; fi
          perfinvest budget check perf-current.json --baseline perf/baseline.json \\
            --budgets perf/budgets.yaml --junit perf-junit.xml \\
            --summary "$GITHUB_STEP_SUMMARY" $enforce $history
      - name: Diff report
        if: always()
        run: perfinvest diff perf/baseline.json perf-current.json --report-dir perf-report || true
      - name: Diff against the history
        if: always() && vars.PERF_HISTORY_WINDOW != ''
        env:
          WINDOW: ${{ vars.PERF_HISTORY_WINDOW }}
        run: |
          perfinvest diff --history "$WINDOW" perf-current.json \\
            --report-dir perf-report/history || true
      - uses: actions/upload-artifact@v4
        if: always()
        with:
          name: perf-budgets
          path: |
            perf-current.json
            perf-junit.xml
            perf-report/
"""

NIGHTLY_WORKFLOW = """\
# Written by `perfinvest ci init`: the nightly run on fixed fixtures, against the history.
name: perf-nightly
on:
  schedule:
    - cron: "17 3 * * *"
  workflow_dispatch:
permissions:
  contents: read
jobs:
  nightly:
    runs-on: ubuntu-latest
    timeout-minutes: 60
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install perfinvest
        run: pip install perfinvest
      - name: Measure the fixed fixtures
        env:
          BENCH: ${{ vars.PERF_NIGHTLY_COMMAND || './bench --fixtures perf/fixtures' }}
        run: perfinvest run --runs 10 --export perf-nightly.json --shell -- "$BENCH"
      - name: Export PerfMetrics
        run: perfinvest metrics export perf-nightly.json -o perf-nightly.perfmetrics.json
      - name: Budgets and history
        run: |
          enforce=""
          if [ "${{ vars.PERF_ENFORCE }}" = "1" ]; then enforce="--enforce"; fi
          perfinvest budget check perf-nightly.json --baseline perf/baseline.json \\
            --junit perf-nightly-junit.xml --summary "$GITHUB_STEP_SUMMARY" $enforce
      - uses: actions/upload-artifact@v4
        if: always()
        with:
          name: perf-nightly
          path: |
            perf-nightly.json
            perf-nightly.perfmetrics.json
            perf-nightly-junit.xml
"""

HISTORY_WORKFLOW = """\
# Written by `perfinvest ci init`: fills the baselines history the PR history gate reads.
# On every push to the default branch, measures the PR workflow's benchmark as a baseline
# of version "main" (each new one archives the last: nothing is deleted) and saves
# .claude/perf/baselines/ to the cache "perf-history-<os>-" that perf-budgets.yml
# restores when PERF_HISTORY_WINDOW is set. Same runner type, same command, same 60 s
# runs as the PR measurement, so the window's spread is this machine's noise.
name: perf-history
on:
  push:
    branches: [main]
  workflow_dispatch:
permissions:
  contents: read
concurrency:
  group: perf-history
  cancel-in-progress: false
jobs:
  history:
    if: vars.PERF_HISTORY_WINDOW != ''
    runs-on: ubuntu-latest
    timeout-minutes: 30
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install perfinvest
        run: pip install perfinvest
      - name: Restore the baselines history
        uses: actions/cache/restore@v4
        with:
          path: .claude/perf/baselines
          key: perf-history-${{ runner.os }}-${{ github.sha }}
          restore-keys: perf-history-${{ runner.os }}-
      - name: Measure the default branch as a baseline
        env:
          BENCH: ${{ vars.PERF_BENCH_COMMAND || './bench' }}
        run: |
          perfinvest start --scenario "default-branch history for the PR gate" \
            --command "$BENCH" --shell --mode repeat --metric wall_ms --direction lower \
            --unit ms --success "wall_ms within perf/budgets.yaml" --version main \
            --no-checkpoint
          perfinvest baseline --runs 5 --no-checkpoint
      - name: Save the baselines history
        uses: actions/cache/save@v4
        with:
          path: .claude/perf/baselines
          key: perf-history-${{ runner.os }}-${{ github.run_id }}-${{ github.run_attempt }}
"""

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
    ".github/workflows/perf-history.yml": HISTORY_WORKFLOW,
    "perf/budgets.yaml": BUDGETS,
    "perf/query-budgets.yaml": QUERY_BUDGETS,
}


def ci_init(ctx: AppContext, force: bool, root: Path | None = None) -> CommandResult:
    base = root or ctx.repo_root
    existing = [name for name in FILES if (base / name).exists()]
    if existing and not force:
        raise usage_error(
            f"{existing[0]} already exists; not overwriting it (pass --force to replace "
            f"{', '.join(existing)})"
        )
    from perfinvest.store.outputs import check_output, write_output

    for name in FILES:  # every file is checked (never into the state folder) before writing
        check_output(ctx.paths, base / name, force=force, create_parents=True)
    backups = {}
    for name, text in FILES.items():
        written = write_output(ctx.paths, base / name, text, force=force, create_parents=True)
        if written.backup is not None:
            backups[name] = str(written.backup)
    result = CommandResult(command="ci init")
    result.findings = [f"wrote {name}" for name in FILES]
    result.findings += [
        f"the {name} it replaced is kept at {kept}" for name, kept in backups.items()
    ]
    result.data = {"files": sorted(FILES), "overwritten": existing, "backups": backups}
    result.next = "commit perf/baseline.json (perfinvest baseline / metrics export), then the files"
    return result
