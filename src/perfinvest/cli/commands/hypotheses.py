"""Phase 5: hypotheses (gather history, add, list)."""

from __future__ import annotations

from typing import Any

import click

from perfinvest.cli.group import cli
from perfinvest.cli.options import (
    PhaseInput,
    command_runner,
    context,
    json_option,
    phase_command,
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
@click.option(
    "--since",
    metavar="REV",
    help="Start of the window (default: the version tag before the baseline, else your "
    "last 50 commits). REV~N counts N of your commits, never perfinvest's checkpoints.",
)
@click.option(
    "--paths",
    multiple=True,
    metavar="PATH",
    help="Only commits touching PATH (repeatable; must be inside the repository).",
)
@phase_command("hypotheses gather")
def hypotheses_gather(
    since: str | None,
    paths: tuple[str, ...],
    phase: PhaseInput,
    as_json: bool,
) -> Any:
    """Read the git history of the window (rule 8: before any hypothesis).

    Lists your commits from --since to HEAD with the files each changed and its diff
    stats, and flags commits whose message mentions performance words, commits touching
    files that are hot in the latest profile and commits the baseline did not measure.
    perfinvest's own checkpoint commits are left out. Stored as evidence.

    \b
    Default window: since the version tag before the baseline's commit (a tag on
    your last commit names the version measured, so the one before it counts), else
    your last 50 commits. --since HEAD~3 means your last three commits, however many
    checkpoints lie between them; any other REV is read as git reads it.
    """
    from perfinvest.app.phases import hypotheses as phases

    result = phases.gather_history(phase.context(), phase.request(), since, paths)
    return result, _gathered_text(result)


def _gathered_text(result: Any) -> str | None:
    """The window and every commit found, then the findings (text mode only)."""
    data = result.data
    commits = data.get("commits")
    if not result.ok or not isinstance(commits, list):
        return None
    since = data.get("since")
    window = f"{since[:12] if len(str(since)) == 40 else since}..HEAD" if since else "HEAD"
    left_out = data.get("checkpoints_left_out") or 0
    lines = [
        f"window {window} ({data.get('since_source')}): {len(commits)} commit(s) of yours"
        + (f", {left_out} checkpoint(s) left out" if left_out else "")
    ]
    for c in commits:
        flags = f"  [{'; '.join(c['flags'])}]" if c["flags"] else ""
        lines.append(
            f"  {c['sha'][:10]} {c['subject']} (+{c['insertions']}/-{c['deletions']}, "
            f"{len(c['files'])} file(s)){flags}"
        )
    lines.extend(f"- {finding}" for finding in result.findings)
    return "\n".join(lines)


@hypotheses.command(name="add")
@click.argument("statement", required=False)
@click.option("--evidence", multiple=True, help="Evidence for the hypothesis (repeatable).")
@click.option(
    "--confidence",
    type=click.Choice(["low", "medium", "high"]),
    default="medium",
    show_default=True,
)
@click.option(
    "--from-file",
    "from_file",
    metavar="FILE.json",
    help='Add several: a JSON list of {"statement", "evidence": [...], "confidence"}.',
)
@phase_command("hypotheses add")
def hypotheses_add(
    statement: str | None,
    evidence: tuple[str, ...],
    confidence: str,
    from_file: str | None,
    phase: PhaseInput,
    as_json: bool,
) -> Any:
    """Add a hypothesis (refused until the history is gathered: rule 8).

    \b
      perfinvest hypotheses add "the new regex compile in parse() is per call" \\
          --evidence "commit 1a2b3c touches parser.py (hot)" --confidence high
      perfinvest hypotheses add --from-file hypotheses.json
    """
    from perfinvest.app.phases import hypotheses as phases
    from perfinvest.core.errors import usage_error

    items: list[Any] = []
    if from_file is not None:
        items.extend(phases.read_hypotheses_file(from_file))
    if statement is not None:
        items.append(
            phases.HypothesisInput(statement, evidence, confidence)  # type: ignore[arg-type]
        )
    elif evidence:
        raise usage_error('--evidence needs a statement: hypotheses add "statement" --evidence ...')
    return phases.add_hypotheses(phase.context(), phase.request(), items)


@hypotheses.command(name="list")
@json_option
@command_runner("hypotheses list")
def hypotheses_list(as_json: bool) -> Any:
    """List the hypotheses, their status (untested/confirmed/refuted/inconclusive), evidence."""
    from perfinvest.app.phases.hypotheses import flagged_commits
    from perfinvest.app.queries import describe

    inv = context().store.load_active()
    result = describe("hypotheses list", inv)
    result.data["hypotheses"] = [h.model_dump(mode="json") for h in inv.hypotheses]
    history = inv.history
    result.data["history"] = (
        None
        if history is None
        else {
            "since": history.since,
            "since_source": history.since_source,
            "commits": len(history.commits),
            "flagged": [c.sha[:10] for c in flagged_commits(history.commits)],
        }
    )
    lines = []
    for h in inv.hypotheses:
        lines.append(f"{h.id} [{h.status}, {h.confidence}] {h.statement}")
        lines.extend(f"    evidence: {e}" for e in h.evidence)
    if history is None:
        lines.append("git history not gathered yet: run `perfinvest hypotheses gather`")
    return result, "\n".join(lines) or "no hypotheses yet"
