"""Comparison tables: ordering, refusals, unknown directions (pure, simulated runs)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from perfinvest.core.errors import ExitCode, PerfError
from perfinvest.core.models import LimitEffect, Metric, Run
from perfinvest.core.stats.comparing import compare_runs, render_markdown
from perfinvest.core.stats.limit_effects import describe, limit_effect

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


# --------------------------------------------------------------------------- limit effects


def _effect(
    name: str,
    unit: str,
    direction: str | None,
    base: list[float],
    limited: list[float],
    **limits: float,
) -> LimitEffect:
    table = compare_runs(
        runs(base, name=name, unit=unit, direction=direction),
        runs(limited, name=name, unit=unit, direction=direction),
        baseline_label="baseline",
        candidate_label="cpu=0.5",
        metrics=[name],
    )
    [row] = table.rows
    c = row.comparison
    return limit_effect(
        name,
        unit,
        c.direction if row.direction_known else None,
        c,
        cpu=limits.get("cpu"),
        memory=int(limits["memory"]) if "memory" in limits else None,
    )


def test_issue_10_a_big_slowdown_on_two_runs_is_an_effect_not_inconclusive() -> None:
    """p95_ms +575 % under --cpu 0.5 was "inconclusive": it is slower under the limit."""
    effect = _effect("p95_ms", "ms", "lower", [10.0, 14.0], [70.0, 92.0])
    assert effect.effect == "slower under limit"
    assert effect.relative_change == pytest.approx(81 / 12 - 1)  # +575 %
    assert effect.ci_low is not None and effect.ci_low > 0.5 and effect.p_value is not None
    assert "slower under limit, +575.0% (95% CI" in describe("p95_ms", effect)


def test_issue_10_cpu_use_held_down_by_the_limit_is_capped_not_improved() -> None:
    effect = _effect("resource_cpu_mean_pct", "%", "lower", [98.0, 99.0, 97.0], [50.0, 49.0, 50.5],
                     cpu=0.5)  # fmt: skip
    assert effect.effect == "capped by limit"
    assert effect.relative_change is not None and effect.relative_change < -0.4
    # the same drop without a CPU limit is only "lower", and never "improved"
    free = _effect("resource_cpu_mean_pct", "%", "lower", [98.0, 99.0, 97.0], [50.0, 49.0, 50.5])
    assert free.effect == "lower under limit"


def test_memory_capped_only_when_the_baseline_was_above_the_limit() -> None:
    big = _effect("resource_peak_rss_bytes", "bytes", "lower", [3e8, 3.1e8], [1e8, 0.99e8],
                  memory=1e8)  # fmt: skip
    assert big.effect == "capped by limit"
    small = _effect("resource_peak_rss_bytes", "bytes", "lower", [5e7, 5.1e7], [4e7, 4.05e7],
                    memory=1e8)  # fmt: skip
    assert small.effect == "lower under limit"


@pytest.mark.parametrize(
    ("name", "unit", "direction", "limited", "expected"),
    [
        ("throughput_rps", "rps", "higher", [50.0, 51.0, 49.0], "slower under limit"),
        ("throughput_rps", "rps", "higher", [200.0, 201.0, 199.0], "faster under limit"),
        ("p95_ms", "ms", "lower", [50.0, 51.0, 49.0], "faster under limit"),
        ("chunks", "", None, [50.0, 51.0, 49.0], "lower under limit"),
        ("error_rate", "", "lower", [200.0, 201.0, 199.0], "higher under limit"),
        ("p95_ms", "ms", "lower", [100.0, 100.5, 99.5], "no effect of limit"),
        ("p95_ms", "ms", "lower", [60.0, 140.0, 100.0], "unclear effect of limit"),
    ],
)
def test_effect_labels_name_the_limit(
    name: str, unit: str, direction: str | None, limited: list[float], expected: str
) -> None:
    effect = _effect(name, unit, direction, [100.0, 100.5, 99.5], limited)
    assert effect.effect == expected


# --------------------------------------------------------------------------- old files


def test_old_runs_keep_copied_samples_only_on_the_metric_they_are_the_mean_of() -> None:
    """Before issue 10 the formats attached one sample list to every statistic."""
    samples = [0.010, 0.012, 0.020]
    copied = [
        Metric(name=f"{stat}_s", value=value, unit="s", samples=samples, scenario="cmd")
        for stat, value in (("mean", sum(samples) / 3), ("max", 0.020), ("stddev", 0.0053))
    ]
    zeros = [Metric(name=n, value=0.0, samples=[0.0, 0.0], scenario="cmd") for n in "ab"]
    run = Run.model_validate(
        {"run_id": "r", "started_at": NOW, "metrics": [m.model_dump() for m in copied + zeros]}
    )
    kept = {m.name: m.samples for m in run.metrics}
    assert kept["mean_s"] == samples and kept["max_s"] == [] and kept["stddev_s"] == []
    assert kept["a"] == kept["b"] == [0.0, 0.0]  # constant readings may coincide honestly
    # a shared list no metric is the mean of is left alone rather than guessed at
    odd = [Metric(name=n, value=5.0, samples=samples) for n in ("x", "y")]
    unsure = Run(run_id="r", started_at=NOW, metrics=odd)
    assert all(m.samples == samples for m in unsure.metrics)
    # two counters that are each the mean of the same readings both keep them
    counts = [Metric(name=n, value=0.5, samples=[0.0, 1.0], scenario="url") for n in ("e", "f")]
    both = Run(run_id="r", started_at=NOW, metrics=counts)
    assert all(m.samples == [0.0, 1.0] for m in both.metrics)
