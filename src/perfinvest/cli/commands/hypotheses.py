"""Phase 5: hypotheses (gather history, add, list)."""

from __future__ import annotations

from typing import Any

import click

from perfinvest.cli.group import cli
from perfinvest.cli.options import (
    command_runner,
    context,
    json_option,
    phase_options,
    request,
)
from perfinvest.core.errors import ExitCode


@cli.group(invoke_without_command=True)
@phase_options
@click.pass_context
def hypotheses(
    click_ctx: click.Context,
    quote: str | None,
    skip_reason: str | None,
    no_checkpoint: bool,
    as_json: bool,
) -> Any:
    """Phase 5: gather git history first (rule 8), then add hypotheses.

    \b
      perfinvest hypotheses gather [--since REV] [--paths PATH ...]
      perfinvest hypotheses add "statement" --evidence "..." --confidence high
      perfinvest hypotheses list
    """
    if click_ctx.invoked_subcommand is not None:
        return None
    if skip_reason is None:
        click.echo(click_ctx.get_help())
        return int(ExitCode.OK)
    return _skip_hypotheses(
        quote=quote, skip_reason=skip_reason, no_checkpoint=no_checkpoint, as_json=as_json
    )


@command_runner("hypotheses")
def _skip_hypotheses(
    *, quote: str | None, skip_reason: str, no_checkpoint: bool, as_json: bool
) -> Any:
    from perfinvest.app.session import skip_phase
    from perfinvest.core.phases import Phase

    return skip_phase(
        context(no_checkpoint), "hypotheses", Phase.HYPOTHESES, request(quote, skip_reason)
    )


@hypotheses.command(name="gather")
@click.option("--since", metavar="REV", help="Start of the window (default: all history).")
@click.option("--paths", multiple=True, metavar="PATH", help="Only commits touching PATH.")
@phase_options
@command_runner("hypotheses gather")
def hypotheses_gather(
    since: str | None,
    paths: tuple[str, ...],
    quote: str | None,
    skip_reason: str | None,
    no_checkpoint: bool,
    as_json: bool,
) -> Any:
    """Read the git history of the window (rule 8: before any hypothesis)."""
    from perfinvest.app import hypotheses as phases

    return phases.gather_history(context(no_checkpoint), request(quote, skip_reason), since, paths)


@hypotheses.command(name="add")
@click.argument("statement")
@click.option("--evidence", multiple=True, help="Evidence for the hypothesis (repeatable).")
@click.option(
    "--confidence",
    type=click.Choice(["low", "medium", "high"]),
    default="medium",
    show_default=True,
)
@phase_options
@command_runner("hypotheses add")
def hypotheses_add(
    statement: str,
    evidence: tuple[str, ...],
    confidence: str,
    quote: str | None,
    skip_reason: str | None,
    no_checkpoint: bool,
    as_json: bool,
) -> Any:
    """Add a hypothesis (refused until the history is gathered)."""
    from perfinvest.app import hypotheses as phases

    return phases.add_hypothesis(
        context(no_checkpoint),
        request(quote, skip_reason),
        statement,
        evidence,
        confidence,  # type: ignore[arg-type]  # click.Choice checked it
    )


@hypotheses.command(name="list")
@json_option
@command_runner("hypotheses list")
def hypotheses_list(as_json: bool) -> Any:
    """List the hypotheses and their status."""
    from perfinvest.app.queries import describe

    inv = context().store.load_active()
    result = describe("hypotheses list", inv)
    result.data["hypotheses"] = [h.model_dump(mode="json") for h in inv.hypotheses]
    lines = [f"{h.id} [{h.status}, {h.confidence}] {h.statement}" for h in inv.hypotheses]
    return result, "\n".join(lines) or "no hypotheses yet"
