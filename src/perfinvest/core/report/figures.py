"""Plotly figure specs for the report, as plain dicts (no plotly import: core stays pure).

Plotly.js (inlined once in the page) draws them: violins and boxes show each run's spread
so CV and outliers are visible, error bars show confidence intervals. Non-compliant points
are drawn as open diamonds in orange and say so on hover, wherever they appear.
"""

from __future__ import annotations

import html
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

OK_COLOR = "#1f77b4"
NON_COMPLIANT_COLOR = "#e8710a"
PASS_COLOR = "#2ca02c"
FAIL_COLOR = "#d62728"
MUTED_COLOR = "#8c8c8c"
#: Beyond this many samples a violin shows outliers only, not every point.
MAX_POINTS_SHOWN = 300
#: A run's violin is drawn from at most this many of its quantiles (the page stays small).
MAX_DISTRIBUTION_POINTS = 2000
#: A run's time series shows at most this many of its samples (every k-th).
MAX_SERIES_POINTS = 2000


@dataclass(frozen=True)
class RunPoint:
    """One run's value of a metric (and raw samples), with where and how it was measured."""

    label: str
    value: float
    samples: Sequence[float]
    compliant: bool
    valid: bool
    at: str
    host: str
    config_hash: str


def plain(text: str) -> str:
    """Text Plotly shows as written: it reads ``<b>``, ``<br>``, ``<a href>`` and entities in
    every text it draws (titles, axis titles, tick and legend labels, hover, annotations), so
    a frame such as ``std::vector<int>::push`` or a unit such as ``<a href=...>ms</a>`` must
    arrive escaped; ``%`` becomes ``&#37;`` so no text can be read as a hover template's
    ``%{variable}``."""
    return html.escape(text, quote=False).replace("%", "&#37;")


def axis_title(metric: str, unit: str = "") -> str:
    """``metric (unit)``, as raw text: :func:`base_layout` escapes it."""
    return f"{metric} ({unit})" if unit else metric


def finite(value: float | None) -> float | None:
    """JSON has no NaN: missing or non-finite values become null (a gap in the plot)."""
    return value if value is not None and math.isfinite(value) else None


def base_layout(title: str, x_title: str, y_title: str, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": plain(title), "font": {"size": 15}},
        "xaxis": {"title": {"text": plain(x_title)}, "automargin": True},
        "yaxis": {"title": {"text": plain(y_title)}, "automargin": True},
        "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
        "height": 360,
        "legend": {"orientation": "h", "y": -0.2},
        "hovermode": "closest",
    }
    layout.update(extra)
    return layout


def _hover(point: RunPoint) -> str:
    flags = [] if point.compliant else ["NON-COMPLIANT"]
    flags += [] if point.valid else ["INVALID"]
    prefix = f"<b>{' '.join(flags)}</b><br>" if flags else ""
    return (
        f"{prefix}{plain(point.label)}<br>{plain(point.at)}<br>host {plain(point.host or '?')}"
        f"<br>config {plain(point.config_hash or '?')}"
    )


def _marker(points: Sequence[RunPoint]) -> dict[str, Any]:
    return {
        "size": 10,
        "color": [OK_COLOR if p.compliant else NON_COMPLIANT_COLOR for p in points],
        "symbol": ["circle" if p.compliant else "diamond-open" for p in points],
        "line": {"width": 2},
    }


def _run_name(point: RunPoint) -> str:
    return plain(point.label) + ("" if point.compliant else " (non-compliant)")


def sample_cv(samples: Sequence[float]) -> float | None:
    """The run's own coefficient of variation (sample stddev / mean), when defined."""
    values = [v for v in samples if math.isfinite(v)]
    if len(values) < 2 or statistics.fmean(values) == 0:
        return None
    return statistics.stdev(values) / abs(statistics.fmean(values))


def quantile_sketch(samples: Sequence[float], size: int) -> list[float]:
    """At most ``size`` values with the samples' distribution: the order statistics at
    evenly spaced ranks, min and max included (a violin of them looks the same)."""
    values = sorted(v for v in samples if math.isfinite(v))
    if len(values) <= size:
        return values
    last = len(values) - 1
    return [values[round(i * last / (size - 1))] for i in range(size)]


def thinned(samples: Sequence[float], size: int) -> tuple[list[int], list[float | None]]:
    """Every k-th sample (1-based positions kept) so a run's series has at most ``size``."""
    step = max(1, math.ceil(len(samples) / size))
    kept = range(0, len(samples), step)
    return [i + 1 for i in kept], [finite(samples[i]) for i in kept]


def _violin_name(point: RunPoint) -> str:
    cv = sample_cv(point.samples)
    return _run_name(point) + ("" if cv is None else f"<br>CV {cv:.1%}")


