#!/usr/bin/env bash
# Install everything perfinvest and its test-suite need on a fresh Debian machine:
# the Debian packages the real-part tests use, a virtualenv in .venv, and perfinvest itself
# (editable, with the dev extras). Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# python3-venv: `python3 -m venv .venv` below (Debian splits it out of python3)
# hyperfine, wrk, golang-go: the benchmark tools perfinvest parses and drives (tool-driven
# runs of hyperfine and `go test -bench`; pytest-benchmark and pyperf come with the dev extras)
# docker.io + busybox-static: the Docker constraint backend's engine and its test image
# linux-perf, gcc, nodejs, universal-ctags: the profiling tests (perf on a C program built
# in the test, a real .cpuprofile, ctags symbols); golang-go also runs the Go profiler tests.
# openjdk-17-jdk-headless: the Java profiler tests (JFR). valgrind: `--meter instructions`
# (cachegrind). chromium: the HTML report's browser test. k6 has no Debian or npm package:
# its parser is tested on documented output.
# prometheus-pushgateway: `export openmetrics --push` is tested against a real Pushgateway;
# prometheus: its promtool lints the Prometheus-format export and backfills the OpenMetrics one
# (`promtool tsdb create-blocks-from openmetrics`) in the export tests.
APT_PACKAGES=(git python3-venv hyperfine wrk golang-go docker.io busybox-static linux-perf gcc
  nodejs universal-ctags openjdk-17-jdk-headless valgrind chromium prometheus-pushgateway
  prometheus)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

if command -v apt-get >/dev/null 2>&1; then
  missing=()
  for package in "${APT_PACKAGES[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "bootstrap: installing Debian packages: ${missing[*]}" >&2
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
else
  echo "bootstrap: no apt-get here; install these yourself: ${APT_PACKAGES[*]}" >&2
fi

# Claude Code: tests/test_agent_files.py runs its own plugin validator (`claude plugin
# validate`, a local marketplace install), which needs neither an API key nor the network;
# without `claude` those tests skip. Installed only when missing, with npm (Debian's `npm`
# package, not in APT_PACKAGES: it pulls in hundreds of packages) and a reachable registry;
# a failure is a warning, never a failed bootstrap.
install_claude_code() {
  if command -v claude >/dev/null 2>&1; then
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "bootstrap: warning: no npm, so no Claude Code: its validator tests will skip" >&2
    return 0
  fi
  if ! timeout 30 npm ping >/dev/null 2>&1; then
    echo "bootstrap: warning: the npm registry is unreachable, so no Claude Code:" \
      "its validator tests will skip" >&2
    return 0
  fi
  echo "bootstrap: installing Claude Code (npm install -g @anthropic-ai/claude-code)" >&2
  if ! timeout 600 "${sudo_cmd[@]}" npm install -g --no-fund --no-audit \
    @anthropic-ai/claude-code >/dev/null 2>&1; then
    echo "bootstrap: warning: npm install -g @anthropic-ai/claude-code failed:" \
      "its validator tests will skip" >&2
  fi
  return 0
}
install_claude_code

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv with $("$PYTHON" --version)" >&2
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[dev]'
# typescript + @grafana/schema (Apache-2.0, from npm): the export tests type-check the Grafana
# dashboard against the types Grafana publishes for its dashboard JSON model (no Grafana
# server is installable here). Kept out of git under .cache/.
if command -v npm >/dev/null 2>&1 && [ ! -x .cache/grafana-schema/node_modules/.bin/tsc ]; then
  echo "bootstrap: installing typescript and @grafana/schema into .cache/grafana-schema" >&2
  npm install --prefix .cache/grafana-schema --no-audit --no-fund --silent \
    typescript@5 @grafana/schema@13.2.3 >/dev/null ||
    echo "bootstrap: npm install failed; the dashboard type-check test will be skipped" >&2
fi
echo "bootstrap: ready (.venv/bin/perfinvest)" >&2
