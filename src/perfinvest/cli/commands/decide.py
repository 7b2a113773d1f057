"""Phase 9: decision."""

from __future__ import annotations

from typing import Any

import click

from perfinvest.cli.group import cli
from perfinvest.cli.options import (
    PhaseInput,
    phase_command,
)


@cli.command()
@click.option(
    "--verdict",
    type=click.Choice(["continue", "stop", "abandon"]),
    help="Your decision; without it perfinvest answers with its recommendation (exit 3).",
)
@click.option("--rationale", help="Why: a sentence or two, logged next to the recommendation.")
@phase_command("decide")
def decide(
    verdict: str | None,
    rationale: str | None,
    phase: PhaseInput,
    as_json: bool,
) -> Any:
    """Phase 9: continue, stop or abandon, next to perfinvest's computed recommendation.

    The recommendation: every readable success criterion (`metric op number`, e.g.
    "p95_ms < 120") met by the latest measured values -> stop; a significant gain but the
    goal not met -> continue; two or more measured experiments and none improved ->
    abandon; otherwise continue. Run it without --verdict to see the reasoning.
    """
    from perfinvest.app.phases import decision as phases

    return phases.decide(
        phase.context(),
        phase.request(),
        verdict,  # type: ignore[arg-type]  # click.Choice checked it
        rationale,
    )
