"""The whole reviewer's log as the state implies it, to find and repair lost sections (pure).

Commands write the state first and append the log second; a process killed in between
leaves attempts (or notes) in ``investigation.json`` that the log never got. Since every
section is rendered from state, the complete log can be rendered again at any time.
"""

from __future__ import annotations

from datetime import datetime

from perfinvest.core.models import Investigation
from perfinvest.core.report.log import render_attempt, render_event, render_header


def sections(inv: Investigation) -> list[str]:
    """Every section, in the order the commands appended them.

    A note raised while a phase ran (its time inside the attempt's window) was appended
    right after that attempt; any other note stands where its time puts it.
    """
    windows = [(a.started_at, a.ended_at) for a in inv.attempts]
    keyed: list[tuple[datetime, int, int, str]] = [
        (attempt.ended_at, 0, index, render_attempt(inv, attempt))
        for index, attempt in enumerate(inv.attempts)
    ]
    for index, event in enumerate(inv.events):
        anchor = next((end for start, end in windows if start <= event.at <= end), event.at)
        keyed.append((anchor, 1, index, render_event(event)))
    keyed.sort(key=lambda item: item[:3])
    return [text for *_, text in keyed]


def render_log(inv: Investigation) -> str:
    """The log exactly as the appends of every section would have written it."""
    return render_header(inv) + "\n" + "\n".join(sections(inv))


def missing_sections(inv: Investigation, log_text: str) -> list[str]:
    """Sections the state holds that ``log_text`` lacks (or holds only in part)."""
    found = [render_header(inv)] if not log_text.startswith(render_header(inv)) else []
    return found + [section for section in sections(inv) if section not in log_text]
