"""The ``perfinvest`` click group; command modules attach themselves to it."""

from __future__ import annotations

import click

from perfinvest import __version__

EXIT_CODES_HELP = (
    "Exit codes: 0 ok, 1 internal error (a bug), 2 usage, 3 needs input, 4 refused by a rule "
    "or precondition, 5 benchmark failed, 6 state unreadable, 7 environment unavailable, "
    "8 regression found, 130 interrupted."
)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXIT_CODES_HELP,
)
@click.version_option(__version__, prog_name="perfinvest")
def cli() -> None:
    """Run a performance investigation as ten enforced phases.

    \b
    Phases, in order (each its own command):
      1 setup           perfinvest start
      2 baseline        perfinvest baseline
      3 breaking-point  perfinvest breaking-point
      4 constraints     perfinvest constraints
      5 hypotheses      perfinvest hypotheses gather / add
      6 code-paths      perfinvest code-paths
      7 profiling       perfinvest profile
      8 optimization    perfinvest experiment start / run
      9 decision        perfinvest decide
     10 consolidation   perfinvest consolidate

    New here? `perfinvest demo` runs all ten phases on a bundled app in about 2 minutes.

    State lives in $AI_STATE_DIR/perf or <repo>/.claude/perf. Start with `perfinvest start`,
    see where you are with `perfinvest status`. Add --json to any command for agents.
    """
