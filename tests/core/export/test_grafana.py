"""The Grafana dashboard's panels over the exported series, evaluated the way Prometheus
selects them: no superseded copy drawn, a default metric, units and titles for any metric."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from perfinvest.core.export.data import ExportBaseline, ExportData, baseline_runs
from perfinvest.core.export.families import Sample
from perfinvest.core.export.grafana import dashboard, grafana_unit
from perfinvest.core.export.openmetrics import build_families
from perfinvest.core.models import Baseline, EnvironmentFingerprint, Metric, MetricSpec, Run

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
ENV = EnvironmentFingerprint(host="h", config_hash="ab")
#: What Grafana substitutes: every investigation, version and scenario; one metric.
VARIABLES = {"investigation": ".*", "version": ".*", "scenario": ".*", "metric": "p95_ms"}
MATCHER = re.compile(r'(\w+)(=~|!=|=)"([^"]*)"')


def _baseline(runs: list[Run]) -> Baseline:
    return Baseline(
        version="v1",
        investigation_id="inv",
        created_at=T0,
        primary_metric=MetricSpec(name="p95_ms", direction="lower", unit="ms"),
        runs=runs,
        environment=ENV,
    )


def _select(samples: list[Sample], expr: str) -> list[Sample]:
    """The samples a plain selector ``name{label op "value", ...}`` picks, as Prometheus."""
    name, _, matchers = expr.partition("{")
    chosen = [s for s in samples if s.name == name]
    for label, op, given in MATCHER.findall(matchers):
        value = re.sub(r"\$(\w+)", lambda m: VARIABLES[m[1]], given)
        if op == "=":
            chosen = [s for s in chosen if s.labels.get(label, "") == value]
        elif op == "=~":
            chosen = [s for s in chosen if re.fullmatch(value, s.labels.get(label, ""))]
        else:
            chosen = [s for s in chosen if s.labels.get(label, "") != value]
    return chosen


def _legend(template: str, labels: dict[str, str]) -> str:
    return " ".join(re.sub(r"\{\{(\w+)\}\}", lambda m: labels.get(m[1], ""), template).split())


def _panel(board: dict[str, Any], title: str) -> dict[str, Any]:
    return next(p for p in board["panels"] if p["title"] == title)


def test_metric_per_run_draws_each_run_once_not_its_superseded_copies() -> None:
    runs = [
        Run(
            run_id=f"r{i}",
            started_at=T0 + timedelta(minutes=i),
            metrics=[Metric(name="p95_ms", value=10.0 + i, unit="ms")],
            environment=ENV,
        )
        for i in range(3)
    ]
    # consolidation: the current baseline holds the same runs its archived one did
    archived = ExportBaseline(_baseline(runs), "baselines/archive/v1.x.json", True)
    current = ExportBaseline(_baseline(runs), "baselines/v1.json", False)
    data = ExportData("inv", [archived, current], baseline_runs(archived) + baseline_runs(current))
    samples = [s for f in build_families(data) for s in f.samples]
    (target,) = _panel(dashboard(), "$metric per run")["targets"]
    assert len(_select(samples, target["expr"].replace(',superseded="false"', ""))) == 6
    drawn = _select(samples, target["expr"])
    legends = [_legend(target["legendFormat"], s.labels) for s in drawn]
    assert sorted(legends) == ["v1 baseline r0", "v1 baseline r1", "v1 baseline r2"]


def test_the_metric_variable_has_a_default_and_the_panels_its_unit() -> None:
    board = dashboard("t", "p95_ms", "ms")
    (variable,) = [v for v in board["templating"]["list"] if v["name"] == "metric"]
    assert variable["current"] == {"selected": True, "text": "p95_ms", "value": "p95_ms"}
    others = [v for v in board["templating"]["list"] if v["name"] != "metric"]
    assert all("current" not in v for v in others)  # all values: Grafana's own default
    quantiles = _panel(board, "Quantiles of $metric (current baselines)")
    assert quantiles["fieldConfig"]["defaults"] == {"unit": "ms"}
    assert not [p for p in board["panels"] if p["title"].startswith("Latency quantiles of")]
    metric_panels = [p for p in board["panels"] if "$metric" in p["title"]]
    units = {p["title"]: p["fieldConfig"]["defaults"].get("unit") for p in metric_panels}
    assert units.pop("Run-to-run CV of $metric") == "percentunit"
    assert units.pop("Change of $metric under limits") == "percentunit"
    assert set(units.values()) == {"ms"}, units
    bare = dashboard()
    (variable,) = [v for v in bare["templating"]["list"] if v["name"] == "metric"]
    assert "current" not in variable  # no metric known: Grafana picks the first it finds
    assert _panel(bare, "Quantiles of $metric (current baselines)")["fieldConfig"] == {
        "defaults": {},
        "overrides": [],
    }


def test_units_map_to_grafanas_ids_or_a_suffix() -> None:
    assert [grafana_unit(u) for u in ("ms", "s", "us", "MB", "MiB", "bytes", "rps", "%")] == [
        "ms", "s", "µs", "decmbytes", "mbytes", "bytes", "reqps", "percent"
    ]  # fmt: skip
    assert grafana_unit("words/s") == "suffix: words/s"
    assert grafana_unit("") == grafana_unit("  ") == ""
