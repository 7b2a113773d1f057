"""The pure side of probe and constraint exports: run-id times, labels, superseded records."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from prometheus_client.openmetrics.parser import text_string_to_metric_families

from perfinvest.adapters.export.openmetrics import render
from perfinvest.core.export.data import ExportData
from perfinvest.core.export.openmetrics import build_families
from perfinvest.core.export.phase_data import (
    ExportBreakingPoint,
    ExportConstraint,
    number_label,
    run_started,
    split_key,
    superseded_constraints,
)
from perfinvest.core.models import (
    BreakingPointResult,
    ConstraintResult,
    EnvironmentFingerprint,
    Probe,
)

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
ENV = EnvironmentFingerprint(host="h", cpu_model="c", cpu_count=4, kernel="k")


def test_run_ids_give_their_start_and_foreign_ids_none() -> None:
    started = datetime(2026, 12, 3, 12, 21, 41, 600350, tzinfo=UTC)
    # run_once's own form, a negative probed value with its dash included
    assert run_started(f"probe--0.5-{started:%Y%m%dT%H%M%S%f}-3") == started
    assert run_started("constrained-20261203T122047171002-1") == datetime(
        2026, 12, 3, 12, 20, 47, 171002, tzinfo=UTC
    )
    for foreign in ("probe-64", "constrained-1", "", None, "x-20261399T000000000000-1"):
        assert run_started(foreign) is None


def test_labels_of_levels_and_metric_keys() -> None:
    assert [number_label(v) for v in (40.0, -0.5, 0.1, 1e20)] == ["40", "-0.5", "0.1", "1e+20"]
    assert split_key("http://h:80/a:p95_ms") == ("http://h:80/a", "p95_ms")
    assert split_key("p95_ms") == ("", "p95_ms")


def test_a_configuration_measured_again_supersedes_the_earlier_record_only() -> None:
    def record(label: str, backend: str = "cgroup1") -> ConstraintResult:
        return ConstraintResult(backend=backend, label=label)

    records = [record("cpu=1"), record("cpu=0.5"), record("cpu=1", "docker"), record("cpu=1")]
    assert superseded_constraints(records) == [True, False, False, False]


def test_probe_families_parse_with_nan_a_negative_level_and_a_scenario() -> None:
    started = T0 + timedelta(minutes=1)
    probes = [
        Probe(
            value=-0.5,
            passed=False,
            stage="upper",
            run_id=f"probe--0.5-{started:%Y%m%dT%H%M%S%f}-1",
            duration_s=2.0,
            metrics={"http://h:80/a:p95_ms": 12.5, "rps": math.nan},
        ),
        Probe(value=3.0, passed=None, reason="too short"),
    ]
    result = BreakingPointResult(minimum=-1, maximum=4, probes=probes, last_passing=None)
    search = ExportBreakingPoint("inv", "v1", "a.json", result, False, T0, ENV, "ab")
    record = ConstraintResult(backend="fallback", label="pids=8", pids=8, runs=["r"])
    kept = ExportConstraint("inv", "v1", "investigation.json", 1, record, True, T0, ENV, "ab")
    data = ExportData("inv", breaking_points=[search], constraints=[kept])
    text = render(build_families(data))
    families = {f.name: f for f in text_string_to_metric_families(text)}
    values = {s.labels["metric"]: s for s in families["perfinvest_breaking_point_probe"].samples}
    assert values["p95_ms"].labels["scenario"] == "http://h:80/a"
    assert values["p95_ms"].labels["level"] == "-0.5" and values["p95_ms"].value == 12.5
    assert float(values["p95_ms"].timestamp) == (started + timedelta(seconds=2)).timestamp()
    assert math.isnan(values["rps"].value)
    levels = families["perfinvest_breaking_point_probe_level"].samples
    assert [(s.value, s.labels["passed"]) for s in levels] == [(-0.5, "false"), (3.0, "invalid")]
    assert float(levels[1].timestamp) == T0.timestamp()  # no run id: the search's time
    bounds = {s.labels["bound"] for s in families["perfinvest_breaking_point_boundary"].samples}
    assert bounds == {"minimum", "maximum", "resolution"}  # no interval found: none invented
    limits = families["perfinvest_constraint_limit"].samples
    assert [(s.labels["limit"], s.value, s.labels["superseded"]) for s in limits] == [
        ("pids", 8.0, "true")
    ]
    usage = {s.labels["resource"]: s.value for s in families["perfinvest_constraint_usage"].samples}
    assert usage == {"runs": 1.0, "valid_runs": 0.0, "oom_kills": 0.0}
    assert "perfinvest_constraint_value" not in families  # no valid run, no mean
