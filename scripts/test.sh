#!/usr/bin/env bash
# The README's test command: set up a fresh machine, then lint, type-check and run every test.
# FAST=1 skips the tests marked slow (for iterating; CI runs everything).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check src tests benchmarks
.venv/bin/mypy
.venv/bin/perfinvest schemas --check --json >/dev/null
if [ "${FAST:-0}" = "1" ]; then
  exec .venv/bin/pytest -m "not slow" "$@"
fi
exec .venv/bin/pytest "$@"
