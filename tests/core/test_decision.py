"""The decision recommendation (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from perfinvest.core.decision import parse_criterion, recommend
from perfinvest.core.models import Experiment


def exp(number: int, verdict: str, change: float = 0.0, **extra: Any) -> Experiment:
    return Experiment(
        number=number, change=f"change {number}", state="measured", verdict=verdict,
        relative_change=change, p_value=0.01, **extra,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("p95_ms < 120", ("p95_ms", "<", 120.0)),
        ("throughput >= 5000 rps", ("throughput", ">=", 5000.0)),
        ("error_rate <= 0.5%", ("error_rate", "<=", 0.5)),
        ("p99_ms ≤ 2e2", ("p99_ms", "<=", 200.0)),
        ("latency = 3", ("latency", "==", 3.0)),
    ],
)
def test_simple_criteria_parse(text: str, expected: tuple[str, str, float]) -> None:
    parsed = parse_criterion(text)
    assert parsed is not None and (parsed.metric, parsed.op, parsed.target) == expected


@pytest.mark.parametrize("text", ["faster checkout", "p95 under 120 ms", "p95_ms < fast"])
def test_other_criteria_are_not_guessed(text: str) -> None:
    assert parse_criterion(text) is None


def test_goal_met_recommends_stop() -> None:
    rec = recommend([exp(1, "improved", -0.3)], ["p95_ms < 120"], {"p95_ms": 100.0}, "exp 1")
    assert rec.verdict == "stop" and rec.goal_met is True
    assert any("met (p95_ms = 100" in r for r in rec.reasoning)


def test_gain_without_the_goal_recommends_continue() -> None:
    rec = recommend([exp(1, "improved", -0.1)], ["p95_ms < 120"], {"p95_ms": 150.0}, "exp 1")
    assert rec.verdict == "continue" and rec.goal_met is False


def test_several_failures_and_no_gain_recommend_abandon() -> None:
    experiments = [exp(1, "inconclusive"), exp(2, "regressed", 0.2), exp(3, "unchanged")]
    rec = recommend(experiments, ["p95_ms < 120"], {"p95_ms": 150.0}, "baseline v1")
    assert rec.verdict == "abandon"
    one = recommend(experiments[:1], ["p95_ms < 120"], {"p95_ms": 150.0}, "baseline v1")
    assert one.verdict == "continue"


def test_unreadable_criteria_are_named_in_the_reasoning() -> None:
    rec = recommend([], ["users are happier"], {"p95_ms": 10.0}, "baseline v1")
    assert rec.goal_met is None and rec.verdict == "continue"
    assert "not of the form" in rec.reasoning[0]
    missing = recommend([], ["rps > 5"], {"p95_ms": 10.0}, "baseline v1")
    assert "was not measured" in missing.reasoning[0]


def test_aborted_and_open_experiments_do_not_count() -> None:
    aborted = Experiment(number=1, change="x", state="aborted")
    rec = recommend([aborted, exp(2, "regressed")], ["p95_ms < 1"], {"p95_ms": 5.0}, "b")
    assert rec.verdict == "continue"
