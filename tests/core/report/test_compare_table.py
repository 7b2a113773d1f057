"""An experiment compared like pyperf compare_to: every metric, marked; sides told apart."""

from __future__ import annotations

import statistics
from pathlib import Path

from tests.support.synthetic import write_state

from perfinvest.app.context import AppContext
from perfinvest.app.report import gather, load_investigation
from perfinvest.core.models import MetricEffect
from perfinvest.core.report.blocks import Table
from perfinvest.core.report.compare_table import factor
from perfinvest.core.report.figures import SIDE_COLORS, RunPoint, two_sides
from perfinvest.core.report.model import build_report


def test_the_experiment_table_lists_every_metric_the_benchmark_reported(tmp_path: Path) -> None:
    write_state(tmp_path / ".claude" / "perf")
    ctx = AppContext.discover(tmp_path, environ={})
    inv, _ = load_investigation(ctx, None)
    inputs = gather(ctx, inv)
    section = next(s for s in build_report(inputs).sections if s.key == "experiments")
    table = next(
        b for b in section.blocks if isinstance(b, Table) and b.key == "experiment-metrics-1"
    )
    (exp,) = inv.experiments
    baseline, candidate = inputs.experiment_runs[1]
    reported = {m.key for r in baseline + candidate for m in r.metrics}
    assert len(reported) == 3  # p95_ms and rss_mb on both sides, cache_hits on one
    shown = [r.cells[0].removesuffix(" (primary)") for r in table.rows]
    assert sorted(shown) == sorted(reported)  # every one, once
    # the primary first, then the compared ones, then those one side only reports
    assert shown == ["p95_ms", *(e.metric for e in exp.effects[1:]), "cache_hits"]
    assert table.rows[0].cells[0] == "p95_ms (primary)"
    by_metric = {r.cells[0].removesuffix(" (primary)"): r for r in table.rows}
    for effect in exp.effects:  # the recorded verdicts, marked
        row = by_metric[effect.metric]
        assert row.cells[7] == effect.verdict
        expected = [effect.verdict] if effect.verdict in ("improved", "regressed") else []
        assert row.badges == expected
    assert {e.verdict for e in exp.effects} == {"improved", "regressed"}
    assert by_metric["cache_hits"].cells[7] == "not compared: only the candidate side has it"
    # each side's spread is the stddev across its valid runs
    rss = [r.metric("rss_mb").value for r in baseline if r.valid]  # type: ignore[union-attr]
    assert (
        by_metric["rss_mb"]
        .cells[1]
        .startswith(f"{statistics.fmean(rss):.4g} ± {statistics.stdev(rss):.3g} MB")
    )
    assert by_metric["rss_mb"].cells[8].endswith("x worse")


def _effect(base: float, cand: float) -> MetricEffect:
    return MetricEffect(metric="m", baseline_mean=base, candidate_mean=cand, verdict="unchanged")


def test_the_factor_reads_which_way_is_better() -> None:
    assert factor(_effect(12.0, 6.0), "lower") == "2.00x better"
    assert factor(_effect(12.0, 6.0), "higher") == "2.00x worse"
    assert factor(_effect(100.0, 125.0), "higher") == "1.25x better"
    assert factor(_effect(100.0, 100.2), "lower") == "same"
    assert factor(_effect(100.0, 90.0), None) == "n/a"
    assert factor(_effect(0.0, 90.0), "lower") == "n/a"


def _points(values: list[float], compliant: bool = True) -> list[RunPoint]:
    return [
        RunPoint(f"r{i}", v, [], compliant=compliant, valid=True, at="t", host="h", config_hash="c")
        for i, v in enumerate(values)
    ]


def test_the_two_sides_have_their_own_colours_and_a_log_axis_past_10x() -> None:
    close = two_sides(_points([12.0, 12.5]), _points([6.0, 6.2], False), "p95_ms", "ms")
    base, cand = close["data"]
    assert base["line"]["color"] == SIDE_COLORS["baseline"] != cand["line"]["color"]
    assert cand["marker"]["symbol"] == "diamond-open" and cand["name"].endswith("(non-compliant)")
    assert "type" not in close["layout"]["yaxis"]  # 2x apart: linear
    far = two_sides(_points([8.0, 8.1]), _points([0.05, 0.051]), "p95_ms", "ms")
    assert far["layout"]["yaxis"]["type"] == "log"
    assert far["layout"]["yaxis"]["title"]["text"] == "p95_ms (ms) (log scale)"


def test_the_change_patch_is_shown_folded_and_highlighted(tmp_path: Path) -> None:
    from perfinvest.adapters.report.html import render_html
    from perfinvest.core.report.blocks import Code, Details

    write_state(tmp_path / ".claude" / "perf")
    ctx = AppContext.discover(tmp_path, environ={})
    inv, _ = load_investigation(ctx, None)
    inputs = gather(ctx, inv)
    report = build_report(inputs)
    section = next(s for s in report.sections if s.key == "experiments")
    (details,) = [b for b in section.blocks if isinstance(b, Details) and b.key == "patch-1"]
    assert details.summary == "the change of experiment 1 ( app.py | 2 +-): show the diff"
    (code,) = details.blocks
    assert isinstance(code, Code) and code.language == "diff"
    assert code.text == (tmp_path / ".claude" / "perf" / inv.experiments[0].patch.path).read_text()  # type: ignore[union-attr]
    page = render_html(report, plotly_source="")
    shown = page[page.index('<details data-details="patch-1">') :]
    shown = shown[: shown.index("</details>")]
    assert '<span class="del">-    seen = []</span>' in shown
    assert '<span class="add">+    seen = set()  # &lt;b&gt;not&lt;/b&gt; markup</span>' in shown
    assert '<span class="hunk">@@ -20,3 +20,3 @@</span>' in shown
    assert '<span class="meta">+++ b/app.py</span>' in shown  # a header, not an addition
