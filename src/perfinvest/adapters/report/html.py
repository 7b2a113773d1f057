"""The report as one self-contained HTML file: Plotly.js, styles and data inlined.

Nothing is fetched when the page is viewed (no CDN, no fonts): Plotly.js is inlined once
from the installed ``plotly`` package, each figure's data sits in a
``<script type="application/json">`` block, and a small script draws them all. Every text
from the state is escaped; JSON is embedded with ``<`` escaped so no string can close the
script block. A profiler's flamegraph SVG is a download link (a data URI), or, for a
profile without stacks, an ``<img>`` data URI: either way no script inside it runs in the
page.
"""

from __future__ import annotations

import base64
import json
import math
from html import escape as _html_escape
from typing import Any

from perfinvest.core.printable import visible
from perfinvest.core.report.blocks import (
    Block,
    Claims,
    Code,
    Details,
    Download,
    Image,
    KeyValues,
    Paragraph,
    Plot,
    Report,
    Row,
    Section,
    Table,
)


def escape(text: str) -> str:
    """HTML-escaped, control characters (ESC, BEL, bidi overrides) shown as visible
    escapes first (core/printable.py), as the text outputs show them."""
    return _html_escape(visible(text))


STYLE = """
:root { --fg:#1d232a; --muted:#5f6b76; --line:#d8dee4; --bg:#f6f8fa; --accent:#1f6feb; }
* { box-sizing: border-box; }
body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
  margin: 0; background: #fff; }
header { background: #0d1117; color: #f0f6fc; padding: 18px 32px; }
header h1 { margin: 0 0 4px; font-size: 20px; }
header p { margin: 0; color: #9da7b3; }
nav { padding: 8px 32px; border-bottom: 1px solid var(--line); background: var(--bg);
  position: sticky; top: 0; z-index: 10; font-size: 13px; }
nav a { margin-right: 14px; color: var(--accent); text-decoration: none; }
main { padding: 8px 32px 48px; max-width: 1280px; }
section { border-bottom: 1px solid var(--line); padding: 12px 0 20px; }
h2 { font-size: 18px; margin: 12px 0 8px; }
.status { font-size: 12px; font-weight: 600; padding: 2px 8px; border-radius: 10px;
  background: #e7ecf0; color: var(--muted); margin-left: 8px; vertical-align: middle; }
.status-done { background: #dafbe1; color: #116329; }
.status-skipped { background: #fff8c5; color: #7d4e00; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 13px; width: 100%; }
.scroll { overflow-x: auto; max-width: 100%; }
caption { text-align: left; color: var(--muted); padding: 4px 0; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--bg); }
tr:nth-child(even) td { background: #fbfcfd; }
dl { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; margin: 8px 0; }
dt { color: var(--muted); } dd { margin: 0; }
.badge { display: inline-block; font-size: 11px; font-weight: 700; padding: 0 6px;
  border-radius: 8px; margin-right: 6px; text-transform: uppercase; letter-spacing: .02em; }
.badge-non-compliant { background: #fff1e5; color: #bc4c00; border: 1px solid #e8710a; }
.badge-superseded { background: #eaeef2; color: #57606a; border: 1px solid #8c959f; }
.badge-invalid { background: #ffebe9; color: #cf222e; border: 1px solid #cf222e; }
.badge-status-confirmed { background: #dafbe1; color: #116329; }
.badge-status-refuted { background: #ffebe9; color: #cf222e; }
.badge-status-untested, .badge-status-inconclusive { background: #eaeef2; color: #57606a; }
.badge-fail { background: #ffebe9; color: #cf222e; border: 1px solid #cf222e; }
.badge-improved { background: #dafbe1; color: #116329; border: 1px solid #2da44e; }
.badge-regressed { background: #ffebe9; color: #cf222e; border: 1px solid #cf222e; }
tr.row-improved td { color: #116329; } tr.row-regressed td { color: #cf222e; font-weight: 600; }
tr.row-non-compliant td:first-child { border-left: 4px solid #e8710a; }
tr.row-superseded td { color: var(--muted); }
.empty { color: var(--muted); font-style: italic; }
.warning { background: #fff8c5; border-left: 4px solid #d4a72c; padding: 6px 10px; }
.banner { background: #fff1e5; border: 1px solid #e8710a; padding: 10px 14px; margin: 12px 0;
  font-weight: 600; }
.note { margin: 2px 0; } .quote { font-style: italic; }
.provenance { font-size: 12px; color: var(--muted); border-top: 1px dashed var(--line);
  padding-top: 4px; }
.plot { width: 100%; min-height: 220px; margin: 8px 0; }
figure { margin: 8px 0; } figure img { max-width: 100%; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 12px; }
#summary { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(440px, 100%), 1fr));
  gap: 4px 24px; }
#summary h2 { grid-column: 1 / -1; }
.claims h3 { font-size: 15px; margin: 8px 0 4px; }
.claims dl { grid-template-columns: max-content minmax(0, 1fr); }
.claims dd { overflow-wrap: anywhere; }
.mark { font-weight: 700; margin-right: 6px; }
.mark-yes { color: #116329; } .mark-no { color: #cf222e; }
pre.code { background: var(--bg); border: 1px solid var(--line); padding: 8px 10px;
  overflow-x: auto; font: 12px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; }
pre.code-diff .add { color: #116329; background: #e6ffec; display: inline-block; width: 100%; }
pre.code-diff .del { color: #82071e; background: #ffebe9; display: inline-block; width: 100%; }
pre.code-diff .hunk { color: #8250df; }
pre.code-diff .meta { color: var(--muted); font-weight: 600; }
details > summary { cursor: pointer; color: var(--accent); margin: 4px 0; }
.download a { color: var(--accent); }
a.evidence { font-size: 12px; color: var(--accent); white-space: nowrap; }
a.evidence::before { content: "\\2192\\00a0"; }
"""

