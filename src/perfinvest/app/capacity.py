"""``perfinvest capacity``: the USL fitted to throughput by concurrency, logged and kept.

The points come from a ``--from`` file, the investigation's breaking-point probes (the
searched parameter is the concurrency, a throughput metric of each probe the throughput),
or load runs (each run's users and sustained rps). The fit (or its refusal) is written to
``artifacts/<id>/capacity-<time>.json`` and noted in the investigation's events and
reviewer's log; outside an investigation it is only answered.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from perfinvest.app.context import AppContext
from perfinvest.app.result import CommandResult
from perfinvest.core.capacity.fit import Current, Point
from perfinvest.core.errors import ExitCode, needs_input, refused, usage_error
from perfinvest.core.models import Investigation

Source = Literal["auto", "breaking-point", "load"]

#: What to do after each refusal (the answer's ``next``).
_NEXT = {
    "invalid_points": "fix the points: positive concurrencies, non-negative throughputs",
    "too_few_points": "measure throughput at 4 or more distinct concurrencies",
    "non_monotonic": "re-measure the points, with repeats at each concurrency",
    "too_noisy": "more repeats, a wider range of concurrencies, a quieter machine",
}


@dataclass(frozen=True)
class CapacityOptions:
    from_file: Path | None = None
    source: Source = "auto"
    metric: str | None = None  # the probes' throughput metric (default: detected)
    current: float | None = None  # the current concurrency
    current_throughput: float | None = None


@dataclass
class _Points:
    points: list[Point]
    source: str  # in words, for the answer and the log
    findings: list[str] = field(default_factory=list)
    current: float | None = None  # a current concurrency the source implies
    current_from: str = ""


def _check(options: CapacityOptions) -> None:
    for flag, value in (
        ("--current", options.current),
        ("--current-throughput", options.current_throughput),
    ):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise usage_error(f"{flag} must be a positive number, not {value:g}")
    if options.current is not None and options.current_throughput is not None:
        raise usage_error("give either --current N or --current-throughput X, not both")
    if options.from_file is not None and options.source != "auto":
        raise usage_error("--from FILE and --source are exclusive: the file is the source")


def _from_file(path: Path) -> _Points:
    from perfinvest.core.capacity.points import parse_points

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise usage_error(f"--from {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise usage_error(f"--from {path}: cannot read it ({exc})") from None
    return _Points(parse_points(text, path.name), f"file {path}")


def _probe_throughput(inv: Investigation, metric: str | None) -> str | None:
    """The probes' metric read as throughput (see ``throughput_key``), None without one."""
    from perfinvest.core.capacity.points import throughput_key

    bp = inv.breaking_point
    if bp is None:
        return None
    available = {k for p in bp.probes if p.passed is not None for k in p.metrics}
    return throughput_key(available, metric, (inv.setup.metric.name, inv.setup.metric.direction))


def _from_probes(inv: Investigation, metric: str | None) -> _Points:
    from perfinvest.core.capacity.points import probe_points

    bp = inv.breaking_point
    if bp is None or not bp.probes:
        raise refused(
            "the investigation has no breaking-point probes: run `perfinvest breaking-point` "
            "(with a throughput metric), use --source load, or give --from FILE",
            needs=["perfinvest breaking-point", "--from FILE"],
        )
    key = _probe_throughput(inv, metric)
    if key is None:
        available = {k for p in bp.probes if p.passed is not None for k in p.metrics}
        shown = ", ".join(sorted(available)) or "nothing"
        asked = f"no metric {metric!r}" if metric else "no throughput metric"
        raise refused(
            f"the breaking-point probes report {asked} (they report: {shown}); name the "
            "throughput with --metric NAME (the concurrency is the searched parameter "
            f"{bp.parameter})",
            needs=["--metric NAME"],
        )
    points, skipped = probe_points([(p.value, p.passed, p.metrics) for p in bp.probes], key)
    found = _Points(points, f"breaking-point probes ({bp.parameter} as concurrency, {key})")
    if skipped:
        found.findings.append(
            f"{skipped} probe(s) left out: invalid (no verdict) or without {key!r}"
        )
    return found


def _load_dirs(ctx: AppContext, inv_id: str | None) -> list[Path]:
    root = ctx.paths.artifacts(inv_id) if inv_id else ctx.paths.perf_dir / "load"
    return sorted(root.glob("load-*/result.json")) if root.is_dir() else []


