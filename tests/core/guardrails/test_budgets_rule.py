"""Budget regression rule (issue 21): point estimate vs the whole CI beyond the budget."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from perfinvest.core.errors import PerfError
from perfinvest.core.guardrails.budgets import check_budgets, parse_budgets, render_markdown
from perfinvest.core.models import Metric, Run

NOW = datetime(2026, 12, 7, tzinfo=UTC)


def runs(values: list[float]) -> list[Run]:
    return [
        Run(
            run_id=f"r{i}",
            started_at=NOW,
            metrics=[Metric(name="p95_ms", value=v, unit="ms", direction="lower")],
        )
        for i, v in enumerate(values)
    ]


BASE = runs([100, 101, 99, 100.5, 99.5])
# +20.95 % with a 95 % CI of about +12.5 % to +30.1 %: the case
CURRENT = runs([120.95 + 4.5 * k for k in (-2, -1, 0, 1, 2)])


def verdict(raw: dict[str, object], rule: str | None = None) -> tuple[str, str, str | None]:
    budgets = parse_budgets(raw, "budgets.yaml")
    (v,) = check_budgets(budgets, CURRENT, BASE, current_label="current", rule=rule)  # type: ignore[arg-type]
    return v.status, v.message, v.rule


def test_point_rule_is_the_default_and_says_so() -> None:
    status, message, rule = verdict({"budgets": [{"metric": "p95_ms", "max_regression_pct": 20}]})
    assert (status, rule) == ("breach", "point")
    assert "significant regression of 21.0% exceeds the 20 % budget" in message
    assert "rule: point estimate beyond the budget" in message
    assert "95 % CI +12.5% to +30.1%" in message


def test_ci_rule_does_not_breach_on_a_ci_reaching_below_the_budget() -> None:
    raw = {"budgets": [{"metric": "p95_ms", "max_regression_pct": 20, "rule": "ci"}]}
    status, message, rule = verdict(raw)
    assert (status, rule) == ("ok", "ci")
    assert "within the 20 % budget: the CI reaches 12.5%, not wholly beyond it" in message
    assert "rule: the whole CI beyond the budget" in message
    # a budget the whole CI exceeds breaches under either rule
    raw = {"budgets": [{"metric": "p95_ms", "max_regression_pct": 10, "rule": "ci"}]}
    assert verdict(raw)[0] == "breach"


def test_file_default_budget_rule_and_command_line_precedence() -> None:
    raw = {"rule": "ci", "budgets": [{"metric": "p95_ms", "max_regression_pct": 20}]}
    assert verdict(raw)[2] == "ci" and verdict(raw)[0] == "ok"
    assert verdict(raw, rule="point")[:1] == ("breach",)  # --budget-rule wins
    own = {
        "rule": "ci",
        "budgets": [{"metric": "p95_ms", "max_regression_pct": 20, "rule": "point"}],
    }
    assert verdict(own)[0] == "breach"  # the budget's own rule wins over the file's
    budgets = parse_budgets(raw, "budgets.yaml")
    table = render_markdown(check_budgets(budgets, CURRENT, BASE, current_label="c"), False)
    assert "| max_regression_pct (ci) |" in table


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"rule": "mean", "budgets": []}, "rule must be `point` or `ci`, got 'mean'"),
        (
            {"budgets": [{"metric": "m", "max_regression_pct": 5, "rule": 3}]},
            "budgets[0] (m): rule must be `point` or `ci`, got 3",
        ),
        ({"budget": [], "budgets": []}, "unknown top-level key(s) budget"),
    ],
)
def test_bad_rules_are_one_line_usage_errors(raw: dict[str, object], words: str) -> None:
    with pytest.raises(PerfError) as err:
        parse_budgets(raw, "budgets.yaml")
    assert words in err.value.message and err.value.code == 2
