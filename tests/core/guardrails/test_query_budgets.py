"""Query budgets (pure): nonsense refused with its line and field, unbudgeted queries seen,
JUnit names distinct, counts printed whole."""

from __future__ import annotations

import json
from typing import Any

import pytest

from perfinvest.core.errors import PerfError
from perfinvest.core.guardrails.budgets import number_text, render_junit, render_markdown
from perfinvest.core.guardrails.query_budgets import check_queries, loads_stats, parse_stats

STATS = """{"source": "sqlite", "queries": [
  {"query_name": "orders", "calls": 20, "p95_ms": 3.1, "rows": 14900},
  {"query_name": "report", "calls": 5, "p95_ms": 900.0, "rows": 3}
]}"""
BUDGETS: dict[str, Any] = {
    "queries": [{"query_name": "orders", "p95_ms_budget": 25, "max_rows": 20000}]
}


def _stats(text: str = STATS) -> dict[str, dict[str, float | None]]:
    return parse_stats(loads_stats(text, "s.json"), "s.json")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("p95_ms", -3.1, "s.json:3: queries[1] (report) p95_ms = -3.1: a time is >= 0"),
        ("rows", -1, "s.json:3: queries[1] (report) rows = -1: a row count is >= 0"),
        ("calls", 0, "s.json:3: queries[1] (report) calls = 0: a query that ran has calls >= 1"),
        ("calls", 2.5, "s.json:3: queries[1] (report) calls = 2.5: a query that ran has calls"),
    ],
)
def test_nonsense_measurements_are_refused_with_line_and_field(
    field: str, value: float, message: str
) -> None:
    raw = json.loads(STATS)
    raw["queries"][1][field] = value
    text = json.dumps(raw, indent=None).replace("[{", "[\n  {").replace("}, {", "},\n  {")
    with pytest.raises(PerfError) as err:
        _stats(text)
    assert err.value.code == 2
    assert str(err.value.message).startswith(message)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("p95_ms_budget", -2, "b.yaml:4: queries[0] (orders) p95_ms_budget = -2: a p95 budget"),
        ("p95_ms_budget", 0, "b.yaml:4: queries[0] (orders) p95_ms_budget = 0: a p95 budget"),
        ("max_rows", -5, "b.yaml:4: queries[0] (orders) max_rows = -5: a row budget is >= 0"),
    ],
)
def test_nonsense_budgets_are_refused_with_line_and_field(
    key: str, value: float, message: str
) -> None:
    budgets = {"queries": [{"query_name": "orders", key: value}]}
    lines = {(0, ""): 2, (0, "query_name"): 2, (0, key): 4}
    with pytest.raises(PerfError) as err:
        check_queries(budgets, _stats(), "b.yaml", lines)
    assert str(err.value.message).startswith(message)


def test_a_query_without_a_budget_is_reported_unbudgeted_not_a_breach() -> None:
    verdicts = check_queries(BUDGETS, _stats(), "b.yaml")
    (report,) = [v for v in verdicts if v.metric == "report"]
    assert (report.status, report.limit, report.current) == ("unbudgeted", "unbudgeted", 900.0)
    assert "no budget (p95_ms = 900 ms, rows = 3)" in report.message
    assert not any(v.status == "breach" for v in verdicts)
    assert "| unbudgeted | report |" in render_markdown(verdicts, enforce=True)


def test_junit_names_are_distinct_for_p95_and_rows() -> None:
    verdicts = check_queries(BUDGETS, _stats(), "b.yaml")
    xml = render_junit(verdicts)
    names = [part.split('"')[0] for part in xml.split(' name="')[2:]]
    assert names == ["orders p95_ms_budget", "orders max_rows", "report unbudgeted"]
    assert 'skipped="1"' in xml  # the unbudgeted query
    twice = render_junit([verdicts[0], verdicts[0]])
    assert 'name="orders p95_ms_budget"' in twice and 'name="orders p95_ms_budget #2"' in twice


def test_row_counts_print_as_whole_numbers() -> None:
    verdicts = check_queries(BUDGETS, _stats(), "b.yaml")
    (rows,) = [v for v in verdicts if v.limit == "max_rows"]
    assert rows.message == "orders: rows = 14,900 rows against the budget 20,000"
    table = render_markdown(verdicts, enforce=False)
    assert "| 20,000 | 14,900 rows |" in table and "e+0" not in table


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (14900.0, "14,900"),
        (3.14159, "3.142"),
        (1234.56, "1,235"),
        (0.000123, "0.000123"),
        (0.0, "0"),
    ],
)
def test_number_text(value: float, text: str) -> None:
    assert number_text(value) == text
