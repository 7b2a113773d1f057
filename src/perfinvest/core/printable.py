"""User words made safe to print: control characters shown, never executed (pure).

State keeps the user's exact words; only output passes through here. A terminal obeys
ESC/BEL/CR sequences and a one-line listing breaks on a newline, so both are replaced
by visible escapes (``\\x1b``, ``\\r``, ``\\n``), as is the bidi override family that
can reorder what a reviewer reads.
"""

from __future__ import annotations

import re

#: C0 controls except tab and newline, DEL, C1 controls, bidi embeddings/overrides/isolates.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: What additionally breaks a one-line layout.
_LINE_BREAK = re.compile(r"[\t\n\u2028\u2029]")

_NAMED = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every control character but tab and newline shown as an escape."""
    return _CONTROL.sub(_escape, text)


def one_line(text: str) -> str:
    """``text`` on one line: newlines and tabs shown as escapes too."""
    return _LINE_BREAK.sub(_escape, visible(text))
