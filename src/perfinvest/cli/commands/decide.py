"""Phase 9: decision."""

from __future__ import annotations

from typing import Any

import click

from perfinvest.cli.group import cli
from perfinvest.cli.options import (
    command_runner,
    context,
    phase_options,
    request,
)


@cli.command()
@click.option("--verdict", type=click.Choice(["continue", "stop", "abandon"]))
@click.option("--rationale", help="Why: a sentence or two, logged.")
@phase_options
@command_runner("decide")
def decide(
    verdict: str | None,
    rationale: str | None,
    quote: str | None,
    skip_reason: str | None,
    no_checkpoint: bool,
    as_json: bool,
) -> Any:
    """Phase 9: continue, stop or abandon, with the rationale."""
    from perfinvest.app import decision as phases

    return phases.decide(
        context(no_checkpoint),
        request(quote, skip_reason),
        verdict,  # type: ignore[arg-type]  # click.Choice checked it
        rationale,
    )
