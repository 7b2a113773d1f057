#!/usr/bin/env bash
# The README's main-job command: set up a fresh machine, then run `perfinvest demo`, a whole
# ten-phase investigation of a small bundled app with a slowdown planted in its history.
# Extra arguments go to the demo (--keep keeps the repository, --full uses 60 s runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/perfinvest demo "$@"
