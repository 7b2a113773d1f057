"""The pieces an HTML report is made of, as plain data: sections of blocks.

The report model (:mod:`perfinvest.core.report.model`) fills these from the state; a
renderer (``adapters/report/html.py``) turns them into markup. Nothing here knows HTML or
Plotly: a figure is the ``{"data": [...], "layout": {...}}`` dict Plotly.js accepts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Row and cell badges: what a reader must notice at a glance.
NON_COMPLIANT = "non-compliant"
SUPERSEDED = "superseded"
INVALID = "invalid"


@dataclass(frozen=True)
class Paragraph:
    text: str
    css: str = ""  # "empty" (the phase has no data yet), "note", "warning"


@dataclass(frozen=True)
class KeyValues:
    """A short definition list (scenario, command, verdict...)."""

    items: list[tuple[str, str]]


@dataclass(frozen=True)
class Row:
    cells: list[str]
    badges: list[str] = field(default_factory=list)  # shown in the first cell


@dataclass(frozen=True)
class Table:
    key: str
    columns: list[str]
    rows: list[Row]
    caption: str = ""


@dataclass(frozen=True)
class Plot:
    """One Plotly figure; ``key`` names it in the page (``data-plot``)."""

    key: str
    title: str
    figure: dict[str, Any]


@dataclass(frozen=True)
class Image:
    """A static image shown as is (a flamegraph SVG), embedded as a data URI."""

    key: str
    title: str
    mime: str
    content: str


@dataclass(frozen=True)
class Provenance:
    """Where shown numbers came from: every metric carries time, environment, config."""

    what: str
    timestamp: str
    environment: str
    config_hash: str


@dataclass(frozen=True)
class Claim:
    """One statement of the summary, with the section that holds its evidence."""

    key: str  # data-claim
    label: str
    text: str
    anchor: str = ""  # the section key its evidence is in ("" : none)
    mark: str = ""  # "yes" (met, improved), "no" (not met, regressed), "" (no mark)


@dataclass(frozen=True)
class Claims:
    """A titled group of claims (the question, the answer, the cause, what is uncertain)."""

    key: str  # data-claims
    title: str
    items: list[Claim]


@dataclass(frozen=True)
class Download:
    """A file offered for download from the page itself (a data URI), never displayed."""

    key: str
    label: str
    filename: str
    mime: str
    content: str


@dataclass(frozen=True)
class Code:
    """Text shown as written, monospaced; ``language`` "diff" marks added/removed lines."""

    key: str
    text: str
    language: str = ""


@dataclass(frozen=True)
class Details:
    """Blocks folded away behind ``summary`` (a ``<details>`` the reader opens)."""

    key: str
    summary: str
    blocks: list[Table | Paragraph | Code]


Block = (
    Paragraph | KeyValues | Table | Plot | Image | Provenance | Claims | Download | Details | Code
)


@dataclass
class Section:
    key: str  # data-section
    title: str
    status: str = ""  # the phase's status: done, skipped, not started, in progress
    blocks: list[Block] = field(default_factory=list)

    def plots(self) -> list[Plot]:
        return [b for b in self.blocks if isinstance(b, Plot)]


@dataclass
class Report:
    title: str
    investigation: str
    generated_at: str
    sections: list[Section]
    banner: str = ""  # e.g. "no runs yet": shown above every section

    def plots(self) -> list[Plot]:
        return [p for s in self.sections for p in s.plots()]
