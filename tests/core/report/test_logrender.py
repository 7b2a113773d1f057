"""The reviewer's log is rendered from state, and user words cannot break its structure."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import example, given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from perfinvest.core.models import Investigation, MetricSpec, PhaseAttempt, Setup
from perfinvest.core.phases import Phase
from perfinvest.core.report.log import blockquote, escape_markdown, inline_code, render_attempt

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
    assert "> \\## Phase 9: decision" in text and "\\[link\\](http://x)" in text
    assert "\\<b>html\\</b>" in text
    html = MarkdownIt("commonmark").render(text)
    assert "<b>" not in html and "<h2>Phase 9" not in html and "<a " not in html


@example("\u20280")  # a line separator: editors break the line there (found by hypothesis)
@example("a\u2029b\n\nc")
@given(st.text())
def test_every_quoted_line_starts_with_the_quote_marker(text: str) -> None:
    for line in blockquote(text).splitlines():
        assert line == ">" or line.startswith("> ")


def markdown_tokens(text: str) -> list[Token]:
    """Parse with a real CommonMark parser plus GitHub's tables and strikethrough."""
    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    return parser.parse(text)


def inline_children(text: str) -> list[Token]:
    """The inline tokens, without the empty text tokens the parser leaves between others."""
    children = [child for token in markdown_tokens(text) for child in token.children or []]
    return [c for c in children if c.type != "text" or c.content]


#: Printable one-line prose: letters, digits, spaces and every ASCII punctuation character.
PROSE = st.text(
    alphabet=st.sampled_from("ab1_ \t#*-+=.)(>!<[]`~|&;\\:%/é"),
    max_size=40,
)


@given(PROSE)
def test_escaped_words_parse_back_to_exactly_the_words_as_plain_text(text: str) -> None:
    rendered = "**Summary:** " + escape_markdown(text)
    tokens = markdown_tokens(rendered)
    assert [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"]
    children = inline_children(rendered)
    kinds = [c.type for c in children]
    assert kinds[:3] == ["strong_open", "text", "strong_close"]
    assert set(kinds[3:]) <= {"text"}, (text, rendered, kinds)
    assert "".join(c.content for c in children[3:]) == (" " + text.lstrip(" \t")).rstrip(" \t")


@given(st.lists(PROSE, max_size=5).map("\n".join))
@example("1  \n1")  # two trailing spaces: a hard break, once
def test_no_quoted_line_becomes_structure(text: str) -> None:
    tokens = markdown_tokens(blockquote(text))
    allowed = {"blockquote_open", "blockquote_close", "paragraph_open", "paragraph_close"}
    assert {t.type for t in tokens} <= allowed | {"inline"}, text
    for child in inline_children(blockquote(text)):
        assert child.type in {"text", "softbreak"}, (text, child)


def test_prose_is_not_over_escaped() -> None:
    assert escape_markdown("unique_words (CV 15.7%) - 3.2x faster!") == (
        "unique_words (CV 15.7%) - 3.2x faster!"
    )
    assert escape_markdown("p95_ms < 120 [sic]") == "p95_ms < 120 \\[sic\\]"
    assert escape_markdown("_emphasis_ and *strong*") == "\\_emphasis\\_ and \\*strong\\*"
    assert escape_markdown("# heading\n1. item\n- bullet") == "\\# heading\n1\\. item\n\\- bullet"


def test_indentation_cannot_open_a_code_block() -> None:
    for quote in ["    code", "a\n\n    - x", "\t# x", "a\n  ==="]:
        kinds = {t.type for t in markdown_tokens(blockquote(quote))}
        assert kinds <= {
            "blockquote_open",
            "blockquote_close",
            "paragraph_open",
            "inline",
            "paragraph_close",
        }


def test_control_characters_are_shown_not_emitted() -> None:
    escaped = escape_markdown("red\x1b[31m bell\x07 back\rspace")
    assert "\x1b" not in escaped and "\x07" not in escaped and "\r" not in escaped
    assert "\\x1b" in escaped and "\\x07" in escaped and "\\r" in escaped
    assert "\x1b" not in blockquote("a\x1b]0;title\x07") + inline_code("\x1b[2J")


def test_inline_code_survives_backticks() -> None:
    assert inline_code("a `b` c") == "``a `b` c``"
    assert inline_code("`x`") == "`` `x` ``"
