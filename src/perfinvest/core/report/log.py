"""The reviewer's log: markdown rendered from the structured state (pure).

Every section is derived from a :class:`PhaseAttempt` and the investigation around it, so
the log can never say something the state does not (a load run's section, from the run's
own folder: :func:`render_load_run`). User words are escaped so that no quote can break
the document's structure.
"""

from __future__ import annotations

import re
from datetime import datetime

from perfinvest.core.models import Event, Investigation, PhaseAttempt
from perfinvest.core.printable import visible

#: Structure wherever it stands: code, emphasis, links, tables, strikethrough; ``<`` only
#: where it opens a tag or an autolink, ``&`` an entity, ``\\`` an escape.
_ALWAYS = re.compile(r"[`*\[\]|~]|<(?=[A-Za-z/!?])|\\(?=[!-/:-@\[-`{-~\n]|$)|&(?=#?[0-9A-Za-z]+;)")
#: ``_`` opens or closes emphasis unless it stands inside a word (``unique_words``).
_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
#: Indentation, which markdown drops from prose anyway but reads as a code block at 4 columns.
_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)
#: What is structure only at the start of a line: headings, quotes, lists, setext rules.
_LINE_START = re.compile(r"^([#>+=-])", re.MULTILINE)
_ORDERED_ITEM = re.compile(r"^(\d{1,9})([.)])", re.MULTILINE)
_BACKTICK_RUN = re.compile(r"`+")


def escape_markdown(text: str) -> str:
    """Backslash-escape only what markdown would read as structure; show control characters.

    Prose stays readable (``unique_words``, ``(CV 15.7%)``), yet no user word can open a
    heading, list, quote, link, emphasis, code span, table or HTML tag.
    """
    text = _ALWAYS.sub(r"\\\g<0>", _INDENT.sub("", visible(text)))
    text = _UNDERSCORE.sub(r"\\_", text)
    text = _LINE_START.sub(r"\\\1", text)
    return _ORDERED_ITEM.sub(r"\1\\\2", text)


def inline_code(text: str) -> str:
    """Wrap ``text`` as inline code whatever backticks it contains (CommonMark's rule)."""
    longest = max((len(run) for run in _BACKTICK_RUN.findall(text)), default=0)
    fence = "`" * (longest + 1)
    flat = visible(text).replace("\n", " ")
    pad = " " if flat.startswith("`") or flat.endswith("`") or not flat.strip() else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


#: Where a quote's lines end: a newline, and the Unicode line and paragraph separators that
#: editors and viewers break on too (a line after one must still carry the quote marker).
_QUOTE_LINES = re.compile("\n|\u2028|\u2029")


def blockquote(text: str) -> str:
    """Quote the user's words verbatim, line by line, escaped. Trailing blanks go: two
    spaces at a line's end are a Markdown hard break (structure the user never wrote)."""
    lines = _QUOTE_LINES.split(visible(text).rstrip("\n\u2028\u2029"))
    lines = [line.rstrip(" \t") for line in lines]
    return "\n".join(f"> {escape_markdown(line)}" if line else ">" for line in lines)


def _utc(attempt: PhaseAttempt) -> str:
    return attempt.ended_at.strftime("%Y-%m-%d %H:%M:%S UTC")


def render_header(inv: Investigation) -> str:
    """The top of a new log: what is investigated and how it is measured."""
    setup = inv.setup
    lines = [
        f"# Performance investigation {inv.id}",
        "",
        f"- Scenario: {escape_markdown(setup.scenario)}",
        f"- Benchmark: {inline_code(' '.join(setup.command))}"
        + (" (shell)" if setup.shell else ""),
        f"- Primary metric: {inline_code(setup.metric.name)} ({setup.metric.direction} is better)",
        f"- Version: {inline_code(setup.version)}",
        f"- Mode: {setup.mode}" + (f" ({setup.tool})" if setup.tool else ""),
    ]
    for criterion in setup.success_criteria:
        lines.append(f"- Success: {escape_markdown(criterion)}")
    if setup.short_run_policy is not None:
        lines.append(
            "- **Short-run policy (non-compliant runs):** "
            + escape_markdown(setup.short_run_policy.reason)
        )
    return "\n".join(lines) + "\n"


def render_attempt(inv: Investigation, attempt: PhaseAttempt) -> str:
    """One section: heading, the user's words, summary, evidence, decision."""
    phase = attempt.phase
    heading = (
        f"## Phase {phase.number}: {phase.value} (attempt {attempt.attempt}, "
        f"{attempt.outcome}) {_utc(attempt)}"
    )
    parts = [heading]
    if attempt.quote:
        parts.append("User's words, verbatim:\n\n" + blockquote(attempt.quote))
    if attempt.skip_reason:
        parts.append(f"**Skipped:** {escape_markdown(attempt.skip_reason)}")
    if attempt.summary:
        parts.append(f"**Summary:** {escape_markdown(attempt.summary)}")
    if attempt.evidence:
        parts.append(
            "**Evidence:**\n\n" + "\n".join(f"- {inline_code(e)}" for e in attempt.evidence)
        )
    if attempt.decision:
        parts.append(f"**Decision:** {escape_markdown(attempt.decision)}")
    if attempt.non_compliant:
        reason = inv.setup.short_run_policy.reason if inv.setup.short_run_policy else "unknown"
        parts.append(
            "**Non-compliant:** runs shorter than the duration policy, under the short-run "
            f"policy: {escape_markdown(reason)}"
        )
    return "\n\n".join(parts) + "\n"


def render_event(event: Event) -> str:
    stamp = event.at.strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"### Note: {escape_markdown(event.kind)} {stamp}\n\n{escape_markdown(event.message)}\n"


_HEADING = re.compile(r"^(#+ )", re.MULTILINE)


def render_load_run(
    profile: str,
    at: datetime,
    command: str,
    folder: str,
    matrix: str,
    *,
    approved: str | None = None,
    interrupted: str | None = None,
) -> str:
    """A load run's section: when, the command, where its results are, the matrix (its
    headings under this section's), the approval and an interruption."""
    heading = f"## Load run: {escape_markdown(profile)} {at:%Y-%m-%d %H:%M:%S} UTC"
    if interrupted:
        heading += " (interrupted)"
    parts = [heading, f"**Command:** {inline_code(command)}"]
    if approved:
        parts.append(f"Approved: {escape_markdown(approved)}")
    if interrupted:
        parts.append(f"**Interrupted:** {escape_markdown(interrupted)}; excluded from verdicts")
    parts.append(f"**Results:** {inline_code(folder)}")
    parts.append(_HEADING.sub(r"##\1", matrix.rstrip("\n")))
    return "\n\n".join(parts) + "\n"
