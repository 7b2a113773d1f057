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
) -> dict[str, Any]:
    """The baseline and each constrained configuration's mean, as bars side by side."""
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


#: The load plot's panels: (key, title, SLO metric drawn on it).
LOAD_PANELS = (
    ("users", "users", None),
    ("rps", "requests/s", "rps"),
    ("p95", "p95 (ms)", "p95_ms"),
    ("errors", "error rate", "error_rate"),
)


def load_profile(
    rows: Sequence[LoadSecond], slos: Sequence[tuple[str, float]], title: str
) -> dict[str, Any]:
    """Users, rps, p95 and error rate per second, stacked, with the SLO limits as lines."""
    seconds = [r.second for r in rows]
    series = {
        "users": [finite(r.users) for r in rows],
        "rps": [r.requests for r in rows],
        "p95": [finite(r.p95_ms) for r in rows],
        "errors": [r.failures / r.requests if r.requests else None for r in rows],
    }
    data: list[dict[str, Any]] = []
    shapes: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    layout = base_layout(title, "second", "", showlegend=False)
    layout["height"] = 620
    gap = 0.04
    height = (1 - gap * (len(LOAD_PANELS) - 1)) / len(LOAD_PANELS)
    for i, (key, label, slo_metric) in enumerate(LOAD_PANELS):
        axis = "y" if i == 0 else f"y{i + 1}"
        top = 1 - i * (height + gap)
        layout["yaxis" if i == 0 else f"yaxis{i + 1}"] = {
            "title": {"text": label},
            "domain": [max(top - height, 0), top],
            "automargin": True,
        }
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": label,
                "x": seconds,
                "y": series[key],
                "yaxis": axis,
                "hovertemplate": f"second %{{x}}: %{{y}} {label}<extra></extra>",
            }
        )
        for metric, limit in slos:
            if metric == slo_metric:
                shapes.append(hline(limit, FAIL_COLOR, "dash", yref=axis))
                notes.append(
                    {
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
                )
    layout["shapes"] = shapes
    layout["annotations"] = notes
    layout["xaxis"]["anchor"] = f"y{len(LOAD_PANELS)}"
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
