"""The report in real headless Chromium: scripts run, every plot drawn, no console error.

Asserted from the DOM after Plotly ran (each plot div holds Plotly's ``.main-svg``), not
from the file; the page makes no request beyond itself and its inline data URIs; a
full-page screenshot is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.core.report.test_report_model import SECTIONS
from tests.support.browser import DOM_QUERY, READY, chromium_missing, open_page
from tests.support.synthetic import write_empty_state, write_state

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(chromium_missing() is not None, reason=str(chromium_missing())),
]


def assert_report_renders(page: Path, screenshot: Path) -> dict[str, Any]:
    """Open ``page`` in Chromium; every section present, every plot drawn, no errors."""
    result = open_page(page, DOM_QUERY, screenshot, READY)
    assert result.errors == []
    assert all(url.startswith(("file:", "data:")) for url in result.requests), [
        u[:80] for u in result.requests
    ]
    dom: dict[str, Any] = result.value
    assert dom["sections"] == SECTIONS
    assert dom["plots"], "no plot in the page"
    assert all(p["rendered"] and p["traces"] for p in dom["plots"]), dom["plots"]
    assert int(dom["rendered"]) == len(dom["plots"])
    assert all(i["loaded"] for i in dom["images"]), dom["images"]
    assert dom["scripts"] == 0  # no external script or stylesheet
    # the summary comes first, and every claim's link lands on a section of the page
    assert dom["sections"][0] == "summary" and dom["summaryLinks"], dom["summaryLinks"]
    assert all(link["target"] for link in dom["summaryLinks"]), dom["summaryLinks"]
    assert screenshot.stat().st_size > 10_000
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return dom


def test_the_report_renders_every_section_and_plot(
    tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_state(tmp_path / ".claude" / "perf")
    answer = cli("report", "--json")
    assert answer.code == 0, answer.out
    dom = assert_report_renders(Path(answer.json["data"]["report"]), tmp_path / "report.png")
    assert sorted(p["key"] for p in dom["plots"]) == sorted(answer.json["data"]["plots"])
    by_section = {p["section"] for p in dom["plots"]}
    assert by_section == set(SECTIONS) - {"summary", "overview", "phases", "hypotheses", "decision"}
    assert [i["key"] for i in dom["images"]] == ["flamegraph-3"]  # a profile with an SVG only
    assert dom["nonCompliant"] >= 5 and dom["superseded"] >= 2
    assert {p["section"] for p in dom["provenance"]} >= {
        "baseline", "breaking-point", "constraints", "load", "profiling", "experiments"
    }  # fmt: skip
    assert all("configuration hash cafe0123beef4567" in p["text"] for p in dom["provenance"])
    assert dom["banner"] is None
    # the py-spy profile is an interactive icicle; its SVG only a download, never shown
    icicles = [p for p in dom["plots"] if p["key"].startswith("flamegraph-")]
    assert [p["key"] for p in icicles] == ["flamegraph-1", "flamegraph-2"]
    assert dom["downloads"] == [["profile-1-flamegraph.svg", "data:image/svg+xml;base64,"]]
    assert dom["folded"] == ["hotspots-all-1", "patch-1"]  # closed until the reader opens it


def test_an_investigation_without_runs_renders_and_says_so(
    tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_empty_state(tmp_path / ".claude" / "perf")
    answer = cli("report", "--json")
    result = open_page(Path(answer.json["data"]["report"]), DOM_QUERY, tmp_path / "e.png", READY)
    assert result.errors == []
    dom = result.value
    assert dom["sections"] == SECTIONS and dom["plots"] == [] and dom["rendered"] == "0"
    assert dom["banner"].startswith("No runs yet")
    assert set(dom["empty"]) >= {"baseline", "breaking-point", "experiments", "decision"}


UNIT = '<a href="http://x.invalid">ms</a>'
#: Links and bold text Plotly drew inside its SVGs, and the y-axis titles as shown.
SVG_QUERY = """(() => ({
  links: document.querySelectorAll(".main-svg a").length,
  bold: document.querySelectorAll(".main-svg .ytitle [style*='bold']").length,
  titles: [...document.querySelectorAll(".main-svg .ytitle")].map(t => t.textContent),
  pageLinks: [...document.querySelectorAll("a[href]:not([download])")].map(a => a.getAttribute("href"))
    .filter(h => !h.startsWith("#")),
}))()"""


def test_a_unit_carrying_markup_is_drawn_as_text(
    tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 25: a state whose --unit holds a link shows the words, never a live link."""
    import json

    monkeypatch.chdir(tmp_path)
    perf = tmp_path / ".claude" / "perf"
    write_state(perf)
    state = json.loads((perf / "investigation.json").read_text())
    state["setup"]["metric"]["unit"] = UNIT
    (perf / "investigation.json").write_text(json.dumps(state))
    answer = cli("report", "--json")
    assert answer.code == 0, answer.out
    result = open_page(Path(answer.json["data"]["report"]), SVG_QUERY, tmp_path / "u.png", READY)
    assert result.errors == []
    dom = result.value
    assert dom["links"] == 0 and dom["bold"] == 0 and dom["pageLinks"] == [], dom
    shown = [t for t in dom["titles"] if t.endswith(f"({UNIT})")]
    assert len(shown) >= 5, dom["titles"]  # baseline x2, history, breaking point, constraints...
