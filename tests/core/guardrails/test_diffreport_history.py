"""The diff report of a result against its history's window (pure): verdicts, order, bytes."""

from __future__ import annotations

import json

from perfinvest.core.guardrails.diffreport import (
    HistoryDiffRow,
    history_report_json,
    history_report_markdown,
)
from perfinvest.core.guardrails.history_gate import Direction, TrendPoint, judge, trend

WINDOW = [10.0, 10.4, 9.8, 10.1, 10.2]


def _row(metric: str, current: float, direction: Direction, window: list[float]) -> HistoryDiffRow:
    points = [TrendPoint(f"v{i}", f"2026-12-0{i + 1}T00:00:00", v) for i, v in enumerate(window)]
    points.append(TrendPoint("b.json (checked)", "2026-12-09T00:00:00", current))
    rows = trend(points, metric=metric, direction=direction, window=len(points))
    verdict = judge(window, current, metric=metric, direction=direction)
    return HistoryDiffRow(metric, "ms", verdict, tuple(rows))


def test_verdicts_follow_the_bad_and_the_good_side() -> None:
    assert _row("p95_ms", 13.0, "lower", WINDOW).verdict == "regressed"
    assert _row("p95_ms", 10.3, "lower", WINDOW).verdict == "unchanged"
    assert _row("p95_ms", 7.0, "lower", WINDOW).verdict == "improved"  # faster: no breach
    assert _row("rps", 7.0, "higher", WINDOW).verdict == "regressed"
    assert _row("rps", 13.0, "higher", WINDOW).verdict == "improved"
    assert _row("p95_ms", 13.0, "lower", WINDOW[:2]).verdict == "inconclusive"  # t needs 3


def test_report_puts_regressions_first_and_is_the_same_bytes_for_the_same_input() -> None:
    rows = [
        _row("a_ms", 10.1, "lower", WINDOW),
        _row("z_ms", 13.0, "lower", WINDOW),
        _row("m_ms", 13.0, "lower", WINDOW[:2]),
    ]
    label = "the history (last 5 results)"
    first = history_report_json(label, "b.json", rows, ["new_metric"])
    assert first == history_report_json(label, "b.json", list(reversed(rows)), ["new_metric"])
    doc = json.loads(first)
    assert [m["metric"] for m in doc["metrics"]] == ["z_ms", "m_ms", "a_ms"]
    assert doc["regressions"] == ["z_ms"] and doc["only_in_current"] == ["new_metric"]
    (z,) = [m for m in doc["metrics"] if m["metric"] == "z_ms"]
    assert z["window"] == WINDOW and z["change"] > 0.2 and z["threshold"]["upper"] < 13.0
    markdown = history_report_markdown(label, "b.json", rows, ["new_metric"])
    assert markdown.startswith("# Performance diff vs the history: 1 regression(s) (z_ms)")
    assert markdown.index("| z_ms |") < markdown.index("| m_ms |") < markdown.index("| a_ms |")
    assert "Not in the history: new_metric." in markdown
    assert markdown.count("| b.json (checked) |") == 3  # each metric's trend ends with B