def distribution(points: Sequence[RunPoint], metric: str, unit: str) -> dict[str, Any]:
    """Per run: a violin of its samples; without samples, the runs' values as one box."""
    axis = axis_title(metric, unit)
    with_samples = [p for p in points if len(p.samples) >= 2]
    data: list[dict[str, Any]]
    if with_samples:
        data = [
            {
                "type": "violin",
                "name": _violin_name(p),
                "y": quantile_sketch(p.samples, MAX_DISTRIBUTION_POINTS),
                "box": {"visible": True},
                "meanline": {"visible": True},
                "points": "all" if len(p.samples) <= MAX_POINTS_SHOWN else "outliers",
                "line": {"color": OK_COLOR if p.compliant else NON_COMPLIANT_COLOR},
                "hovertext": _hover(p),
            }
            for p in with_samples
        ]
        title = f"{metric}: distribution of each run's samples"
        if any(len(p.samples) > MAX_DISTRIBUTION_POINTS for p in with_samples):
            title += f" (runs over {MAX_DISTRIBUTION_POINTS:,}: that many quantiles)"
        return {"data": data, "layout": base_layout(title, "run", axis, showlegend=False)}
    values = [finite(p.value) for p in points]
    data = [
        {
            "type": "box",
            "name": plain(metric),
            "x": [plain(metric)] * len(points),
            "y": values,
            "boxpoints": False,
            "boxmean": "sd",
            "marker": {"color": MUTED_COLOR},
            "hoverinfo": "y",
        },
        {
            "type": "scatter",
            "mode": "markers",
            "name": "runs",
            "x": [plain(metric)] * len(points),
            "y": values,
            "marker": _marker(points),
            "text": [_hover(p) for p in points],
            "hovertemplate": "%{y}<br>%{text}<extra></extra>",
        },
    ]
    title = f"{metric}: one value per run (the benchmark reports no raw samples)"
    return {"data": data, "layout": base_layout(title, "", axis, showlegend=False)}


def timeseries(points: Sequence[RunPoint], metric: str, unit: str) -> dict[str, Any]:
    """The samples within each run in order; without samples, each run's value over time."""
    axis = axis_title(metric, unit)
    with_samples = [p for p in points if len(p.samples) >= 2]
    data: list[dict[str, Any]]
    if with_samples:
        data = []
        for p in with_samples:
            x, y = thinned(p.samples, MAX_SERIES_POINTS)
            data.append(
                {
                    "type": "scatter",  # SVG, not WebGL: drawn the same everywhere
                    "mode": "lines+markers" if len(x) <= MAX_POINTS_SHOWN else "lines",
                    "name": _run_name(p),
                    "x": x,
                    "y": y,
                    "line": {"dash": "solid" if p.compliant else "dot"},
                    "hovertemplate": f"sample %{{x}}: %{{y}}<br>{_hover(p)}<extra></extra>",
                }
            )
        title = f"{metric}: samples within each run, in order"
        if any(len(p.samples) > MAX_SERIES_POINTS for p in with_samples):
            title += f" (long runs: every k-th sample, {MAX_SERIES_POINTS:,} at most)"
        return {"data": data, "layout": base_layout(title, "sample", axis)}
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": plain(metric),
            "x": [p.at for p in points],
            "y": [finite(p.value) for p in points],
            "marker": _marker(points),
            "text": [_hover(p) for p in points],
            "hovertemplate": "%{y}<br>%{text}<extra></extra>",
        }
    ]
    title = f"{metric}: each run over time (no samples within runs)"
    return {"data": data, "layout": base_layout(title, "started at (UTC)", axis, showlegend=False)}


def history_trend(rows: Sequence[dict[str, Any]], metric: str, unit: str = "") -> dict[str, Any]:
    """The baselines history: mean (± one CV) per kept result; superseded ones open."""
    means = [finite(float(r["mean"])) for r in rows]
    errors = [
        finite(abs(float(r["mean"]) * float(r["cv"]))) if r.get("cv") is not None else None
        for r in rows
    ]
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers+text",
            "name": plain(metric),
            "x": [r["at"] for r in rows],
            "y": means,
            "error_y": {"type": "data", "array": errors, "visible": True},
            "text": [plain(str(r["label"])) for r in rows],
            "textposition": "top center",
            "marker": {
                "size": 10,
                "symbol": ["circle-open" if r.get("archived") else "circle" for r in rows],
                "color": [
                    FAIL_COLOR
                    if r.get("status") == "breach"
                    else OK_COLOR
                    if r.get("compliant", True)
                    else NON_COMPLIANT_COLOR
                    for r in rows
                ],
            },
            "customdata": [
                [
                    plain(str(r.get("source", ""))),
                    "superseded" if r.get("archived") else "current",
                    plain(str(r.get("host", ""))),
                    plain(str(r.get("config_hash", ""))),
                ]
                for r in rows
            ],
            "hovertemplate": "%{text}: %{y} (%{customdata[1]})<br>%{x}<br>%{customdata[0]}"
            "<br>host %{customdata[2]}<br>config %{customdata[3]}<extra></extra>",
        }
    ]
    title = (
        f"{metric}: every kept baseline (open: superseded, orange: non-compliant runs, red: breach)"
    )
    return {
        "data": data,
        "layout": base_layout(
            title, "measured at (UTC)", axis_title(f"{metric} mean ± CV", unit), showlegend=False
        ),
    }


