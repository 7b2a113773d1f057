"""The GitHub workflows ``perfinvest ci init`` writes (docs/guardrails.md).

* ``perf-budgets.yml``: on a pull request, ``ci compare`` measures the merge base and the
  head on the same runner, interleaved, and a second job (the only one allowed to write to
  pull requests, skipped for forks) posts or updates one comment with ``comment.md``.
* ``perf-nightly.yml``: each night measures the default branch as a baseline, appends it to
  the durable history on the branch ``perf-history`` and judges it with ``history check``.
* ``release.yml`` (``ci init --release``): build, ``twine check --strict``, publish to PyPI
  with trusted publishing.

Run steps keep every ``${{ }}`` expression in their ``env:``, never in the script: a
variable's text cannot become shell code, and the steps run as they are under a plain
bash (tests/cli/test_ci_workflows.py runs them so).
"""

from __future__ import annotations

#: pip's requirement for perfinvest in the workflows unless vars.PERFINVEST_SPEC says
#: otherwise: this repository at a pinned release tag (docs/guardrails.md).
DEFAULT_SPEC = "git+https://github.com/perfinvest/perfinvest@v0.1.0"

_INSTALL = f"""\
      - name: Install perfinvest
        env:
          SPEC: ${{{{ vars.PERFINVEST_SPEC || '{DEFAULT_SPEC}' }}}}
        run: python -m pip install "$SPEC"
"""

PR_WORKFLOW = (
    """\
# Written by `perfinvest ci init`: base against head on every pull request, on one runner.
# `perfinvest ci compare` checks out the merge base and the pull request's head into
# temporary worktrees and measures them interleaved (A B A B ...) in this job, so the
# runner's speed cancels out; budgets from perf/budgets.yaml (default: any significant
# regression of wall_ms). Warn-only unless the repository variable PERF_ENFORCE=1 (exit 8).
# Variables: PERF_BENCH_COMMAND (default ./bench), PERF_RUNS (5 per side), PERF_DURATION
# (seconds per run; under 60 marks the runs non-compliant), PERF_METER (instructions),
# PERFINVEST_SPEC (pip requirement for perfinvest, default the pinned release below).
name: perf-budgets
on:
  pull_request:
permissions:
  contents: read
concurrency:
  group: perf-budgets-${{ github.event.pull_request.number }}
  cancel-in-progress: true
jobs:
  compare:
    runs-on: ubuntu-latest
    timeout-minutes: 60
    steps:
      - uses: actions/checkout@v5
        with:
          fetch-depth: 0
          persist-credentials: false
      - uses: actions/setup-python@v6
        with:
          python-version: "3.12"
"""
    + _INSTALL
    + """\
      - name: Find the merge base
        id: base
        run: |
          git fetch --no-tags origin "$GITHUB_BASE_REF"
          echo "sha=$(git merge-base FETCH_HEAD HEAD)" >> "$GITHUB_OUTPUT"
      - name: Compare base and head on this runner
        env:
          BASE: ${{ steps.base.outputs.sha }}
          BENCH: ${{ vars.PERF_BENCH_COMMAND || './bench' }}
          RUNS: ${{ vars.PERF_RUNS || '5' }}
          DURATION: ${{ vars.PERF_DURATION }}
          ENFORCE: ${{ vars.PERF_ENFORCE }}
          METER: ${{ vars.PERF_METER }}
        run: |
          args=()
          if [ "$ENFORCE" = "1" ]; then args+=(--enforce); fi
          if [ -n "$METER" ]; then args+=(--meter "$METER"); fi
          if [ -n "$DURATION" ]; then
            args+=(--duration "$DURATION" --allow-short "vars.PERF_DURATION on pull requests")
          fi
          perfinvest ci compare --base "$BASE" --command "$BENCH" --runs "$RUNS" \\
            --report-dir perf-report --summary "$GITHUB_STEP_SUMMARY" "${args[@]}"
      - uses: actions/upload-artifact@v6
        if: always()
        with:
          name: perf-report
          path: perf-report/
          if-no-files-found: ignore
  comment:
    needs: compare
    # forks get a read-only token: no comment there (the step summary and artifact remain)
    if: always() && github.event.pull_request.head.repo.full_name == github.repository
    runs-on: ubuntu-latest
    timeout-minutes: 5
    permissions:
      pull-requests: write
    steps:
      - uses: actions/download-artifact@v7
        continue-on-error: true
        with:
          name: perf-report
          path: perf-report
      - name: Post or update the pull request comment
        uses: actions/github-script@v8
        with:
          script: |
            const fs = require('fs');
            const file = 'perf-report/comment.md';
            if (!fs.existsSync(file)) {
              core.notice('no comment.md: the compare job stopped before writing it');
              return;
            }
            const body = fs.readFileSync(file, 'utf8');
            const marker = body.split('\\n')[0];
            const { owner, repo } = context.repo;
            const issue_number = context.issue.number;
            const comments = await github.paginate(
              github.rest.issues.listComments, { owner, repo, issue_number });
            const mine = comments.find((c) => (c.body || '').startsWith(marker));
            if (mine) {
              await github.rest.issues.updateComment({ owner, repo, comment_id: mine.id, body });
            } else {
              await github.rest.issues.createComment({ owner, repo, issue_number, body });
            }
"""
)

