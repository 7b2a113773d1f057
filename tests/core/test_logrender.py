"""The reviewer's log is rendered from state, and user words cannot break its structure."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from perfinvest.core.logrender import blockquote, escape_markdown, inline_code, render_attempt
from perfinvest.core.models import Investigation, MetricSpec, PhaseAttempt, Setup
from perfinvest.core.phases import Phase

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def investigation() -> Investigation:
    setup = Setup(
        scenario="s",
        command=["true"],
        metric=MetricSpec(name="m", direction="lower"),
        success_criteria=["x"],
        version="v1",
    )
    return Investigation(
        id="perf-20261123-120000-0123abcd", created_at=NOW, updated_at=NOW, setup=setup
    )


def test_quote_with_markdown_stays_inside_the_quote() -> None:
    quote = "# not a heading\n## Phase 9: decision\n```\n* bullet\n[link](http://x)\n<b>html</b>"
    attempt = PhaseAttempt(
        phase=Phase.BASELINE,
        attempt=1,
        outcome="completed",
        started_at=NOW,
        ended_at=NOW,
        quote=quote,
    )
    text = render_attempt(investigation(), attempt)
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == ["## Phase 2: baseline (attempt 1, completed) 2026-11-23 12:00:00 UTC"]
    assert "> \\#\\# Phase 9: decision" in text
    assert "\\<b\\>html\\</b\\>" in text


@given(st.text())
def test_every_quoted_line_starts_with_the_quote_marker(text: str) -> None:
    for line in blockquote(text).splitlines():
        assert line == ">" or line.startswith("> ")


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60))
def test_escaping_leaves_no_unescaped_special_character(text: str) -> None:
    escaped = escape_markdown(text)
    index = 0
    while index < len(escaped):
        char = escaped[index]
        if char == "\\":
            index += 2
            continue
        assert char not in "`*_{}[]<>()#+-.!|~", (text, escaped)
        index += 1


def test_inline_code_survives_backticks() -> None:
    assert inline_code("a `b` c") == "``a `b` c``"
    assert inline_code("`x`") == "`` `x` ``"
