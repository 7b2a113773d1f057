"""Plotly figure specs of the phases' own results: the breaking-point curve, constraints
side by side, load over time with SLO lines, hotspots. Plain dicts, like
:mod:`perfinvest.core.report.figures` (whose layout and colours they share)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from perfinvest.core.report.figures import (
    FAIL_COLOR,
    MUTED_COLOR,
    NON_COMPLIANT_COLOR,
    OK_COLOR,
    PASS_COLOR,
    axis_title,
    base_layout,
    finite,
    hline,
    plain,
    vline,
)


@dataclass(frozen=True)
class ProbePoint:
    value: float
    metric: float | None
    passed: bool | None
    stage: str
    run_id: str


def breaking_curve(
    probes: Sequence[ProbePoint],
    *,
    parameter: str,
    metric: str,
    limit: float | None,
    last_passing: float | None,
    breaking_point: float | None,
    compliant: bool,
    unit: str = "",
) -> dict[str, Any]:
    """The probes as a curve over the parameter; the threshold and the boundary marked."""
    ordered = sorted(probes, key=lambda p: p.value)
    colors = [
        MUTED_COLOR if p.passed is None else PASS_COLOR if p.passed else FAIL_COLOR for p in ordered
    ]
    verdicts = ["invalid" if p.passed is None else "pass" if p.passed else "fail" for p in ordered]
    note = "" if compliant else " NON-COMPLIANT (short probes)"
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": plain(f"{metric} per probe"),
            "x": [p.value for p in ordered],
            "y": [finite(p.metric) for p in ordered],
            "line": {"color": MUTED_COLOR, "dash": "solid" if compliant else "dot"},
            "marker": {
                "size": 11,
                "color": colors,
                "symbol": "circle" if compliant else "diamond-open",
                "line": {"width": 2, "color": colors},
            },
            "customdata": [
                [v, plain(p.stage), plain(p.run_id)] for v, p in zip(verdicts, ordered, strict=True)
            ],
            "hovertemplate": f"{plain(parameter)}=%{{x}}: %{{y}} (%{{customdata[0]}}){note}"
            "<br>%{customdata[1]} %{customdata[2]}<extra></extra>",
        }
    ]
    shapes: list[dict[str, Any]] = []
    if limit is not None:
        shapes.append(hline(limit, FAIL_COLOR, "dash"))
    if last_passing is not None and breaking_point is not None:
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": last_passing,
                "x1": breaking_point,
                "y0": 0,
                "y1": 1,
                "fillcolor": FAIL_COLOR,
                "opacity": 0.12,
                "line": {"width": 0},
            }
        )
    for x, color in ((last_passing, PASS_COLOR), (breaking_point, FAIL_COLOR)):
        if x is not None:
            shapes.append(vline(x, color))
    title = f"breaking point: {metric} over {parameter} (shaded: the boundary){note}"
    return {
        "data": data,
        "layout": base_layout(title, parameter, axis_title(metric, unit), shapes=shapes),
    }


def side_by_side(
    labels: Sequence[str],
    values: Sequence[float | None],
    notes: Sequence[str],
    metric: str,
    unit: str = "",
    intervals: Sequence[tuple[float | None, float | None]] = (),
) -> dict[str, Any]:
    """The baseline and each constrained configuration's mean, as bars side by side; a
    bar's 95 % interval (absolute bounds, when the phase computed one) as an error bar."""
    colors = [MUTED_COLOR] + [
        NON_COMPLIANT_COLOR if "(non-compliant)" in label else OK_COLOR for label in labels[1:]
    ]
    data = [
        {
            "type": "bar",
            "x": [plain(label) for label in labels],
            "y": [finite(v) for v in values],
            "text": [plain(note) for note in notes],
            "textposition": "auto",
            "marker": {"color": colors},
            "hovertemplate": "%{x}: %{y}<br>%{text}<extra></extra>",
        }
    ]
    bounds = list(intervals) + [(None, None)] * (len(values) - len(intervals))
    if any(low is not None for low, _ in bounds):
        data[0]["error_y"] = {
            "type": "data",
            "symmetric": False,
            "array": [
                finite(high - v) if high is not None and v is not None else None
                for v, (_, high) in zip(values, bounds, strict=True)
            ],
            "arrayminus": [
                finite(v - low) if low is not None and v is not None else None
                for v, (low, _) in zip(values, bounds, strict=True)
            ],
            "color": MUTED_COLOR,
            "thickness": 2,
        }
    return {
        "data": data,
        "layout": base_layout(
            f"{metric}: unconstrained vs each limit", "", axis_title(metric, unit), showlegend=False
        ),
    }


@dataclass(frozen=True)
class LoadSecond:
    second: float
    users: float | None
    requests: float
    failures: float
    p95_ms: float | None
    p50_ms: float | None = None
    p99_ms: float | None = None


#: The load plot's panels: (key, axis title, its series (name, field), SLO metrics drawn).
LOAD_PANELS: tuple[tuple[str, str, tuple[tuple[str, str], ...], tuple[str, ...]], ...] = (
    ("users", "users", (("users", "users"),), ()),
    ("rps", "requests/s", (("requests/s", "rps"),), ("rps",)),
    (
        "latency",
        "latency (ms)",
        (("p50", "p50_ms"), ("p95", "p95_ms"), ("p99", "p99_ms")),
        ("p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms", "mean_ms"),
    ),
    ("errors", "error rate", (("error rate", "errors"),), ("error_rate",)),
)
_LATENCY_DASH = {"p50_ms": "dot", "p95_ms": "solid", "p99_ms": "dash"}


