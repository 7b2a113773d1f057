"""``perfinvest export grafana``: one dashboard for the families of core/export/openmetrics.py.

Pure data. The dashboard is in Grafana's *export for sharing* form: its Prometheus data
source is the ``${DS_PROMETHEUS}`` input declared in ``__inputs``, so Dashboards → New →
Import asks which Prometheus to use and needs no edit. Its shape follows Grafana's
dashboard JSON model (schemaVersion 39); ``schemas/grafana/dashboard.schema.json`` checks it.
Every PromQL expression names a family the OpenMetrics export emits (a test checks that
against a real investigation's export).
"""

from __future__ import annotations

from typing import Any

from perfinvest.core.export.families import PREFIX

SCHEMA_VERSION = 39
UID = "perfinvest-exports"
DATASOURCE = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
#: The label filter every query shares (the dashboard's variables).
RUNS = 'investigation=~"$investigation",version=~"$version",scenario=~"$scenario"'
LOAD = RUNS + ',route=~"$route"'
CURRENT = 'superseded="false"'
#: perfinvest units (as ``--unit`` names them) → Grafana's unit ids; others: a suffix.
GRAFANA_UNITS = {
    "ns": "ns", "us": "µs", "µs": "µs", "ms": "ms", "s": "s",
    "b": "bytes", "bytes": "bytes", "kb": "deckbytes", "mb": "decmbytes", "gb": "decgbytes",
    "kib": "kbytes", "mib": "mbytes", "gib": "gbytes",
    "%": "percent", "percent": "percent", "ratio": "percentunit",
    "rps": "reqps", "req/s": "reqps", "requests/s": "reqps", "ops/s": "ops",
}  # fmt: skip


def grafana_unit(unit: str) -> str:
    """Grafana's id for ``unit`` (``ms``, ``bytes``...), else ``suffix: <unit>``; ``""``
    for none."""
    text = unit.strip()
    if not text:
        return ""
    return GRAFANA_UNITS.get(text.lower(), f"suffix: {text}")


def _variable(
    name: str, label: str, query: str, *, multi: bool = True, default: str = ""
) -> dict[str, Any]:
    current = {"current": {"selected": True, "text": default, "value": default}} if default else {}
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DATASOURCE,
        "query": {"query": query, "refId": f"PrometheusVariableQueryEditor-{name}"},
        "refresh": 2,  # on time range change: new investigations appear
        "sort": 1,
        "multi": multi,
        "includeAll": multi,
        **({"allValue": ".*"} if multi else {}),  # ".*" also matches an empty label
        **current,
        "options": [],
        "hide": 0,
    }


def _target(expr: str, legend: str, *, instant: bool = False, ref: str = "A") -> dict[str, Any]:
    return {
        "datasource": DATASOURCE,
        "expr": expr,
        "legendFormat": legend,
        "refId": ref,
        "instant": instant,
        "range": not instant,
    }


