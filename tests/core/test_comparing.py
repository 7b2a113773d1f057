"""Comparison tables: ordering, refusals, unknown directions (pure, simulated runs)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from perfinvest.core.comparing import compare_runs, render_markdown
from perfinvest.core.errors import ExitCode, PerfError
from perfinvest.core.models import Metric, Run

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def runs(
    values: list[float], *, name: str = "p95_ms", unit: str = "ms", direction: str | None = "lower"
) -> list[Run]:
    return [
        Run(
            run_id=f"r{i}",
            started_at=NOW,
            metrics=[
                Metric(name=name, value=v, unit=unit, direction=direction),  # type: ignore[arg-type]
                Metric(name="aaa_first_by_name", value=1.0, unit="", direction="lower"),
            ],
        )
        for i, v in enumerate(values)
    ]


def test_primary_metric_first_and_markdown_is_deterministic() -> None:
    table = compare_runs(
        runs([10, 10.1, 9.9]),
        runs([12, 12.1, 11.9]),
        baseline_label="a",
        candidate_label="b",
        primary="p95_ms",
    )
    assert [row.key for row in table.rows] == ["p95_ms", "aaa_first_by_name"]
    assert table.rows[0].comparison.verdict == "regressed"
    assert table.regressed() == ["p95_ms"]
    again = compare_runs(
        runs([10, 10.1, 9.9]),
        runs([12, 12.1, 11.9]),
        baseline_label="a",
        candidate_label="b",
        primary="p95_ms",
    )
    assert render_markdown(table) == render_markdown(again)


def test_different_units_are_refused() -> None:
    with pytest.raises(PerfError) as caught:
        compare_runs(
            runs([10, 11]), runs([0.01, 0.011], unit="s"), baseline_label="a", candidate_label="b"
        )
    assert caught.value.code == ExitCode.USAGE and "not comparable" in caught.value.message


def test_unknown_metric_is_refused() -> None:
    with pytest.raises(PerfError, match="no run reports"):
        compare_runs(
            runs([10, 11]),
            runs([10, 11]),
            baseline_label="a",
            candidate_label="b",
            metrics=["p99_ms"],
        )


def test_unknown_direction_never_claims_improvement() -> None:
    table = compare_runs(
        runs([10, 10.1, 9.9], direction=None),
        runs([20, 20.1, 19.9], direction=None),
        baseline_label="a",
        candidate_label="b",
        metrics=["p95_ms"],
    )
    assert table.rows[0].comparison.verdict == "inconclusive"
    assert "direction" in table.rows[0].comparison.reason


def test_metrics_on_one_side_only_are_listed() -> None:
    table = compare_runs(
        runs([1, 2]), runs([1, 2], name="p99_ms"), baseline_label="a", candidate_label="b"
    )
    assert table.only_in_baseline == ("p95_ms",) and table.only_in_candidate == ("p99_ms",)
