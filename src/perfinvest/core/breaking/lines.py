"""One breaking-point probe's progress line (re-exported by ``core/breaking/search.py``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from perfinvest.core.breaking.grid import format_value
from perfinvest.core.breaking.thresholds import Threshold


def _number(value: float) -> str:
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.4g}"


def probe_line(
    number: int,
    bound: int,
    parameter: str,
    value: float,
    metrics: Mapping[str, float],
    verdict: tuple[bool | None, str],
    thresholds: Sequence[Threshold],
    stage: str = "",
) -> str:
    """One probe's progress line: ``probe 3/12  PERF_PARAM_VALUE=5000  p95_ms=142.1  PASS``."""
    passed, why = verdict
    shown = [
        f"{metric}={_number(metrics[metric])}"
        for metric in dict.fromkeys(t.metric for t in thresholds)
        if metric in metrics
    ]
    if passed is True:
        state = "PASS"
    elif passed is False:
        crossed = [
            t.text for t in thresholds if t.metric in metrics and t.crossed(metrics[t.metric])
        ]
        state = f"FAIL ({', '.join(crossed) or why})"
    else:
        state = f"INVALID ({why})"
    parts = [f"probe {number}/{bound}", f"{parameter}={format_value(value)}", *shown, state]
    return "  ".join(parts) + (f"  [{stage}]" if stage else "")
