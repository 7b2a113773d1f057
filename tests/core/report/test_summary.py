"""The report's summary: the question, the answer, the cause and what is uncertain, first."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from tests.support.synthetic import write_empty_state, write_state

from perfinvest.app.context import AppContext
from perfinvest.app.report import gather, load_investigation
from perfinvest.core.models import CommitEvidence, HistoryEvidence
from perfinvest.core.quantities import pct
from perfinvest.core.report.blocks import Claim, Claims
from perfinvest.core.report.inputs import ReportInputs
from perfinvest.core.report.model import build_report


def _inputs(tmp_path: Path, *, empty: bool = False) -> ReportInputs:
    perf = tmp_path / ".claude" / "perf"
    write_empty_state(perf) if empty else write_state(perf)
    ctx = AppContext.discover(tmp_path, environ={})
    inv, _ = load_investigation(ctx, None)
    return gather(ctx, inv)


def _claims(inputs: ReportInputs) -> dict[str, Claim]:
    summary = build_report(inputs).sections[0]
    assert summary.key == "summary"
    groups = [b for b in summary.blocks if isinstance(b, Claims)]
    assert [g.key for g in groups] == ["question", "answer", "cause", "uncertain"]
    return {c.key: c for g in groups for c in g.items}


def test_the_summary_quotes_the_answer_and_links_every_claim(tmp_path: Path) -> None:
    inputs = _inputs(tmp_path)
    claims = _claims(inputs)
    keys = {s.key for s in build_report(inputs).sections}
    assert all(c.anchor in keys for c in claims.values()), claims
    inv = inputs.inv
    (exp,) = inv.experiments
    assert claims["scenario"].text == inv.setup.scenario
    assert claims["criterion-1"].text == inv.setup.success_criteria[0]
    change = claims["change"]
    assert change.text.startswith(
        f"{pct(exp.relative_change)} (95 % CI {pct(exp.ci_low)} .. {pct(exp.ci_high)})"
    )
    assert "p = 0.001" in change.text and change.mark == "yes" and change.anchor == "experiments"
    assert claims["before-after"].text == "12 ms \u2192 6 ms (experiment 1)"
    assert claims["goal"].mark == "yes" and claims["goal"].text.startswith("met")
    assert claims["verdict"].text.startswith("stop (recommended: stop)")
    assert claims["hypothesis"].text.startswith("H1 (confirmed)")
    assert claims["hot-line"].text.startswith("app.py:22 in slow_scan (80.0 % self")
    assert claims["hot-line"].anchor == "profiling"
    # uncertain: the synthetic state's short and invalid runs, counted from the runs
    runs = inputs.current_baseline().baseline.runs + [  # type: ignore[union-attr]
        r for a, b in inputs.experiment_runs.values() for r in a + b
    ]
    short = sum(not r.compliant for r in runs)
    assert short > 0
    assert claims["non-compliant"].text.startswith(f"{short} of {len(runs)} runs")
    assert claims["non-compliant"].mark == "no"
    assert claims["invalid"].text == f"{sum(not r.valid for r in runs)} of {len(runs)} runs"


def test_the_commit_named_by_the_hypothesis_is_found_in_the_history(tmp_path: Path) -> None:
    inputs = _inputs(tmp_path)
    inv = inputs.inv
    sha = "9f2c4e1a7b3d5f60718293a4b5c6d7e8f9012345"
    inv.history = HistoryEvidence(
        gathered_at=datetime(2026, 12, 1, tzinfo=UTC),
        commits=[
            CommitEvidence(sha="1" * 40, subject="unrelated"),
            CommitEvidence(
                sha=sha, subject="Scan a list", files=["app.py"], insertions=3, deletions=1
            ),
        ],
    )
    inv.hypotheses[0].evidence = [f"{sha[:10]} changed app.py"]
    assert _claims(inputs)["commit"].text == "9f2c4e1a7b Scan a list (1 file(s), +3 -1)"
    inv.hypotheses[0].evidence = ["deadbeef0 is not in the window"]
    assert _claims(inputs)["commit"].text.startswith("none named")


def test_high_variance_and_a_widened_interval_are_left_uncertain(tmp_path: Path) -> None:
    inputs = _inputs(tmp_path)
    kept = inputs.current_baseline()
    assert kept is not None
    summary = kept.baseline.summaries["p95_ms"]["runs"]
    assert "high-variance" not in _claims(inputs)  # the synthetic baseline's CV is low
    summary["cv"] = 0.083
    assert inputs.inv.breaking_point is not None
    inputs.inv.breaking_point.widened = True
    claims = _claims(inputs)
    assert claims["high-variance"].text == "baseline CV 8.3% is above 5%"
    assert claims["high-variance"].anchor == "baseline"
    assert claims["widened"].anchor == "breaking-point"


def test_an_investigation_just_started_says_what_is_not_known_yet(tmp_path: Path) -> None:
    claims = _claims(_inputs(tmp_path, empty=True))
    assert claims["verdict"].text == "no decision yet (phase 9)"
    assert claims["before-after"].text.endswith("n/a (no measured experiment yet)")
    assert claims["goal"].text == "not judged yet" and claims["goal"].mark == ""
    assert claims["hot-line"].text == "no profile yet"
    assert claims["nothing"].anchor == ""


def test_the_page_has_the_summary_before_every_phase_section(tmp_path: Path) -> None:
    from perfinvest.adapters.report.html import render_html

    inputs = _inputs(tmp_path)
    page = render_html(build_report(inputs), plotly_source="")
    ids = re.findall(r'<section id="([^"]+)"', page)
    assert ids[0] == "summary" and len(ids) == len(set(ids)) == 12
    summary = page[page.index('<section id="summary"') : page.index('<section id="overview"')]
    assert '<a class="evidence" href="#experiments">Experiments</a>' in summary
    assert 'data-mark="yes"' in summary and 'data-mark="no"' in summary
    assert "checkout p95 &lt;under&gt; load &amp; &quot;quotes&quot;" in summary  # escaped
    assert "-50.0% (95 % CI -55.0% .. -45.0%)" in summary


def test_the_hypotheses_table_names_each_hypothesis_commit(tmp_path: Path) -> None:
    from perfinvest.core.report.blocks import Table

    inputs = _inputs(tmp_path)
    sha = "4b1e0c9d2a7f6e5d4c3b2a1908f7e6d5c4b3a291"
    inputs.inv.history = HistoryEvidence(
        gathered_at=datetime(2026, 12, 1, tzinfo=UTC),
        commits=[CommitEvidence(sha=sha, subject="Use a list", files=["a.py", "b.py"])],
    )
    inputs.inv.hypotheses[1].statement = f"commit {sha[:8]} allocates"
    section = next(s for s in build_report(inputs).sections if s.key == "hypotheses")
    table = next(b for b in section.blocks if isinstance(b, Table) and b.key == "hypotheses")
    assert table.columns[5] == "commit"
    assert [r.cells[5] for r in table.rows] == ["", "4b1e0c9d2a Use a list (2 file(s), +0 -0)"]