def hline(y: float, color: str, dash: str = "dash", yref: str = "y") -> dict[str, Any]:
    return {
        "type": "line",
        "xref": "paper",
        "yref": yref,
        "x0": 0,
        "x1": 1,
        "y0": y,
        "y1": y,
        "line": {"color": color, "dash": dash, "width": 2},
    }


def vline(x: float, color: str) -> dict[str, Any]:
    return {
        "type": "line",
        "xref": "x",
        "yref": "paper",
        "x0": x,
        "x1": x,
        "y0": 0,
        "y1": 1,
        "line": {"color": color, "dash": "dot", "width": 2},
    }


#: An experiment's two sides, told apart at a glance (neither is the non-compliant orange).
SIDE_COLORS = {"baseline": "#5a6b7b", "candidate": "#1f6feb"}
#: Sides whose means differ by more than this factor are drawn on a log axis.
LOG_AXIS_RATIO = 10.0


def two_sides(
    baseline: Sequence[RunPoint], candidate: Sequence[RunPoint], metric: str, unit: str
) -> dict[str, Any]:
    """An experiment's runs: baseline side against candidate side, every run a point; each
    side its own colour, non-compliant runs open diamonds; a log axis when the sides' means
    differ by more than 10x (a linear one would squash the faster side flat)."""
    axis = axis_title(metric, unit)
    data: list[dict[str, Any]] = []
    means = []
    for name, points in (("baseline", baseline), ("candidate", candidate)):
        values = [finite(p.value) for p in points]
        kept = [v for v in values if v is not None]
        if kept:
            means.append(statistics.fmean(kept))
        compliant = all(p.compliant for p in points)
        color = SIDE_COLORS[name]
        data.append(
            {
                "type": "box",
                "name": name + ("" if compliant else " (non-compliant)"),
                "y": values,
                "boxpoints": "all",
                "jitter": 0.3,
                "pointpos": 0,
                "boxmean": True,
                "text": [_hover(p) for p in points],
                "hovertemplate": "%{y}<br>%{text}<extra></extra>",
                "line": {"color": color},
                "fillcolor": color + "33",  # the side's colour, 20 % opaque
                "marker": {
                    "color": color,
                    "size": 9,
                    "symbol": "circle" if compliant else "diamond-open",
                    "line": {"width": 2, "color": color},
                },
            }
        )
    layout = base_layout(f"{metric}: baseline side vs candidate side", "", axis)
    if len(means) == 2 and min(means) > 0 and max(means) / min(means) > LOG_AXIS_RATIO:
        layout["yaxis"]["type"] = "log"
        layout["yaxis"]["title"]["text"] += " (log scale)"
    return {"data": data, "layout": layout}


@dataclass(frozen=True)
class Change:
    label: str
    change: float | None  # relative
    ci_low: float | None
    ci_high: float | None
    verdict: str
    compliant: bool


def changes_with_ci(changes: Sequence[Change], metric: str) -> dict[str, Any]:
    """Each experiment's relative change of the metric with its 95 % CI (zero: no change)."""
    pct = [finite(c.change * 100) if c.change is not None else None for c in changes]
    plus = [
        finite((c.ci_high - c.change) * 100)
        if c.ci_high is not None and c.change is not None
        else None
        for c in changes
    ]
    minus = [
        finite((c.change - c.ci_low) * 100)
        if c.ci_low is not None and c.change is not None
        else None
        for c in changes
    ]
    color = {"improved": PASS_COLOR, "regressed": FAIL_COLOR}
    data = [
        {
            "type": "scatter",
            "mode": "markers",
            "orientation": "h",
            "x": pct,
            "y": [plain(c.label) + ("" if c.compliant else " (non-compliant)") for c in changes],
            # one colour: Plotly takes the error bars' from the marker's, and an array of
            # colours there is an "Invalid color specifier" (a console warning per bar)
            "error_x": {
                "type": "data",
                "symmetric": False,
                "array": plus,
                "arrayminus": minus,
                "color": MUTED_COLOR,
                "thickness": 2,
            },
            "marker": {
                "size": 12,
                "color": [color.get(c.verdict, MUTED_COLOR) for c in changes],
                "symbol": ["circle" if c.compliant else "diamond-open" for c in changes],
            },
            "text": [c.verdict for c in changes],
            "hovertemplate": "%{y}: %{x:.2f}% (%{text})<extra></extra>",
        }
    ]
    layout = base_layout(
        f"{metric}: change vs baseline with 95 % CI",
        "relative change (%)",
        "",
        shapes=[
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": 0,
                "x1": 0,
                "y0": 0,
                "y1": 1,
                "line": {"color": MUTED_COLOR, "width": 1},
            }
        ],
        showlegend=False,
    )
    layout["height"] = max(220, 90 + 50 * len(changes))
    return {"data": data, "layout": layout}
