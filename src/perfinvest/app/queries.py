"""Read-mostly use cases: status, list, log, and resume (which swaps the active one)."""

from __future__ import annotations

from perfinvest.app.answers import base_result
from perfinvest.app.context import AppContext
from perfinvest.app.result import CommandResult
from perfinvest.core.errors import PerfError, usage_error
from perfinvest.core.ids import ID_PATTERN, check_investigation_id
from perfinvest.core.models import Investigation
from perfinvest.core.phases import PHASE_ORDER


def _phase_table(inv: Investigation) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for phase in PHASE_ORDER:
        attempts = inv.attempts_of(phase)
        rows.append(
            {
                "number": phase.number,
                "phase": phase.value,
                "done": inv.is_done(phase),
                "attempts": len(attempts),
                "last_outcome": attempts[-1].outcome if attempts else None,
                "last_summary": attempts[-1].summary if attempts else None,
            }
        )
    return rows


def describe(command: str, inv: Investigation) -> CommandResult:
    """The full picture of one investigation, as status and resume report it."""
    last = inv.last_phase()
    result = base_result(command, inv, last)
    setup = inv.setup
    result.findings = [a.summary for a in inv.attempts[-3:] if a.summary]
    non_compliant = sum(1 for a in inv.attempts if a.non_compliant)
    if setup.short_run_policy is not None:
        result.findings.append(
            f"short-run policy in force ({setup.short_run_policy.reason}): "
            f"{non_compliant} non-compliant attempt(s)"
        )
    result.data.update(
        {
            "scenario": setup.scenario,
            "command": setup.command,
            "shell": setup.shell,
            "metric": setup.metric.model_dump(),
            "success_criteria": setup.success_criteria,
            "version": setup.version,
            "mode": setup.mode,
            "created_at": inv.created_at.isoformat(),
            "updated_at": inv.updated_at.isoformat(),
            "phases": _phase_table(inv),
            "hypotheses": len(inv.hypotheses),
            "experiments": len(inv.experiments),
            "non_compliant_attempts": non_compliant,
        }
    )
    return result


def status_of(ctx: AppContext, inv: Investigation) -> CommandResult:
    result = describe("status", inv)
    result.data["state"] = str(ctx.paths.active)
    result.data["log"] = str(ctx.paths.log(inv.id))
    return result


def remember_status(ctx: AppContext, inv: Investigation) -> None:
    """After a save (state lock held): store the status answer for the fast path."""
    from perfinvest.app.status_cache import store_status

    store_status(ctx, status_of(ctx, inv).to_json_dict())


def status(ctx: AppContext) -> CommandResult:
    """The active investigation's status, validated, and remembered for the fast path."""
    store = ctx.store
    with store.locked():
        inv = store.load_active()
        result = status_of(ctx, inv)
        remember_status(ctx, inv)
    return result


def list_investigations(ctx: AppContext) -> CommandResult:
    rows = []
    for item in ctx.store.list_all():
        inv = item.investigation
        next_phase = inv.next_phase() if inv else None
        rows.append(
            {
                "id": item.id,
                "active": item.active,
                "status": inv.status if inv else "unreadable",
                "scenario": inv.setup.scenario if inv else None,
                "version": inv.setup.version if inv else None,
                "next": next_phase.value
                if next_phase and inv and inv.status != "complete"
                else None,
                "updated_at": inv.updated_at.isoformat() if inv else None,
                "problem": item.problem,
                "path": str(item.path),
            }
        )
    active = next((r for r in rows if r["active"]), None)
    result = CommandResult(
        command="list",
        investigation=str(active["id"]) if active else None,
        status=str(active["status"]) if active else "in_progress",
        findings=[f"{len(rows)} investigation(s) in {ctx.paths.perf_dir}"],
    )
    result.data["investigations"] = rows
    return result


