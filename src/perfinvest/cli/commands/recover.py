"""``perfinvest recover``: finish what a killed experiment left behind."""

from __future__ import annotations

from typing import Any

import click

from perfinvest.cli.group import cli
from perfinvest.cli.options import command_runner, context, json_option


@cli.command()
@click.option(
    "--release",
    is_flag=True,
    help="Drop the journal even when the restore cannot be verified (the recorded tree stays "
    "under refs/perfinvest/snapshots/ for you to inspect).",
)
@json_option
@command_runner("recover")
def recover(release: bool, as_json: bool) -> Any:
    """Put the tree back after a killed experiment, and report exactly what was done.

    After SIGKILL or a power cut during `experiment run` or `abort`, every other command
    refuses (exit 4) until this has run: it removes the baseline-side worktree, takes the
    experiment's change out of the tree and nothing else (files it did not change stay as
    you left them, edits after the crash included; a file it changed that you edited since
    keeps your edits, or is saved under artifacts/<id>/recover-<time>/ when they cannot be
    merged), restores the index, verifies it all, marks the experiment interrupted (its
    change is kept as a patch), checkpoints the perf state and removes stale worktrees,
    cgroups and containers. With nothing to recover it says so and cleans up stale leftovers.
    """
    from perfinvest.app.recover import recover as run_recover

    return run_recover(context(), release)
