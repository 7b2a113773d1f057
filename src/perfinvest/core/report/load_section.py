"""The report's load section: each load run over time and its numbers, as `load run` kept them.

Per run: users, requests/s, p50/p95/p99 and the error rate per second (``latency.csv``'s
``all`` rows) with the SLO limits drawn; the SLO matrix (a row per route and one for
``all``, the aggregate judged against every SLO of the run, a column per SLO); the
routes' numbers with their HTTP statuses; the errors by route and type; the SLO verdicts
per phase of a ramp or spike; the provenance of the run.
"""

from __future__ import annotations

import math
from typing import Any

from perfinvest.core.load.slo import Verdict, judge
from perfinvest.core.report import phase_figures as phase_fig
from perfinvest.core.report.blocks import (
    NON_COMPLIANT,
    Block,
    Paragraph,
    Plot,
    Provenance,
    Row,
    Section,
    Table,
)
from perfinvest.core.report.inputs import LoadRun, ReportInputs, num

ALL = "all"


def slo_limit(text: str) -> tuple[str, float] | None:
    """``p95_ms <= 60`` → ``("p95_ms", 60.0)``; ``error_rate < 1%`` → ``0.01``."""
    parts = text.split()
    if len(parts) < 3:
        return None
    try:
        limit = float(parts[2].rstrip("%"))
    except ValueError:
        return None
    return parts[0], limit / 100 if parts[2].endswith("%") else limit


def _values(result: dict[str, Any], route: str) -> dict[str, float]:
    """A route's recorded values (``None``, no data, as NaN: an SLO on it fails)."""
    raw = (result.get("routes") or {}).get(route) or {}
    return {
        k: math.nan if v is None else float(v)
        for k, v in raw.items()
        if isinstance(v, int | float) or v is None
    }


def _aggregate(slos: list[str], values: dict[str, float]) -> dict[str, Verdict]:
    """``all`` judged against each SLO it can be (a text `load run` never wrote is skipped)."""
    out = {}
    for slo in slos:
        try:
            (verdict,) = judge(ALL, [slo], values)
        except ValueError:
            continue
        out[slo] = verdict
    return out


def _matrix(index: int, result: dict[str, Any], badges: list[str]) -> Table:
    """Routes down, SLOs across; the ``all`` row judges the aggregate against every SLO."""
    verdicts = [v for v in result.get("verdicts", []) if isinstance(v, dict)]
    slos = list(dict.fromkeys(str(v.get("slo", "")) for v in verdicts))
    routes = list(dict.fromkeys(str(v.get("route", "")) for v in verdicts if v.get("route")))
    routes = [r for r in routes if r != ALL] + [ALL]
    cells = {(str(v.get("route")), str(v.get("slo"))): v for v in verdicts}
    aggregate = _aggregate(slos, _values(result, ALL))
    rows = []
    for route in routes:
        row = [route]
        failed = False
        for slo in slos:
            found = cells.get((route, slo))
            if found is not None:
                verdict, measured = str(found.get("verdict", "")), found.get("measured")
            elif route == ALL and slo in aggregate:
                judged = aggregate[slo]
                verdict = "PASS" if judged.passed else "FAIL"
                measured = None if math.isnan(judged.value) else judged.value
            else:
                row.append("")
                continue
            failed |= verdict == "FAIL"
            row.append(f"{verdict} ({num(measured)})")
        rows.append(Row(row, badges + (["fail"] if failed else [])))
    passed = "PASS" if result.get("passed") else "FAIL"
    return Table(
        f"load-matrix-{index}",
        ["route", *slos],
        rows,
        f"SLO matrix: {passed}; the all row is every route together, judged against each SLO",
    )


def _statuses(raw: Any) -> str:
    if not isinstance(raw, dict) or not raw:
        return ""
    return ", ".join(f"{code}: {count}" for code, count in sorted(raw.items()))