def _panel(
    kind: str,
    title: str,
    description: str,
    targets: list[dict[str, Any]],
    grid: tuple[int, int, int, int],
    unit: str = "",
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    x, y, w, h = grid
    return {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "targets": targets,
        "fieldConfig": {"defaults": {"unit": unit} if unit else {}, "overrides": []},
        "options": options or {},
    }


def _row(title: str, y: int) -> dict[str, Any]:
    return {
        "type": "row",
        "title": title,
        "collapsed": False,
        "gridPos": {"x": 0, "y": y, "w": 24, "h": 1},
        "panels": [],
    }


_SERIES = {"legend": {"displayMode": "table", "placement": "bottom", "showLegend": True}}
_BARS = {"displayMode": "gradient", "orientation": "horizontal", "showUnfilled": True}


def _panels(unit: str = "") -> list[dict[str, Any]]:
    """``unit``: Grafana's unit of the default metric (its panels show it)."""
    by_version = "max by (version) (last_over_time({}[$__range]))"
    baseline_mean = f'{PREFIX}_baseline_value{{{RUNS},{CURRENT},metric="$metric",stat="mean"}}'
    baseline_cv = f'{PREFIX}_baseline_value{{{RUNS},{CURRENT},metric="$metric",stat="cv"}}'
    load_p95 = f'{PREFIX}_load_latency_milliseconds{{{LOAD},{CURRENT},quantile="0.95"}}'
    panels = [
        _row("Benchmark runs and baselines", 0),
        _panel(
            "timeseries",
            "$metric per run",
            "Every current run's value at the time it ran: baselines, experiment sides and "
            "load runs (a superseded baseline's copies of its runs are in the export, marked "
            "superseded, not drawn here).",
            [
                _target(
                    f'{PREFIX}_run_value{{{RUNS},{CURRENT},metric="$metric"}}',
                    "{{version}} {{phase}} {{side}} {{run_id}} {{scenario}} {{route}}",
                )
            ],
            (0, 1, 12, 8),
            unit=unit,
            options=_SERIES,
        ),
        _panel(
            "timeseries",
            "Quantiles of $metric (current baselines)",
            "Quantiles of $metric's raw samples (basis=samples) or of the run values "
            "(basis=runs), whatever the metric measures.",
            [
                _target(
                    f'{PREFIX}_baseline_samples{{{RUNS},{CURRENT},metric="$metric"}}',
                    "{{version}} q{{quantile}} {{scenario}}",
                )
            ],
            (12, 1, 12, 8),
            unit=unit,
            options=_SERIES,
        ),
        _panel(
            "bargauge",
            "Per-version comparison: mean $metric",
            "Each version's current baseline mean over the time range.",
            [_target(by_version.format(baseline_mean), "{{version}}", instant=True)],
            (0, 9, 12, 8),
            unit=unit,
            options=_BARS,
        ),
        _panel(
            "stat",
            "Run-to-run CV of $metric",
            "Coefficient of variation across each version's baseline runs (rule 5: > 5 %).",
            [_target(by_version.format(baseline_cv), "{{version}}", instant=True)],
            (12, 9, 6, 8),
            unit="percentunit",
        ),
        _panel(
            "stat",
            "Superseded baselines kept",
            "Archived baselines in the history: never deleted, shown as superseded.",
            [
                _target(
                    f"count(last_over_time({PREFIX}_baseline_info{{"
                    'investigation=~"$investigation",superseded="true"}[$__range])) or vector(0)',
                    "superseded",
                    instant=True,
                )
            ],
            (18, 9, 6, 8),
        ),
        _row("Load tests", 17),
        _panel(
            "timeseries",
            "Load latency quantiles",
            "Response-time quantiles per route from Locust's full histogram.",
            [
                _target(
                    f"{PREFIX}_load_latency_milliseconds{{{LOAD}}}",
                    "{{scenario}} {{route}} q{{quantile}}",
                )
            ],
            (0, 18, 12, 8),
            unit="ms",
            options=_SERIES,
        ),
        _panel(
            "timeseries",
            "Throughput",
            "Requests per second sustained over the steady window.",
            [_target(f"{PREFIX}_load_requests_per_second{{{LOAD}}}", "{{scenario}} {{route}}")],
            (12, 18, 12, 8),
            unit="reqps",
            options=_SERIES,
        ),
        _panel(
            "timeseries",
            "Error rate",
            "Failed requests over all requests.",
            [_target(f"{PREFIX}_load_error_ratio{{{LOAD}}}", "{{scenario}} {{route}}")],
            (0, 26, 12, 8),
            unit="percentunit",
            options=_SERIES,
        ),
        _panel(
            "bargauge",
            "Per-version comparison: load p95",
            "Each version's latest load p95 per route over the time range.",
            [_target(by_version.format(load_p95), "{{version}}", instant=True)],
            (12, 26, 12, 8),
            unit="ms",
            options=_BARS,
        ),
    ]
    panels += _phase_panels(by_version, unit)
    for number, panel in enumerate(panels, start=1):
        panel["id"] = number
    return panels


#: The probes of the current searches by level: a bar per level, sorted as numbers.
_BY_LEVEL = [
    {
        "id": "convertFieldType",
        "options": {"conversions": [{"targetField": "level", "destinationType": "number"}]},
    },
    {"id": "sortBy", "options": {"sort": [{"field": "level", "desc": False}]}},
    {
        "id": "convertFieldType",
        "options": {"conversions": [{"targetField": "level", "destinationType": "string"}]},
    },
]


def _phase_panels(by_version: str, unit: str) -> list[dict[str, Any]]:
    """Breaking-point searches (phase 3) and constrained runs (phase 4)."""
    searches = 'investigation=~"$investigation",version=~"$version"'
    probe = f'{PREFIX}_breaking_point_probe{{{RUNS},{CURRENT},metric="$metric"}}'
    bounds = (
        f"{PREFIX}_breaking_point_boundary{{{searches},{CURRENT},"
        'bound=~"last_passing|breaking_point"}'
    )
    by_limits = "max by (version, limits) (last_over_time({}[$__range]))"
    value = f'{PREFIX}_constraint_value{{{RUNS},{CURRENT},metric="$metric"}}'
    change = f'{PREFIX}_constraint_change_ratio{{{RUNS},{CURRENT},metric="$metric"}}'
    memory = f'{PREFIX}_constraint_usage{{{searches},{CURRENT},resource="peak_memory_bytes"}}'
    curve = _panel(
        "barchart",
        "Breaking-point curve: $metric by level",
        "Each probe of the current search: $metric at the parameter value it ran at "
        "(superseded searches are in the export, marked, not drawn here).",
        [
            {
                **_target(
                    f"max by (level) (last_over_time({probe}[$__range]))",
                    "{{level}}",
                    instant=True,
                ),
                "format": "table",
            }
        ],
        (0, 35, 12, 8),
        unit=unit,
        options={"xField": "level", "orientation": "vertical", "showValue": "auto", **_SERIES},
    )
    curve["transformations"] = _BY_LEVEL
    return [
        _row("Breaking point and constraints", 34),
        curve,
        _panel(
            "stat",
            "Breaking point",
            "The current search's interval: last passing and first failing parameter value.",
            [
                _target(
                    f"max by (version, bound) (last_over_time({bounds}[$__range]))",
                    "{{version}} {{bound}}",
                    instant=True,
                )
            ],
            (12, 35, 6, 8),
        ),
        _panel(
            "stat",
            "Superseded searches kept",
            "Earlier breaking-point searches: never deleted, exported as superseded.",
            [
                _target(
                    f"count(count by (source) (last_over_time({PREFIX}_breaking_point_boundary{{"
                    f'{searches},superseded="true"}}[$__range]))) or vector(0)',
                    "superseded",
                    instant=True,
                )
            ],
            (18, 35, 6, 8),
        ),
        _panel(
            "bargauge",
            "Constrained $metric by limits",
            "Mean $metric over the valid runs under each configuration of limits.",
            [_target(by_limits.format(value), "{{version}} {{limits}}", instant=True)],
            (0, 43, 8, 8),
            unit=unit,
            options=_BARS,
        ),
        _panel(
            "bargauge",
            "Change of $metric under limits",
            "Relative change against the unconstrained baseline.",
            [_target(by_limits.format(change), "{{version}} {{limits}}", instant=True)],
            (8, 43, 8, 8),
            unit="percentunit",
            options=_BARS,
        ),
        _panel(
            "bargauge",
            "Peak memory under limits",
            "The constrained runs' peak memory (cgroup counter, or the sampled RSS).",
            [_target(by_limits.format(memory), "{{version}} {{limits}}", instant=True)],
            (16, 43, 8, 8),
            unit="bytes",
            options=_BARS,
        ),
    ]


def dashboard(title: str = "perfinvest", metric: str = "", unit: str = "") -> dict[str, Any]:
    """The dashboard as a JSON-ready dict (importable as is). ``metric``: the metric
    variable's default (none: Grafana picks the first it finds); ``unit``: that metric's
    unit, shown by the panels of $metric (Grafana cannot take a unit from a variable)."""
    runs = f"{PREFIX}_run_value"
    return {
        "__inputs": [
            {
                "name": "DS_PROMETHEUS",
                "label": "Prometheus",
                "description": "The Prometheus that holds perfinvest's exported metrics",
                "type": "datasource",
                "pluginId": "prometheus",
                "pluginName": "Prometheus",
            }
        ],
        "__requires": [
            {"type": "grafana", "id": "grafana", "name": "Grafana", "version": "10.4.0"},
            {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"},
            {"type": "panel", "id": "timeseries", "name": "Time series", "version": ""},
            {"type": "panel", "id": "bargauge", "name": "Bar gauge", "version": ""},
            {"type": "panel", "id": "stat", "name": "Stat", "version": ""},
            {"type": "panel", "id": "barchart", "name": "Bar chart", "version": ""},
        ],
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                }
            ]
        },
        "description": (
            "perfinvest baselines, runs, load tests, breaking points and constraints "
            "(perfinvest export openmetrics)"
        ),
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "id": None,
        "links": [],
        "panels": _panels(grafana_unit(unit)),
        "refresh": "",
        "schemaVersion": SCHEMA_VERSION,
        "tags": ["perfinvest", "performance"],
        "templating": {
            "list": [
                _variable("investigation", "Investigation", f"label_values({runs}, investigation)"),
                _variable(
                    "version",
                    "Version",
                    f'label_values({runs}{{investigation=~"$investigation"}}, version)',
                ),
                _variable(
                    "scenario",
                    "Scenario",
                    f'label_values({runs}{{investigation=~"$investigation"}}, scenario)',
                ),
                _variable(
                    "metric",
                    "Metric",
                    f'label_values({runs}{{investigation=~"$investigation"}}, metric)',
                    multi=False,
                    default=metric,
                ),
                _variable(
                    "route",
                    "Route",
                    f"label_values({PREFIX}_load_requests_per_second"
                    '{investigation=~"$investigation"}, route)',
                ),
            ]
        },
        "time": {"from": "now-30d", "to": "now"},
        "timepicker": {},
        "timezone": "utc",
        "title": title,
        "uid": UID,
        "version": 1,
        "weekStart": "",
    }


def promql_expressions(board: dict[str, Any]) -> list[str]:
    """Every PromQL expression of the dashboard: panel targets and variable queries."""
    exprs = [
        target["expr"]
        for panel in board.get("panels", [])
        for target in panel.get("targets", [])
        if "expr" in target
    ]
    for variable in board.get("templating", {}).get("list", []):
        query = variable.get("query")
        if isinstance(query, dict) and "query" in query:
            exprs.append(query["query"])
    return exprs
