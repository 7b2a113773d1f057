#!/usr/bin/env bash
# The README's main-job command: set up, then walk an investigation in a throw-away git
# repository and show its state and the reviewer's log.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
PERFINVEST="$PWD/.venv/bin/perfinvest"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
git init -q -b main
git -c user.name=demo -c user.email=demo@localhost commit -q --allow-empty -m "demo repository"
"$PERFINVEST" start --scenario "demo: how fast is true(1)" --command "true" --mode repeat \
  --metric wall_ms --direction lower --success "wall_ms < 5" --version demo \
  --allow-short-runs "demo: short runs so it finishes quickly" --quote "show me how it works"
"$PERFINVEST" status
"$PERFINVEST" log
git log --oneline
