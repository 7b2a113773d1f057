"""What ``perfinvest export`` reads: an investigation's (or a version's) results, read-only.

:func:`gather` is the one entry point every exporter (and the HTML report bundle) uses:
baselines from the history (``store/history.py``: current and archived, the archived ones
marked superseded), both sides of each measured experiment, the load runs under the
investigation's artifacts with their ``latency.csv`` (labelled with the version each
recorded), the breaking-point searches and constrained runs (app/export/phases.py). It
never writes to the state folder.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import replace
from pathlib import Path

from perfinvest.app.context import AppContext
from perfinvest.core.errors import refused
from perfinvest.core.export.data import (
    ExportBaseline,
    ExportData,
    ExportRun,
    LatencyRow,
    baseline_runs,
)
from perfinvest.core.export.phase_data import ExportBreakingPoint, ExportConstraint
from perfinvest.core.ids import check_investigation_id, check_version
from perfinvest.core.models import Investigation, Run


def _investigation(ctx: AppContext, investigation_id: str | None) -> Investigation:
    store = ctx.store
    if investigation_id is None:
        return store.load_active()
    check_investigation_id(investigation_id)
    if store.has_active():
        active = store.load_active()
        if active.id == investigation_id:
            return active
    return store.load_inactive(investigation_id)


def _float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _latencies(path: Path, investigation: str, run_id: str, profile: str) -> list[LatencyRow]:
    """A load run's ``latency.csv`` (core/load/results.py writes it) as rows."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError:
        return []
    out = []
    for row in rows:
        try:
            out.append(
                LatencyRow(
                    investigation=investigation,
                    run_id=run_id,
                    profile=profile,
                    second=int(row["second"]),
                    route=row["route"],
                    users=int(row["users"]) if row["users"] else None,
                    requests=int(row["requests"]),
                    failures=int(row["failures"]),
                    p50_ms=_float(row["p50_ms"]),
                    p95_ms=_float(row["p95_ms"]),
                    p99_ms=_float(row["p99_ms"]),
                    max_ms=_float(row["max_ms"]),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue  # a torn or foreign row: the run's own numbers stay in runs.csv
    return out


def _load_runs(
    ctx: AppContext, inv: Investigation, notes: list[str]
) -> tuple[list[ExportRun], list[LatencyRow]]:
    """Each ``load-<profile>-<time>/result.json`` under the investigation's artifacts."""
    root = ctx.paths.artifacts(inv.id)
    runs: list[ExportRun] = []
    latencies: list[LatencyRow] = []
    for path in sorted(root.glob("load-*/result.json")) if root.is_dir() else []:
        relative = ctx.paths.relative(path)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            run = Run.model_validate(document["run"])
            profile = str(document.get("profile", ""))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            notes.append(f"{relative} skipped: not a readable load result ({type(exc).__name__})")
            continue
        version, experiment = _measured(document, inv)
        runs.append(
            ExportRun(
                investigation=inv.id,
                version=version,
                phase="load",
                run=run,
                source=relative,
                profile=profile,
                experiment=experiment,
            )
        )
        latencies += _latencies(path.parent / "latency.csv", inv.id, run.run_id, profile)
    return runs, latencies


def _measured(document: dict[str, object], inv: Investigation) -> tuple[str, str]:
    """The version a load result says it measured and the experiment open then
    (app/load/record.py writes both); a result written before that: the setup version."""
    version = document.get("version")
    experiment = document.get("experiment")
    return (
        version if isinstance(version, str) and version else inv.setup.version,
        str(experiment) if isinstance(experiment, int) and not isinstance(experiment, bool) else "",
    )


def _experiment_runs(ctx: AppContext, inv: Investigation, notes: list[str]) -> list[ExportRun]:
    """Both sides of every measured experiment (``experiment-<n>/runs.json``)."""
    from perfinvest.store.experiment_runs import SIDES, read_experiment_runs

    runs: list[ExportRun] = []
    for exp in inv.experiments:
        if exp.runs is None:
            continue
        path = ctx.paths.perf_dir / exp.runs.path
        try:
            sides = list(zip(SIDES, read_experiment_runs(path), strict=True))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            notes.append(f"{exp.runs.path} skipped: not readable runs ({type(exc).__name__})")
            continue
        runs += [
            ExportRun(
                investigation=inv.id,
                version=inv.setup.version,
                phase="experiment",
                run=run,
                source=exp.runs.path,
                experiment=str(exp.number),
                side=side,
            )
            for side, side_runs in sides
            for run in side_runs
        ]
    return runs


def gather(
    ctx: AppContext, investigation_id: str | None = None, version: str | None = None
) -> ExportData:
    """The results of one investigation (the active one by default), or of every
    baseline of ``version`` when only a version is given; both: that investigation's
    baselines of that version. Refuses (exit 4) an unknown id and nothing measured yet."""
    if version is not None:
        check_version(version)
    inv = None
    if investigation_id is not None or version is None:
        inv = _investigation(ctx, investigation_id)
    return collect(ctx, inv, version)


def collect(ctx: AppContext, inv: Investigation | None, version: str | None = None) -> ExportData:
    """:func:`gather` once the investigation is loaded (the report's bundle has it already)."""
    from perfinvest.store.history import read_history

    history = read_history(ctx.paths)
    notes = list(history.unreadable)
    ref = inv.baseline.path if inv is not None and inv.baseline is not None else None
    baselines = [
        ExportBaseline(k.baseline, k.relative, k.archived)
        for k in history.entries
        if (inv is None or k.baseline.investigation_id == inv.id or k.relative == ref)
        and (version is None or k.baseline.version == version)
    ]
    runs = [er for kept in baselines for er in baseline_runs(kept)]
    latencies: list[LatencyRow] = []
    searches: list[ExportBreakingPoint] = []
    limited: list[ExportConstraint] = []
    if inv is not None:
        load, latencies = _load_runs(ctx, inv, notes)
        if version is not None:  # a load run says which version it measured
            load = [r for r in load if r.version == version]
            kept_ids = {r.run.run_id for r in load}
            latencies = [row for row in latencies if row.run_id in kept_ids]
        if version in (None, inv.setup.version):
            from perfinvest.app.export.phases import breaking_points, constraints

            runs += _experiment_runs(ctx, inv, notes)
            current = next((k for k in baselines if k.source == ref), None)
            searches = breaking_points(ctx, inv, current, notes)
            limited = constraints(ctx, inv, current)
        runs += load
    label = inv.id if inv is not None else f"version {version}"
    if not runs:
        raise refused(_nothing(label, inv, version), needs=["perfinvest baseline"])
    data = ExportData(label, baselines, runs, latencies, notes, searches, limited)
    if inv is None:
        return data
    last = inv.last_phase()
    return replace(
        data,
        phase=last.value if last is not None else None,
        status=inv.status,
        baseline=inv.baseline.version if inv.baseline is not None else None,
    )


def _nothing(label: str, inv: Investigation | None, version: str | None) -> str:
    if inv is None:
        return (
            f"no baseline of version {version!r} in the history (current or archived); "
            "build one with `perfinvest baseline`"
        )
    of_version = f" of version {version!r}" if version is not None else ""
    return (
        f"investigation {label} has no runs{of_version} yet (no baseline, experiment or load "
        "run): nothing to export; measure first with `perfinvest baseline` or `perfinvest load "
        "run`"
    )