def _from_load(ctx: AppContext, inv_id: str | None) -> _Points:
    from perfinvest.core.capacity.points import load_point, ramp_points

    files = _load_dirs(ctx, inv_id)
    found = _Points([], "load runs (users as concurrency, sustained rps; a ramp's seconds)")
    latest_baseline: tuple[str, float] | None = None
    for path in files:
        where = ctx.paths.relative(path.parent)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            found.findings.append(f"{where}: unreadable, left out ({type(exc).__name__})")
            continue
        if not isinstance(document, dict):
            found.findings.append(f"{where}: not a load result, left out")
            continue
        if document.get("interrupted"):
            found.findings.append(f"{where}: interrupted (a partial run), left out")
            continue
        if document.get("shape") == "ramp" and (path.parent / "latency.csv").is_file():
            try:
                text = (path.parent / "latency.csv").read_text(encoding="utf-8")
                seconds = ramp_points(text, where)
            except (OSError, ValueError, KeyError) as exc:
                found.findings.append(f"{where}: latency.csv unreadable ({type(exc).__name__})")
                continue
            found.points.extend(seconds)
            found.findings.append(f"{where}: a ramp, {len(seconds)} second(s) as points")
            continue
        point, why = load_point(document, where)
        if point is None:
            found.findings.append(f"left out {why}")
            continue
        found.points.append(point)
        if document.get("profile") == "baseline":
            latest_baseline = (where, point.concurrency)
    if not files:
        place = ctx.paths.artifacts(inv_id) if inv_id else ctx.paths.perf_dir / "load"
        raise refused(
            f"no load run in {place}: run `perfinvest load run --profile baseline --users N` "
            "at several user counts, or give --from FILE",
            needs=["perfinvest load run", "--from FILE"],
        )
    if latest_baseline is not None:
        found.current_from, found.current = latest_baseline
    return found


def _gather(ctx: AppContext, options: CapacityOptions, inv: Investigation | None) -> _Points:
    if options.from_file is not None:
        return _from_file(options.from_file)
    inv_id = inv.id if inv else None
    if options.source == "load":
        return _from_load(ctx, inv_id)
    if options.source == "breaking-point":
        if inv is None:
            raise needs_input(
                "no active investigation: its breaking-point probes are the source; "
                "`perfinvest resume ID`, or give --from FILE",
                needs=["--from FILE"],
            )
        return _from_probes(inv, options.metric)
    # auto: the probes when they hold a throughput, else load runs, else the probes' refusal
    # (it names the metrics they do report), else ask for a file
    has_probes = inv is not None and inv.breaking_point is not None and inv.breaking_point.probes
    if inv is not None and has_probes and _probe_throughput(inv, options.metric) is not None:
        return _from_probes(inv, options.metric)
    if _load_dirs(ctx, inv_id):
        return _from_load(ctx, inv_id)
    if inv is not None and has_probes:
        return _from_probes(inv, options.metric)
    raise needs_input(
        "no points to fit: no breaking-point probes and no load runs"
        + ("" if inv else " (and no active investigation)")
        + "; give --from FILE (CSV `concurrency,throughput`), run `perfinvest breaking-point`, "
        "or load runs at several user counts",
        needs=["--from FILE"],
    )


def _current(options: CapacityOptions, found: _Points) -> tuple[Current | None, str]:
    if options.current is not None:
        return Current(concurrency=options.current), "--current"
    if options.current_throughput is not None:
        return Current(throughput=options.current_throughput), "--current-throughput"
    if found.current is not None:
        return Current(
            concurrency=found.current
        ), f"the latest baseline load run {found.current_from}"
    return None, ""


def capacity(ctx: AppContext, options: CapacityOptions) -> CommandResult:
    """Fit, answer, and (inside an investigation) keep the result and log it."""
    from perfinvest.core.capacity.fit import CapacityFit, fit_usl
    from perfinvest.core.capacity.render import report, summary

    _check(options)
    store = ctx.store
    inv = store.load_active() if store.has_active() else None
    found = _gather(ctx, options, inv)
    current, current_from = _current(options, found)
    fit = fit_usl(found.points, current)
    result = CommandResult(command="capacity", investigation=inv.id if inv else None)
    line = summary(fit, found.source)
    result.findings = [line, *found.findings]
    data: dict[str, object] = {"source": found.source, "n_points": len(found.points)}
    if isinstance(fit, CapacityFit):
        data["fit"] = fit.model_dump(mode="json")
        result.findings += fit.notes
        if current is not None:
            data["current_from"] = current_from
        elif fit.peak is not None or fit.asymptote is not None:
            result.findings.append("give --current N (or --current-throughput X) for headroom")
    else:
        data["refusal"] = fit.model_dump(mode="json")
        result.ok = False
        result.error = {
            "code": int(ExitCode.REFUSED),
            "kind": f"capacity_{fit.reason}",
            "message": fit.message,
            "needs": [],
        }
        result.exit_code = int(ExitCode.REFUSED)
        result.status = "blocked"
        result.next = _NEXT[fit.reason]
    text = report(fit, found.source)
    data["report"] = text
    if inv is not None:
        data["artifact"] = _keep(ctx, inv.id, fit, found.source, line)
    result.data = data
    return result


def _keep(ctx: AppContext, inv_id: str, fit: object, source: str, line: str) -> str:
    """The full result under artifacts/, a note in the state and the reviewer's log."""
    from pydantic import BaseModel

    from perfinvest.core.models import Event
    from perfinvest.core.report.log import render_event, render_header
    from perfinvest.store.atomic import atomic_write_text

    assert isinstance(fit, BaseModel)
    now = ctx.now()
    folder = ctx.paths.artifacts(inv_id)
    path = folder / f"capacity-{now:%Y%m%dT%H%M%S%f}.json"
    document = {"source": source, "at": now.isoformat(), "result": fit.model_dump(mode="json")}
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(document, indent=2) + "\n")
    relative = ctx.paths.relative(path)
    event = Event(at=now, kind="capacity", message=f"{line} (details: {relative})")
    store = ctx.store
    with store.transaction() as inv:
        inv.events.append(event)
        store.append_log(inv.id, render_header(inv), render_event(event))
    return relative
