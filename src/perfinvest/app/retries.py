"""A phase run again with the same input records nothing new (issue 23 item 6).

An agent that did not get its answer (a lost connection, a killed terminal, an error after
the state was written) runs the command again. When the work changed nothing in the state
and would record an attempt identical to the investigation's last one (same phase, outcome,
summary, evidence, decision, quote, skip reason), it is that attempt again: the answer
names it and nothing is added. The checkpoint is still made, so a retry after a failed
checkpoint completes it. A measurement run again is new data, never a retry.
"""

from __future__ import annotations

import json

from perfinvest.core.models import Investigation, PhaseAttempt
from perfinvest.core.phases import Phase

#: What a phase attempt adds besides its own work's record.
_BOOKKEEPING = {"attempts", "events", "updated_at"}


def state_fingerprint(inv: Investigation) -> str:
    """The investigation without its bookkeeping: equal before and after a no-op work."""
    return json.dumps(inv.model_dump(mode="json", exclude=_BOOKKEEPING), sort_keys=True)


def retried_attempt(
    inv: Investigation,
    phase: Phase,
    *,
    before: str | None,
    outcome: str,
    summary: str,
    evidence: list[str],
    decision: str | None,
    quote: str | None,
    skip_reason: str | None,
) -> PhaseAttempt | None:
    """The last attempt when this one would repeat it exactly on an unchanged state."""
    if before is None or not inv.attempts:
        return None
    last = inv.attempts[-1]
    same = (
        last.phase == phase
        and last.outcome == outcome
        and last.summary == summary
        and list(last.evidence) == list(evidence)
        and last.decision == decision
        and last.quote == quote
        and last.skip_reason == skip_reason
    )
    if not same or state_fingerprint(inv) != before:
        return None
    return last
