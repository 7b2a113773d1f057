"""The phase machine's rules, on in-memory investigations (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from perfinvest.core import machine
from perfinvest.core.errors import ExitCode, PerfError
from perfinvest.core.models import BaselineRef, HistoryEvidence, Investigation, MetricSpec, Setup
from perfinvest.core.phases import PHASE_ORDER, Phase

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def new_investigation() -> Investigation:
    setup = Setup(
        scenario="s",
        command=["true"],
        metric=MetricSpec(name="p95_ms", direction="lower"),
        success_criteria=["fast"],
        version="v1",
    )
    inv = Investigation(
        id="perf-20261123-120000-0123abcd", created_at=NOW, updated_at=NOW, setup=setup
    )
    machine.record_attempt(inv, Phase.SETUP, "completed", started_at=NOW, ended_at=NOW)
    return inv


def complete(inv: Investigation, phase: Phase) -> None:
    machine.record_attempt(inv, phase, "completed", started_at=NOW, ended_at=NOW)


def test_phases_are_ten_in_the_documented_order() -> None:
    assert [p.value for p in PHASE_ORDER] == [
        "setup",
        "baseline",
        "breaking-point",
        "constraints",
        "hypotheses",
        "code-paths",
        "profiling",
        "optimization",
        "decision",
        "consolidation",
    ]
    assert Phase.PROFILING.number == 7


def test_every_phase_after_setup_needs_its_predecessors() -> None:
    inv = new_investigation()
    for phase in PHASE_ORDER[2:]:
        missing = machine.missing_for(inv, phase)
        assert any("phase 2 baseline" in m for m in missing), phase


def test_phase_specific_preconditions() -> None:
    inv = new_investigation()
    complete(inv, Phase.BASELINE)  # completed, but no baseline recorded
    assert any("a baseline" in m for m in machine.missing_for(inv, Phase.BREAKING_POINT))
    inv.baseline = BaselineRef(version="v0", path="baselines/v0.json", created_at=NOW)
    assert machine.missing_for(inv, Phase.BREAKING_POINT) == []
    for phase in (Phase.BREAKING_POINT, Phase.CONSTRAINTS):
        complete(inv, phase)
    assert any("rule 8" in m for m in machine.missing_for(inv, Phase.HYPOTHESES))
    assert machine.missing_for(inv, Phase.HYPOTHESES, step_exempt=True) == []
    inv.history = HistoryEvidence(gathered_at=NOW)
    assert machine.missing_for(inv, Phase.HYPOTHESES) == []
    for phase in (Phase.HYPOTHESES, Phase.CODE_PATHS, Phase.PROFILING):
        complete(inv, phase)
    # optimization needs the baseline of the *current* version
    assert any("current version 'v1'" in m for m in machine.missing_for(inv, Phase.OPTIMIZATION))
    inv.baseline = BaselineRef(version="v1", path="baselines/v1.json", created_at=NOW)
    assert machine.missing_for(inv, Phase.OPTIMIZATION) == []


def test_refusal_carries_exit_code_and_needs() -> None:
    inv = new_investigation()
    with pytest.raises(PerfError) as caught:
        machine.require_runnable(inv, Phase.DECISION)
    assert caught.value.code == ExitCode.REFUSED
    assert len(caught.value.needs) == 7  # phases 2..8 are not done
    # each names the command that starts it, steps included
    assert "`perfinvest hypotheses gather`" in caught.value.needs[3]
    assert "`perfinvest experiment start`" in caught.value.needs[6]


def test_skips_need_a_reason_and_setup_cannot_be_skipped() -> None:
    inv = new_investigation()
    with pytest.raises(PerfError) as caught:
        machine.record_attempt(inv, Phase.BASELINE, "skipped", started_at=NOW, ended_at=NOW)
    assert caught.value.code == ExitCode.USAGE
    with pytest.raises(PerfError):
        machine.require_skippable(inv, Phase.SETUP)
    machine.require_skippable(inv, Phase.BASELINE)
    machine.record_attempt(
        inv, Phase.BASELINE, "skipped", started_at=NOW, ended_at=NOW, skip_reason="later"
    )
    assert inv.is_done(Phase.BASELINE) and inv.next_phase() is Phase.BREAKING_POINT


def test_attempts_are_numbered_per_phase_and_progress_does_not_complete() -> None:
    inv = new_investigation()
    complete(inv, Phase.BASELINE)
    complete(inv, Phase.BASELINE)
    assert [a.attempt for a in inv.attempts_of(Phase.BASELINE)] == [1, 2]
    machine.record_attempt(inv, Phase.BREAKING_POINT, "progress", started_at=NOW, ended_at=NOW)
    assert not inv.is_done(Phase.BREAKING_POINT)


def test_consolidation_completes_and_then_everything_is_refused() -> None:
    inv = new_investigation()
    for phase in PHASE_ORDER[1:]:
        complete(inv, phase)
    assert inv.status == "complete" and inv.next_phase() is None
    with pytest.raises(PerfError, match="complete"):
        machine.require_runnable(inv, Phase.BASELINE)


def test_loaded_attempt_numbering_is_validated() -> None:
    inv = new_investigation()
    data = inv.model_dump(mode="json")
    data["attempts"][0]["attempt"] = 3
    with pytest.raises(ValueError, match="should be 1"):
        Investigation.model_validate(data)
