"""cProfile: deterministic Python profiling when py-spy cannot attach (no ptrace).

``python [opts] -m cProfile -o profile.pstats script.py|-m module args``; hotspots come from
pstats: self % is a function's own time (tottime), total % its cumulative time, ``samples``
its call count. Shares are of the summed own time of all functions. cProfile records each
function's ``def`` line only, never the lines executing: its hotspots have no ``lines``
and no ``hot_line`` (py-spy has them).
"""

from __future__ import annotations

import pstats
from pathlib import Path

from perfinvest.adapters.profilers.base import (
    Collected,
    ProfilePlan,
    ProfileRequest,
    RunFacts,
    no_samples,
)
from perfinvest.adapters.profilers.launchers import detect, with_cprofile
from perfinvest.core.errors import benchmark_failed
from perfinvest.core.models import Hotspot
from perfinvest.core.profiling.hotspots import Frame, is_internal, relative_file

NAME = "cprofile"
STATS_NAME = "profile.pstats"
REPORT_NAME = "cprofile.txt"
_ROOTS = ("<built-in method builtins.exec>", "{built-in method builtins.exec}")


def hotspots_from_pstats(
    path: Path, repo_root: Path | None, top: int | None = None
) -> list[Hotspot]:
    """pstats → hotspots; interpreter and profiler frames left out."""
    try:
        stats = pstats.Stats(str(path))
    except Exception as exc:  # marshal, EOF or type errors of a bad file
        raise benchmark_failed(f"{path.name} is not a readable cProfile file: {exc}") from None
    table = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in table.values())
    if total <= 0:
        return []
    root = str(repo_root) if repo_root else None
    hotspots = []
    for (file, line, function), (_cc, calls, own, cumulative, _callers) in table.items():
        shown_file = None if file == "~" else file
        frame = Frame(function, shown_file, line or None)
        if function in _ROOTS or is_internal(frame) or function.startswith("<method 'disable'"):
            continue
        hotspots.append(
            Hotspot(
                function=function,
                file=relative_file(shown_file, root),
                line=line or None,
                self_pct=100.0 * own / total,
                total_pct=min(100.0, 100.0 * cumulative / total),
                samples=int(calls),
                self_samples=int(calls),
            )
        )
    hotspots.sort(key=lambda h: (-h.self_pct, -h.total_pct, h.function))
    return hotspots if top is None else hotspots[:top]


def plan(request: ProfileRequest) -> ProfilePlan:
    launcher = detect(request.command, request.shell)
    output = request.out_dir / STATS_NAME
    argv = with_cprofile(launcher, output)
    report = request.out_dir / REPORT_NAME

    def collect(facts: RunFacts) -> Collected:
        if not output.is_file() or output.stat().st_size == 0:
            raise no_samples(NAME, facts)
        hotspots = hotspots_from_pstats(output, request.repo_root)
        if not hotspots:
            raise no_samples(NAME, facts)
        with report.open("w", encoding="utf-8") as handle:
            pstats.Stats(str(output), stream=handle).sort_stats("tottime").print_stats(50)
        return Collected(
            hotspots=hotspots,
            files=[(output, "cProfile pstats"), (report, "cProfile report (top 50 by own time)")],
            total_samples=sum(h.samples for h in hotspots),
            note=(
                "cProfile: samples are call counts, shares are of own (tottime) time; "
                "it records def lines only, so no hot lines"
            ),
        )

    return ProfilePlan(NAME, argv, {}, None, collect)