#: Draws every figure; sets data-plots-rendered on <body> when all are drawn (tests wait
#: for it), and reports a figure that failed with console.error.
SCRIPT = """
(function () {
  var divs = document.querySelectorAll("div.plot[data-plot]");
  var pending = [];
  divs.forEach(function (div) {
    var spec = document.getElementById("figure-" + div.getAttribute("data-plot"));
    try {
      var fig = JSON.parse(spec.textContent);
      pending.push(Plotly.newPlot(div, fig.data, fig.layout,
        {responsive: true, displaylogo: false}));
    } catch (err) {
      console.error("figure " + div.getAttribute("data-plot") + " failed: " + err);
    }
  });
  Promise.all(pending).then(function () {
    document.body.setAttribute("data-plots-rendered", String(pending.length));
  }, function (err) { console.error("plotting failed: " + err); });
})();
"""


def plotly_js() -> str:
    """The installed Plotly.js bundle (plotly's own offline copy: no network needed)."""
    from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]

    return str(get_plotlyjs())


def _finite(value: Any) -> Any:
    """NaN and infinities (not JSON) become null: a gap in the plot, never a broken page."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def embedded_json(value: Any) -> str:
    """JSON safe inside a <script> element: ``<``, ``>`` and ``&`` are unicode-escaped."""
    text = json.dumps(_finite(value), separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _badges(badges: list[str]) -> str:
    return "".join(
        f'<span class="badge badge-{escape(b)}">{escape(b.removeprefix("status-"))}</span>'
        for b in badges
    )


def _row(row: Row) -> str:
    css = " ".join(f"row-{escape(b)}" for b in row.badges)
    cells = [escape(c) for c in row.cells]
    if cells:
        cells[0] = _badges(row.badges) + cells[0]
    attrs = f' class="{css}"' if css else ""
    if any(b == "non-compliant" for b in row.badges):
        attrs += " data-non-compliant"
    return f"<tr{attrs}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in table.columns)
    caption = f"<caption>{escape(table.caption)}</caption>" if table.caption else ""
    body = "".join(_row(r) for r in table.rows)
    return (  # a wide table scrolls inside its section on a narrow screen
        f'<div class="scroll"><table data-table="{escape(table.key)}">{caption}<thead><tr>'
        f"{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


#: The summary's marks: what a claim says at a glance.
MARKS = {"yes": ("\u2714", "mark-yes"), "no": ("\u2718", "mark-no")}


def _claims(block: Claims, titles: dict[str, str]) -> str:
    """A group of summary claims; each links to the section holding its evidence."""
    items = []
    for claim in block.items:
        mark = ""
        if claim.mark in MARKS:
            sign, css = MARKS[claim.mark]
            mark = f'<span class="mark {css}" data-mark="{escape(claim.mark)}">{sign}</span>'
        link = ""
        if claim.anchor:
            title = titles.get(claim.anchor, claim.anchor)
            link = f' <a class="evidence" href="#{escape(claim.anchor)}">{escape(title)}</a>'
        items.append(
            f'<dt>{escape(claim.label)}</dt><dd data-claim="{escape(claim.key)}">'
            f"{mark}{escape(claim.text)}{link}</dd>"
        )
    return (
        f'<div class="claims" data-claims="{escape(block.key)}"><h3>{escape(block.title)}</h3>'
        f"<dl>{''.join(items)}</dl></div>"
    )


def _diff_line(line: str) -> str:
    """One line of a unified diff, classed by what it is (escaped)."""
    css = ""
    if line.startswith(("diff --git", "index ", "--- ", "+++ ", "new file", "deleted file")):
        css = "meta"
    elif line.startswith("@@"):
        css = "hunk"
    elif line.startswith("+"):
        css = "add"
    elif line.startswith("-"):
        css = "del"
    text = escape(line)
    return f'<span class="{css}">{text}</span>' if css else text


def _code(block: Code) -> str:
    lines = block.text.splitlines()
    body = (
        "\n".join(_diff_line(x) for x in lines) if block.language == "diff" else escape(block.text)
    )
    lang = f" code-{escape(block.language)}" if block.language else ""
    return f'<pre class="code{lang}" data-code="{escape(block.key)}">{body}</pre>'


def _data_uri(content: str, mime: str) -> str:
    """The text as a ``data:`` URI (base64), for an image or a download inside the page."""
    data = base64.b64encode(content.encode("utf-8")).decode("ascii")
    return f"data:{escape(mime)};base64,{data}"


def _block(block: Block, titles: dict[str, str]) -> str:
    if isinstance(block, Claims):
        return _claims(block, titles)
    if isinstance(block, Code):
        return _code(block)
    if isinstance(block, Details):
        inner = "".join(_block(b, titles) for b in block.blocks)
        return (
            f'<details data-details="{escape(block.key)}"><summary>{escape(block.summary)}'
            f"</summary>{inner}</details>"
        )
    if isinstance(block, Download):
        return (
            f'<p class="download"><a data-download="{escape(block.key)}" '
            f'download="{escape(block.filename)}" href="{_data_uri(block.content, block.mime)}">'
            f"{escape(block.label)}</a></p>"
        )
    if isinstance(block, Paragraph):
        css = f' class="{escape(block.css)}"' if block.css else ""
        return f"<p{css}>{escape(block.text)}</p>"
    if isinstance(block, KeyValues):
        items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in block.items)
        return f"<dl>{items}</dl>"
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Plot):
        key = escape(block.key)
        return (
            f'<div class="plot" data-plot="{key}" aria-label="{escape(block.title)}"></div>'
            f'<script type="application/json" id="figure-{key}">'
            f"{embedded_json(block.figure)}</script>"
        )
    if isinstance(block, Image):
        return (
            f'<figure data-image="{escape(block.key)}"><img alt="{escape(block.title)}" '
            f'src="{_data_uri(block.content, block.mime)}">'
            f"<figcaption>{escape(block.title)}</figcaption></figure>"
        )
    return (
        f'<p class="provenance" data-provenance>{escape(block.what)}: measured '
        f"{escape(block.timestamp)}; environment {escape(block.environment)}; "
        f"configuration hash {escape(block.config_hash)}</p>"
    )


def _section(section: Section, titles: dict[str, str]) -> str:
    status = ""
    if section.status:
        slug = escape(section.status.replace(" ", "-"))
        status = f'<span class="status status-{slug}">{escape(section.status)}</span>'
    body = "".join(_block(b, titles) for b in section.blocks)
    return (
        f'<section id="{escape(section.key)}" data-section="{escape(section.key)}">'
        f"<h2>{escape(section.title)}{status}</h2>{body}</section>"
    )


def render_html(report: Report, plotly_source: str | None = None) -> str:
    """The whole page. ``plotly_source``: Plotly.js to inline (default: the installed one)."""
    js = plotly_source if plotly_source is not None else plotly_js()
    nav = "".join(f'<a href="#{escape(s.key)}">{escape(s.title)}</a>' for s in report.sections)
    banner = f'<p class="banner" data-banner>{escape(report.banner)}</p>' if report.banner else ""
    titles = {s.key: s.title for s in report.sections}
    sections = "".join(_section(s, titles) for s in report.sections)
    # "</script" cannot appear inside the bundle's own strings unescaped; guard anyway.
    safe_js = js.replace("</script", "<\\/script")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(report.title)}</title><style>{STYLE}</style>"
        f"<script>{safe_js}</script></head>"
        f'<body data-investigation="{escape(report.investigation)}">'
        f"<header><h1>{escape(report.title)}</h1><p>investigation "
        f"{escape(report.investigation)} &middot; as of {escape(report.generated_at)}"
        "</p></header>"
        f"<nav>{nav}</nav><main>{banner}{sections}</main>"
        f"<script>{SCRIPT}</script></body></html>\n"
    )