#: The shape of an id, one class per character: a prefix must follow it that far.
_ID_SHAPE = "perf-" + "d" * 8 + "-" + "d" * 6 + "-" + "h" * 8
_SHAPE_CLASSES = {"d": "0123456789", "h": "0123456789abcdef"}


def _is_id_prefix(value: str) -> bool:
    if not 0 < len(value) < len(_ID_SHAPE):
        return False
    shapes = _ID_SHAPE[: len(value)]
    return all(c in _SHAPE_CLASSES.get(s, s) for c, s in zip(value, shapes, strict=True))


def resolve_id(ctx: AppContext, given: str) -> str:
    """A full id as given, or the one id that starts with ``given`` (a unique prefix).

    Nothing that is not the start of a well-formed id is looked up (exit 2); no match is
    an unknown investigation (exit 4); several are listed so the user can pick (exit 2).
    """
    if ID_PATTERN.match(given) or not _is_id_prefix(given):
        return check_investigation_id(given)
    matches = [i for i in ctx.store.known_ids() if i.startswith(given)]
    if not matches:
        raise PerfError(
            f"unknown investigation {given}: no investigation id starts with it in "
            f"{ctx.paths.perf_dir}; see `perfinvest list`",
            kind="not_found",
        )
    if len(matches) > 1:
        raise usage_error(
            f"ambiguous investigation id prefix {given!r}: {len(matches)} ids start with it "
            f"({', '.join(matches)}); give more of the id"
        )
    return matches[0]


def resume(ctx: AppContext, investigation_id: str) -> CommandResult:
    """Make ``investigation_id`` (or the one id it is a unique prefix of) active again; the
    currently active one is archived first, and the swap ends in a checkpoint."""
    from perfinvest.app.checkpoint import checkpoint_change, checkpoint_data, checkpoint_findings

    investigation_id = resolve_id(ctx, investigation_id)
    store = ctx.store
    with store.locked():
        swapped = False
        active = store.load_active() if store.has_active() else None  # read once
        if active is not None and active.id == investigation_id:
            inv = active
            archived = None
        else:
            swapped = True
            inv = store.load_inactive(investigation_id)
            archived = store.archive_active(active) if active is not None else None
            store.activate(inv)
        remember_status(ctx, inv)
        # issue 10: the swap changed state files; it ends in a checkpoint like any change
        committed = (  # the archived copy became the active file: commit the move
            checkpoint_change(ctx, inv, "resume", moved_away=(ctx.paths.inactive(inv.id),))
            if swapped
            else None
        )
    result = describe("resume", inv)
    if archived is not None:
        result.findings.insert(0, f"archived the previously active investigation {archived.id}")
    result.findings.insert(0, f"resumed {inv.id}")
    result.data["archived"] = archived.id if archived else None
    if committed is not None:
        result.data["checkpoint"] = checkpoint_data(committed)
        result.findings.extend(checkpoint_findings(committed))
    return result


def log(ctx: AppContext, investigation_id: str | None) -> CommandResult:
    """The log as written, after giving it any section a killed command never appended."""
    store = ctx.store
    wanted = None if investigation_id is None else check_investigation_id(investigation_id)
    # refuse an absent investigation before the lock would create a state folder
    store.load_active() if wanted is None else _load_any(ctx, wanted)
    with store.locked():  # loading the active investigation repairs its log
        inv = store.load_active() if wanted is None else _load_any(ctx, wanted)
        repaired = store.repair_log(inv) if wanted is not None else None
        repaired = repaired or store.repaired
        text = store.read_log(inv.id)
    result = describe("log", inv)
    if repaired is not None:
        result.findings.insert(0, f"log repaired: it lacked sections the state holds ({repaired})")
    result.data["path"] = str(ctx.paths.log(inv.id))
    result.data["markdown"] = text
    return result


def _load_any(ctx: AppContext, investigation_id: str) -> Investigation:
    store = ctx.store
    if store.has_active():
        active = store.load_active()
        if active.id == investigation_id:
            return active
    return store.load_inactive(investigation_id)
