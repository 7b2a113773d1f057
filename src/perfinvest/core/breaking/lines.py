"""The breaking-point search in words: a probe's progress line, tallies, the ends' confidence.

``probe_line`` is re-exported by ``core/breaking/search.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from perfinvest.core.breaking.ends import Side
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


def tally(counts: Mapping[float, tuple[int, int]], value: float, failed: bool = False) -> str:
    """``2 of 3``: how many of the value's probes passed (or, with ``failed``, failed)."""
    passes, fails = counts.get(value, (0, 0))
    return f"{fails if failed else passes} of {passes + fails}"


def disagreements(
    counts: Mapping[float, tuple[int, int]], pairs: Sequence[tuple[float, float]]
) -> str:
    """The verdicts that disagree within noise, in words: why there is no single point."""
    shown = format_value
    same = sorted({p for p, f in pairs if p == f})
    apart = [(p, f) for p, f in pairs if p != f]
    said = [f"the re-check at {shown(v)} disagreed (passed {tally(counts, v)})" for v in same]
    said += [f"{shown(p)} passed above {shown(f)}'s failure, within noise" for p, f in apart]
    if len(said) > 4:
        said = [*said[:4], f"{len(said) - 4} more"]
    return "; ".join(said) + ", so the boundary is an interval, not a point"


def confidence(
    counts: Mapping[float, tuple[int, int]],
    sides: Mapping[float, Side | None],
    low: float | None,
    high: float | None,
    notes: Sequence[str],
) -> str:
    """How sure the interval's ends are: re-confirmed or not, clear of the noise or not."""
    from perfinvest.core.breaking.noisy import counts_line

    parts: list[str] = []
    for label, end in (("last pass", low), ("first fail", high)):
        if end is None:
            continue
        measured = sum(counts.get(end, (0, 0)))
        clear = "" if sides.get(end) else ", within the noise of the limit"
        parts.append(
            f"{label} {format_value(end)} "
            + ("re-confirmed" if measured >= 2 else "measured once (no probe left to re-check)")
            + f" ({'failed' if end == high else 'passed'} {tally(counts, end, end == high)}"
            + f"{clear})"
        )
    parts.extend(note for note in notes if note)
    if notes and notes[-1]:  # the bound grew: every value's verdicts, for the reader
        parts.append(f"verdicts per value: {counts_line(counts, format_value)}")
    return "; ".join(parts)