NIGHTLY_WORKFLOW = (
    """\
# Written by `perfinvest ci init`: the nightly history. Measures the default branch as a
# baseline of version "nightly", appends it to the branch perf-history (baselines/ there is
# .claude/perf/baselines/: the current nightly.json and every earlier one in archive/) and
# judges it against the last PERF_HISTORY_WINDOW (default 10) with `history check`.
# Retention: the newest PERF_HISTORY_KEEP (default 400) archived results stay on the
# branch's tip; older ones are removed from the tip but stay in the branch's git history.
# Same runner type, same command every night, so the window's spread is the runner's noise.
name: perf-nightly
on:
  schedule:
    - cron: "17 3 * * *"
  workflow_dispatch:
permissions:
  contents: read
concurrency:
  group: perf-nightly
  cancel-in-progress: false
jobs:
  nightly:
    runs-on: ubuntu-latest
    timeout-minutes: 60
    permissions:
      contents: write  # pushes the perf-history branch, nothing else
    steps:
      - uses: actions/checkout@v5
        with:
          fetch-depth: 0
      - uses: actions/setup-python@v6
        with:
          python-version: "3.12"
"""
    + _INSTALL
    + """\
      - name: Restore the history from the perf-history branch
        id: restore
        run: |
          tree="${RUNNER_TEMP:-/tmp}/perf-history"
          rm -rf "$tree"
          git worktree prune
          if git fetch --no-tags origin perf-history; then
            git worktree add --detach "$tree" FETCH_HEAD
          else
            git worktree add --detach "$tree" HEAD
            git -C "$tree" checkout -q --orphan perf-history-new
            git -C "$tree" rm -rfq .
          fi
          mkdir -p "$tree/baselines" .claude/perf
          rm -rf .claude/perf/baselines
          cp -a "$tree/baselines" .claude/perf/baselines
          echo "tree=$tree" >> "$GITHUB_OUTPUT"
          echo "points=$(find "$tree/baselines" -name '*.json' | wc -l)" >> "$GITHUB_OUTPUT"
      - name: Measure the default branch
        env:
          BENCH: ${{ vars.PERF_BENCH_COMMAND || './bench' }}
          RUNS: ${{ vars.PERF_RUNS || '5' }}
          DURATION: ${{ vars.PERF_DURATION }}
        run: |
          duration=()
          if [ -n "$DURATION" ]; then
            export PERF_ALLOW_SHORT=1  # runs under 60 s: marked non-compliant
            duration=(--duration "$DURATION")
          fi
          perfinvest start --scenario "nightly history of the default branch" \\
            --command "$BENCH" --shell --mode repeat --metric wall_ms --direction lower \\
            --unit ms --success "wall_ms within the history's threshold" --version nightly \\
            --no-checkpoint
          perfinvest baseline --runs "$RUNS" --no-checkpoint "${duration[@]}"
      - name: Append to the perf-history branch
        env:
          TREE: ${{ steps.restore.outputs.tree }}
          KEEP: ${{ vars.PERF_HISTORY_KEEP || '400' }}
        run: |
          rm -rf "$TREE/baselines"
          cp -a .claude/perf/baselines "$TREE/baselines"
          if [ -d "$TREE/baselines/archive" ]; then
            find "$TREE/baselines/archive" -name '*.json' -printf '%f\\n' | sort \\
              | head -n "-$KEEP" | while read -r old; do rm "$TREE/baselines/archive/$old"; done
          fi
          git -C "$TREE" add -A baselines
          message="perf history: nightly of $(git rev-parse --short HEAD)"
          git -C "$TREE" -c user.name=perfinvest \\
            -c user.email=perfinvest@users.noreply.github.com commit -q -m "$message"
          git -C "$TREE" push -q origin HEAD:refs/heads/perf-history
      - name: Judge the night against the history
        env:
          POINTS: ${{ steps.restore.outputs.points }}
          WINDOW: ${{ vars.PERF_HISTORY_WINDOW || '10' }}
          ENFORCE: ${{ vars.PERF_ENFORCE }}
        run: |
          if [ "$POINTS" = "0" ]; then
            echo "first result of the history: nothing to judge yet" >> "$GITHUB_STEP_SUMMARY"
            exit 0
          fi
          enforce=()
          if [ "$ENFORCE" = "1" ]; then enforce=(--enforce); fi
          perfinvest history check .claude/perf/baselines/nightly.json --window "$WINDOW" \\
            "${enforce[@]}" > perf-history-check.md
          cat perf-history-check.md >> "$GITHUB_STEP_SUMMARY"
"""
)

RELEASE_WORKFLOW = """\
# Written by `perfinvest ci init --release`: build, check and publish on a release tag.
# Publishing uses PyPI trusted publishing (no token): add this repository, this workflow
# file and the environment "pypi" as a trusted publisher of the project on pypi.org.
name: release
on:
  push:
    tags: ["v*"]
  workflow_dispatch:
permissions:
  contents: read
jobs:
  build:
    runs-on: ubuntu-latest
    timeout-minutes: 15
    steps:
      - uses: actions/checkout@v5
        with:
          persist-credentials: false
      - uses: actions/setup-python@v6
        with:
          python-version: "3.12"
      - name: Build the sdist and the wheel
        run: |
          python -m pip install build twine
          python -m build
      - name: Check them
        run: python -m twine check --strict dist/*
      - uses: actions/upload-artifact@v6
        with:
          name: dist
          path: dist/
  publish:
    needs: build
    if: startsWith(github.ref, 'refs/tags/v')
    runs-on: ubuntu-latest
    timeout-minutes: 10
    environment: pypi
    permissions:
      id-token: write  # trusted publishing
    steps:
      - uses: actions/download-artifact@v7
        with:
          name: dist
          path: dist/
      - uses: pypa/gh-action-pypi-publish@release/v1
"""
