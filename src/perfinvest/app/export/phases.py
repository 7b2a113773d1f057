"""What the exports read of phases 3 and 4: breaking-point searches and constrained runs.

Read-only. Each search is kept in ``artifacts/<id>/breaking-point-<time>.json``; the state
holds the last one, so every other file is a superseded search (the same rule as the
report, app/report.py). Constrained configurations are in the state, in the order they
were measured; one measured again later is superseded. Neither records a fingerprint:
both are exported with their investigation's baseline's (core/export/phase_data.py).
"""

from __future__ import annotations

from datetime import datetime

from perfinvest.app.context import AppContext
from perfinvest.core.export.data import ExportBaseline
from perfinvest.core.export.phase_data import (
    ExportBreakingPoint,
    ExportConstraint,
    constraint_time,
    search_time,
    superseded_constraints,
)
from perfinvest.core.models import (
    EnvironmentFingerprint,
    Investigation,
)
from perfinvest.core.phases import Phase


def _fingerprint(baseline: ExportBaseline | None) -> tuple[EnvironmentFingerprint, str]:
    if baseline is None:
        return EnvironmentFingerprint(), ""
    return baseline.baseline.environment, baseline.config_hash


def _phase_end(inv: Investigation, phase: Phase) -> datetime:
    """The end of the phase's last completed attempt (the state's time without one)."""
    ends = [a.ended_at for a in inv.attempts_of(phase) if a.outcome == "completed"]
    return ends[-1] if ends else inv.updated_at


def _state_file(ctx: AppContext, inv: Investigation) -> str:
    store = ctx.store
    active = store.has_active() and store.load_active().id == inv.id
    return ctx.paths.relative(ctx.paths.active if active else ctx.paths.inactive(inv.id))


def breaking_points(
    ctx: AppContext, inv: Investigation, baseline: ExportBaseline | None, notes: list[str]
) -> list[ExportBreakingPoint]:
    """Every search of the investigation, oldest first; all but the state's superseded."""
    from perfinvest.store.searches import read_searches

    kept, unreadable = read_searches(ctx.paths.artifacts(inv.id))
    notes.extend(
        f"{ctx.paths.relative(path)} skipped: not a readable search ({type(exc).__name__})"
        for path, exc in unreadable
    )
    found = [(ctx.paths.relative(path), result) for path, result in kept]
    current = inv.breaking_point
    matches = [i for i, (_, result) in enumerate(found) if result == current]
    if current is not None and not matches:  # a state without its file: the state's own
        found.append((_state_file(ctx, inv), current))
        matches = [len(found) - 1]
    env, config = _fingerprint(baseline)
    fallback = _phase_end(inv, Phase.BREAKING_POINT)
    return [
        ExportBreakingPoint(
            investigation=inv.id,
            version=inv.setup.version,
            source=source,
            result=result,
            superseded=not matches or i != matches[-1],
            at=search_time(source) or fallback,
            environment=env,
            config_hash=config,
        )
        for i, (source, result) in enumerate(found)
    ]


def constraints(
    ctx: AppContext, inv: Investigation, baseline: ExportBaseline | None
) -> list[ExportConstraint]:
    """Every constrained configuration of the investigation, in the order measured."""
    env, config = _fingerprint(baseline)
    source = _state_file(ctx, inv) if inv.constraints else ""
    fallback = _phase_end(inv, Phase.CONSTRAINTS)
    return [
        ExportConstraint(
            investigation=inv.id,
            version=inv.setup.version,
            source=source,
            number=number,
            result=record,
            superseded=old,
            at=constraint_time(record, fallback),
            environment=env,
            config_hash=config,
        )
        for number, (record, old) in enumerate(
            zip(inv.constraints, superseded_constraints(inv.constraints), strict=True), 1
        )
    ]