def _routes(index: int, result: dict[str, Any]) -> Table:
    recorded = result.get("routes") or {}
    names = sorted(n for n in recorded if n != ALL) + ([ALL] if ALL in recorded else [])
    rows = []
    for name in names:
        values = recorded[name] or {}
        rate = values.get("error_rate")
        rows.append(
            Row(
                [
                    name,
                    num(values.get("requests"), 9),
                    num(values.get("rps")),
                    *(num(values.get(k)) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")),
                    "n/a" if rate is None else f"{rate:.2%}",
                    _statuses(values.get("statuses")),
                ]
            )
        )
    return Table(
        f"load-routes-{index}",
        ["route", "requests", "rps", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors", "statuses"],
        rows,
        "each route over the steady window, and all of them together (rps: sustained)",
    )


def _errors(index: int, result: dict[str, Any]) -> Block:
    errors = [e for e in result.get("errors", []) if isinstance(e, dict)]
    if not errors:
        return Paragraph("No request failed.", "note")
    ordered = sorted(errors, key=lambda e: -int(e.get("count") or 0))
    return Table(
        f"load-errors-{index}",
        ["route", "error", "count"],
        [
            Row([str(e.get("route", "")), str(e.get("error", "")), str(e.get("count", ""))])
            for e in ordered
        ],
        "failed requests by route and type",
    )


def _phases(index: int, result: dict[str, Any], badges: list[str]) -> Table | None:
    rows = [v for v in result.get("phase_verdicts", []) if isinstance(v, dict)]
    if not rows:
        return None
    return Table(
        f"load-phases-{index}",
        ["phase", "route", "SLO", "measured", "verdict"],
        [
            Row(
                [
                    str(v.get("phase", "")),
                    str(v.get("route", "")),
                    str(v.get("slo", "")),
                    num(v.get("measured")),
                    str(v.get("verdict", "")),
                ],
                badges + (["fail"] if v.get("verdict") == "FAIL" else []),
            )
            for v in rows
        ],
        "each phase judged apart (a spike's peak and its recovery)",
    )


def _slos(result: dict[str, Any]) -> list[tuple[str, float]]:
    """The SLO limits to draw: the aggregate's first, then the routes' (each once)."""
    verdicts = [v for v in result.get("verdicts", []) if isinstance(v, dict)]
    first = [v for v in verdicts if v.get("route") in (ALL, None)]
    limits: list[tuple[str, float]] = []
    for verdict in first + verdicts:
        limit = slo_limit(str(verdict.get("slo", "")))
        if limit is not None and limit not in limits:
            limits.append(limit)
    return limits


def _run(index: int, load: LoadRun) -> list[Block]:
    result = load.result
    compliant = bool(result.get("compliant", True))
    badges = [] if compliant else [NON_COMPLIANT]
    title = f"{result.get('profile', '?')} ({load.folder})" + (
        "" if compliant else " NON-COMPLIANT"
    )
    blocks: list[Block] = []
    if load.seconds:
        figure = phase_fig.load_profile(load.seconds, _slos(result), title)
        blocks.append(Plot(f"load-{index}", title, figure))
    else:
        blocks.append(Paragraph(f"{load.folder}: no per-second rows.", "empty"))
    blocks.append(_matrix(index, result, badges))
    blocks.append(_routes(index, result))
    blocks.append(_errors(index, result))
    phases = _phases(index, result, badges)
    if phases is not None:
        blocks.append(phases)
    run = result.get("run") or {}
    env = run.get("environment") or {}
    blocks.append(
        Provenance(
            f"load run {load.folder}",
            str(run.get("started_at", "n/a")),
            ", ".join(str(env.get(k)) for k in ("host", "cpu_model", "kernel") if env.get(k))
            or "n/a",
            str(env.get("config_hash") or "n/a"),
        )
    )
    return blocks


def load_section(inputs: ReportInputs) -> Section:
    section = Section("load", "Load profiles")
    if not inputs.load_runs:
        section.blocks.append(Paragraph("No load runs in this investigation.", "empty"))
        return section
    for index, load in enumerate(inputs.load_runs, 1):
        section.blocks.extend(_run(index, load))
    return section
