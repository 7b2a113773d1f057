"""What follows a state write must not turn a recorded change into a failed answer.

Once the state is saved, the change *is* recorded: an agent told ``ok: false`` would retry
and record it twice (issue 23 item 6). The reviewer's log and the checkpoint come after
the save; when one of them fails (a full disk), the command still answers ok, with the
failed step named in ``findings``:

- the log: the next command that takes the state lock writes the missing sections again
  from the state (``StateStore.repair_log``), so nothing is lost;
- the checkpoint: a failed checkpoint is a skip (docs/checkpoints.md); ``status`` lists
  the state files it left uncommitted and the next checkpoint includes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from perfinvest.app.context import AppContext
from perfinvest.core.errors import PerfError


def append_log_soft(
    ctx: AppContext, investigation_id: str, header: str, sections: Sequence[str]
) -> tuple[Path, list[str]]:
    """Append ``sections`` to the log; a failure becomes a finding (see the module doc)."""
    store = ctx.store
    path = ctx.paths.log(investigation_id)
    for section in sections:
        try:
            path = store.append_log(investigation_id, header, section)
        except PerfError as error:
            reason = error.message.split(";")[0]
            return path, [
                f"the reviewer's log was not appended ({reason}); the state is recorded and "
                "the next command writes the missing section from it"
            ]
    return path, []
