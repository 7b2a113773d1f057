"""The experiment journal: written before any file is touched, removed once all is restored.

``<perf>/experiment-journal.json`` exists from ``experiment start`` until the experiment is
closed (measured and restored, or aborted). Its ``stage`` says what perfinvest was doing:

* ``starting``  the snapshot is being taken (nothing of the user's is touched yet);
* ``open``      the tree is recorded; the agent edits the code (no perfinvest process owns it);
* ``measuring`` ``experiment run`` measures (baseline-side worktree may exist); the change
  was captured (``change_manifest``) in the same write, so a recovery takes out only it;
* ``restoring`` the tree is being put back;
* ``restored``  the tree is back and verified; the record is being written;
* ``aborting``  ``experiment abort`` is putting the tree back (the change captured first).

Every stage but ``open`` belongs to a running process (``pid`` with its start time, so a
reused pid is not mistaken for the owner). Finding such a stage whose owner is gone means
a crash: every other command refuses until ``perfinvest recover`` has finished the job.

Plain JSON, no pydantic: the check runs before every command and must stay cheap.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from perfinvest.core.errors import state_error
from perfinvest.store.atomic import atomic_write_text

JOURNAL_NAME = "experiment-journal.json"
KIND = "perfinvest.experiment-journal"
FORMAT_VERSION = 1
STAGES = ("starting", "open", "measuring", "restoring", "restored", "aborting")
#: Stages owned by a running process; found with a dead owner they mean a crash.
BUSY_STAGES = frozenset(STAGES) - {"open"}


def journal_path(perf_dir: Path) -> Path:
    return perf_dir / JOURNAL_NAME


def process_start(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (field 22 of /proc/pid/stat), None if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = text.rsplit(")", 1)[-1].split()
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return fields[19]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Journal:
    """What an unfinished experiment needs for a recovery."""

    investigation: str
    experiment: int
    stage: str
    repo: str
    pid: int = field(default_factory=os.getpid)
    pid_start: str | None = None
    started_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)
    snapshot: dict[str, Any] | None = None
    snapshot_ref: str | None = None
    snapshot_store: str | None = None
    worktree: str | None = None
    patch: str | None = None  # perf-relative path of the change's patch, once captured
    #: the working tree as captured by ``run``/``abort`` (manifest file): recover puts back
    #: only what still holds this change, and keeps every other edit
    change_manifest: str | None = None
    changed: list[str] = field(default_factory=list)  # the paths the captured change touches
    files: list[str] = field(default_factory=list)
    perf_digest: dict[str, str] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise state_error(f"experiment journal: unknown stage {self.stage!r}")
        if self.pid_start is None:
            self.pid_start = process_start(self.pid)

    @property
    def busy(self) -> bool:
        return self.stage in BUSY_STAGES

    def owner_alive(self) -> bool:
        start = process_start(self.pid)
        return start is not None and start == self.pid_start

    def crashed(self) -> bool:
        """A busy stage whose owning process is gone: only ``recover`` may go on."""
        return self.busy and not self.owner_alive()

    def claim(self, stage: str) -> Journal:
        """This process now owns the journal at ``stage``."""
        if stage not in STAGES:
            raise state_error(f"experiment journal: unknown stage {stage!r}")
        self.stage = stage
        self.pid = os.getpid()
        self.pid_start = process_start(self.pid)
        self.updated_at = _now()
        self.history.append(f"{self.updated_at} {stage} (pid {self.pid})")
        return self

    def to_json(self) -> str:
        return json.dumps(
            {"kind": KIND, "format_version": FORMAT_VERSION, **asdict(self)}, indent=2
        )


def read_journal(perf_dir: Path) -> Journal | None:
    """The journal, None when there is none; a damaged one is a clear state error."""
    path = journal_path(perf_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise state_error(f"cannot read the experiment journal {path}: {exc}") from None
    try:
        raw = json.loads(text)
        if raw.pop("kind", None) != KIND:
            raise ValueError("not an experiment journal")
        version = raw.pop("format_version", None)
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise ValueError(f"format version {version!r} is not one this perfinvest reads")
        return Journal(**raw)
    except (ValueError, TypeError) as exc:
        raise state_error(
            f"the experiment journal {path} is damaged ({exc}); the recorded tree is kept under "
            "refs/perfinvest/snapshots/: inspect it, then delete the journal by hand"
        ) from None


def write_journal(perf_dir: Path, journal: Journal) -> None:
    """Atomic (temp, fsync, rename): a crash leaves the old journal or the new one."""
    journal.updated_at = _now()
    atomic_write_text(journal_path(perf_dir), journal.to_json() + "\n")


def remove_journal(perf_dir: Path) -> None:
    journal_path(perf_dir).unlink(missing_ok=True)
