"""The pure family builder: load summaries, NaN, duplicates, push form, environment ids."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from prometheus_client.openmetrics.parser import text_string_to_metric_families

from perfinvest.adapters.export.openmetrics import render
from perfinvest.core.export.data import ExportBaseline, ExportData, ExportRun, environment_id
from perfinvest.core.export.openmetrics import build_families, sample_count, without_timestamps
from perfinvest.core.models import Baseline, EnvironmentFingerprint, Metric, MetricSpec, Run

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
ENV = EnvironmentFingerprint(host="h", cpu_model="c", cpu_count=4, kernel="k", config_hash="ab")


def _run(run_id: str, metrics: list[Metric], at: datetime = T0) -> Run:
    return Run(
        run_id=run_id,
        started_at=at,
        ended_at=at + timedelta(seconds=2),
        duration_s=2.0,
        metrics=metrics,
        environment=ENV,
    )


def _load_run() -> ExportRun:
    def per(route: str | None, p95: float, rps: float, errors: float) -> list[Metric]:
        return [
            Metric(name="p50_ms", value=p95 / 2, unit="ms", scenario=route),
            Metric(name="p95_ms", value=p95, unit="ms", scenario=route),
            Metric(name="mean_ms", value=p95 / 3, unit="ms", scenario=route),
            Metric(name="throughput_rps", value=rps, unit="rps", scenario=route),
            Metric(name="error_rate", value=errors, scenario=route),
            Metric(name="requests", value=100.0, scenario=route),
            Metric(name="failures", value=errors * 100, scenario=route),
        ]

    run = _run("load-smoke-1", per(None, 40.0, 50.0, 0.5) + per("slow", 80.0, 25.0, 0.0))
    return ExportRun(
        "inv", "v1", "load", run, "artifacts/inv/load-smoke/result.json", False, "smoke"
    )


def _families(data: ExportData) -> dict[str, object]:
    text = render(build_families(data))
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_load_runs_become_summaries_per_route_with_count_and_sum() -> None:
    families = _families(ExportData("inv", runs=[_load_run()]))
    latency = families["perfinvest_load_latency_milliseconds"]
    by = {(s.name, s.labels["route"], s.labels.get("quantile")): s.value for s in latency.samples}
    assert by[("perfinvest_load_latency_milliseconds", "slow", "0.95")] == 80.0
    assert by[("perfinvest_load_latency_milliseconds", "all", "0.5")] == 20.0
    assert by[("perfinvest_load_latency_milliseconds_count", "all", None)] == 100.0
    assert math.isclose(by[("perfinvest_load_latency_milliseconds_sum", "slow", None)], 8000 / 3)
    assert ("perfinvest_load_latency_milliseconds", "all", "0.99") not in by  # not measured
    requests = families["perfinvest_load_requests"]
    assert {s.name for s in requests.samples} == {"perfinvest_load_requests_total"}
    errors = {s.labels["route"]: s.value for s in families["perfinvest_load_error_ratio"].samples}
    assert errors == {"all": 0.5, "slow": 0.0}


def test_a_nan_value_has_no_statistic_and_a_repeated_sample_is_written_once() -> None:
    runs = [
        _run("r1", [Metric(name="x", value=1.0), Metric(name="y", value=math.nan)]),
        _run("r2", [Metric(name="x", value=3.0), Metric(name="y", value=math.nan)]),
    ]
    baseline = Baseline(
        version="v1",
        investigation_id="inv",
        created_at=T0,
        primary_metric=MetricSpec(name="x", direction="lower"),
        runs=runs,
        environment=ENV,
    )
    kept = ExportBaseline(baseline, "baselines/v1.json", False)
    twice = ExportRun("inv", "v1", "baseline", runs[0], "baselines/v1.json")
    data = ExportData("inv", baselines=[kept], runs=[twice, twice])
    families = _families(data)
    stats = {
        (s.labels["metric"], s.labels["stat"]): s.value
        for s in families["perfinvest_baseline_value"].samples
    }
    assert stats[("x", "mean")] == 2.0 and stats[("x", "n")] == 2.0
    assert not any(metric == "y" for metric, _ in stats)
    values = families["perfinvest_run_value"].samples
    assert len(values) == 2  # x and y of r1 once, though the run was given twice
    assert math.isnan(next(s.value for s in values if s.labels["metric"] == "y"))


def test_the_push_form_has_no_timestamps_and_the_same_samples() -> None:
    families = build_families(ExportData("inv", runs=[_load_run()]))
    plain = without_timestamps(families)
    assert sample_count(plain) == sample_count(families)
    assert all(s.timestamp is None for f in plain for s in f.samples)
    assert all(s.timestamp is not None for f in families for s in f.samples)


def test_environment_id_follows_the_machine_not_the_load_or_the_config() -> None:
    busy = ENV.model_copy(update={"load_avg_1m": 3.0, "config_hash": "other"})
    assert environment_id(busy) == environment_id(ENV)
    assert environment_id(ENV.model_copy(update={"host": "h2"})) != environment_id(ENV)