def _load_series(rows: Sequence[LoadSecond]) -> dict[str, list[float | None]]:
    return {
        "users": [finite(r.users) for r in rows],
        "rps": [r.requests for r in rows],
        "p50_ms": [finite(r.p50_ms) for r in rows],
        "p95_ms": [finite(r.p95_ms) for r in rows],
        "p99_ms": [finite(r.p99_ms) for r in rows],
        "errors": [r.failures / r.requests if r.requests else None for r in rows],
    }


def _slo_note(metric: str, limit: float, axis: str) -> dict[str, Any]:
    return {
        "xref": "paper",
        "yref": axis,
        "x": 1,
        "y": limit,
        "text": plain(f"SLO {metric} {limit:g}"),
        "showarrow": False,
        "xanchor": "right",
        "yanchor": "bottom",
        "font": {"color": FAIL_COLOR, "size": 11},
    }


def load_profile(
    rows: Sequence[LoadSecond], slos: Sequence[tuple[str, float]], title: str
) -> dict[str, Any]:
    """Users, requests/s, p50/p95/p99 and the error rate per second, stacked, with the SLO
    limits as labelled dashed lines on the panel of their metric."""
    seconds = [r.second for r in rows]
    series = _load_series(rows)
    data: list[dict[str, Any]] = []
    shapes: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    layout = base_layout(title, "second of the run", "", showlegend=True)
    layout["height"] = 680
    gap = 0.04
    height = (1 - gap * (len(LOAD_PANELS) - 1)) / len(LOAD_PANELS)
    for i, (_, label, lines, slo_metrics) in enumerate(LOAD_PANELS):
        axis = "y" if i == 0 else f"y{i + 1}"
        top = 1 - i * (height + gap)
        layout["yaxis" if i == 0 else f"yaxis{i + 1}"] = {
            "title": {"text": label},
            "domain": [max(top - height, 0), top],
            "automargin": True,
            "rangemode": "tozero",
        }
        for name, field in lines:
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": name,
                    "x": seconds,
                    "y": series[field],
                    "yaxis": axis,
                    "line": {"dash": _LATENCY_DASH.get(field, "solid")},
                    "showlegend": len(lines) > 1,
                    "hovertemplate": f"second %{{x}}: %{{y}} {name}<extra></extra>",
                }
            )
        for metric, limit in slos:
            if metric in slo_metrics:
                shapes.append(hline(limit, FAIL_COLOR, "dash", yref=axis))
                notes.append(_slo_note(metric, limit, axis))
    layout["shapes"] = shapes
    layout["annotations"] = notes
    layout["xaxis"]["anchor"] = f"y{len(LOAD_PANELS)}"
    layout["legend"] = {"orientation": "h", "y": 1.06, "x": 0}
    return {"data": data, "layout": layout}


@dataclass(frozen=True)
class HotBar:
    label: str
    self_pct: float
    total_pct: float


def hotspots(bars: Sequence[HotBar], title: str) -> dict[str, Any]:
    """The hottest functions: self and total share of the samples."""
    shown = list(reversed(bars))  # the hottest on top
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "name": name,
            "y": [plain(b.label) for b in shown],
            "x": [getattr(b, field) for b in shown],
            "hovertemplate": f"%{{y}}: %{{x:.1f}}% {name}<extra></extra>",
        }
        for name, field in (("self %", "self_pct"), ("total %", "total_pct"))
    ]
    layout = base_layout(title, "% of samples", "", barmode="group")
    layout["height"] = max(260, 120 + 40 * len(bars))
    return {"data": data, "layout": layout}


#: An icicle keeps the nodes holding at least this share of the samples (the page stays small).
MIN_ICICLE_SHARE = 0.002
#: Levels an icicle shows at once (a click on a frame zooms in and shows the next ones).
ICICLE_DEPTH = 12


def icicle(stacks: Sequence[tuple[tuple[str, ...], int]], title: str) -> dict[str, Any]:
    """Collapsed stacks as an interactive icicle (root on top, width = share of samples):
    the flamegraph drawn by Plotly when the profiler wrote no SVG."""
    counts: dict[tuple[str, ...], int] = {}
    for frames, count in stacks:
        for depth in range(1, len(frames) + 1):
            counts[frames[:depth]] = counts.get(frames[:depth], 0) + count
    total = sum(count for _, count in stacks) or 1
    kept = sorted(path for path, n in counts.items() if n / total >= MIN_ICICLE_SHARE)
    ids = ["all"] + ["/".join(path) for path in kept]
    parents = [""] + ["/".join(path[:-1]) if len(path) > 1 else "all" for path in kept]
    data = [
        {
            "type": "icicle",
            "ids": ids,
            "labels": ["all"] + [plain(path[-1]) for path in kept],
            "parents": parents,
            "values": [total] + [counts[path] for path in kept],
            "branchvalues": "total",
            "maxdepth": ICICLE_DEPTH,  # deeper frames: click a frame to zoom into it
            "tiling": {"orientation": "v"},
            "hovertemplate": "%{label}<br>%{value} samples (%{percentRoot:.1%})<extra></extra>",
        }
    ]
    layout = base_layout(title, "", "")
    layout["height"] = 480
    layout["margin"] = {"l": 10, "r": 10, "t": 50, "b": 10}
    return {"data": data, "layout": layout}
