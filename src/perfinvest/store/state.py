"""The state folder: the active investigation, inactive ones, logs and baselines.

All read-modify-write goes through :meth:`StateStore.transaction`, under one lock, so two
processes never lose each other's update. Nothing is deleted: superseded data is archived.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from perfinvest.core.errors import PerfError, refused, state_error
from perfinvest.core.ids import ID_PATTERN, check_investigation_id, check_version
from perfinvest.core.models import Baseline, Investigation
from perfinvest.store.atomic import append_text, atomic_write_bytes, atomic_write_text
from perfinvest.store.documents import read_document, write_document
from perfinvest.store.locks import exclusive_lock
from perfinvest.store.paths import StatePaths

#: What never belongs in version control inside ``perf/``.
GITIGNORE_HEADER = "# written by perfinvest"
GITIGNORE = (
    f"{GITIGNORE_HEADER}: locks, temporary files, caches\n.*.lock\n.*.tmp\n.status-cache.json\n"
    "experiment-journal.json\n"
)
#: A temp file this old was left by a killed writer, not by a write in flight.
STALE_TEMP_S = 600.0


def read_investigation(path: Path) -> Investigation:
    """Read and validate an investigation, including the names that become file names.

    A hand-edited id or version would otherwise surface later as a usage error (exit 2)
    about an argument the user never gave; it is the file that is wrong (exit 6).
    """
    inv = read_document(path, Investigation)
    versions = [inv.setup.version] + ([inv.baseline.version] if inv.baseline else [])
    try:
        check_investigation_id(inv.id)
        for version in versions:
            check_version(version)
    except PerfError as exc:
        raise state_error(
            f"{path} is invalid: {exc.message.split(': expected')[0].split(': use')[0]}; "
            "fix or move the file aside (perfinvest never deletes state)"
        ) from None
    return inv


@dataclass(frozen=True)
class ListedInvestigation:
    id: str
    active: bool
    path: Path
    investigation: Investigation | None
    problem: str | None = None


class StateStore:
    """File-level operations on one state folder; knows nothing of phases or the CLI."""

    def __init__(self, paths: StatePaths) -> None:
        self.paths = paths
        #: Where the short log went when taking the lock last repaired the active one.
        self.repaired: Path | None = None
        #: Under the lock, until the active log is checked: done with the command's own load.
        self._repair_due = False

    # --- the active investigation -----------------------------------------------------

    def has_active(self) -> bool:
        return self.paths.active.exists()

    def load_active(self) -> Investigation:
        if not self.paths.active.exists():
            raise refused(
                "no active investigation in "
                f"{self.paths.perf_dir}; start one with `perfinvest start` "
                "or resume one with `perfinvest resume <id>`",
                needs=["an active investigation"],
            )
        due, self._repair_due = self._repair_due, False
        inv = read_investigation(self.paths.active)
        if due:  # the lock's log repair, on the state as the command found it
            self._repair_from(inv)
        return inv

    def save_active(self, inv: Investigation) -> None:
        self._settle_log()
        write_document(self.paths.active, inv)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the state lock; the active log is whole before anything new is written.

        The log repair needs the active investigation, which the command loads anyway: it
        is done on the command's first :meth:`load_active` (one read, not two), else before
        the first write of the state or the log, else when the lock is released.
        """
        with exclusive_lock(self.paths.lock):
            self._ensure_gitignore()
            self._sweep_stale_temp_files()
            self._repair_due = True
            try:
                yield
            finally:
                self._settle_log()

    def _settle_log(self) -> None:
        """The lock's log repair, if still due, on the active investigation as it is on disk."""
        if not self._repair_due:
            return
        self._repair_due = False
        if not self.paths.active.exists():
            return
        with contextlib.suppress(PerfError):
            self._repair_from(read_investigation(self.paths.active))

    def _repair_from(self, inv: Investigation) -> None:
        """Give the active investigation's log the sections a killed command never wrote.

        An unreadable state is left to the command to report (exit 6), never repaired here.
        """
        with contextlib.suppress(PerfError):
            self.repaired = self.repair_log(inv) or self.repaired

    def _ensure_gitignore(self) -> None:
        """Keep locks, temp files and caches out of ``git status`` (our folder, our file).

        A file we wrote earlier is brought up to date; one the user wrote is left alone.
        """
        path = self.paths.gitignore
        if path.exists():
            current = path.read_text(encoding="utf-8", errors="replace")
            if current == GITIGNORE or not current.startswith(GITIGNORE_HEADER):
                return
        atomic_write_text(path, GITIGNORE)

    def _sweep_stale_temp_files(self) -> None:
        """Remove temp files a killed writer left, once they are surely abandoned.

        Only ``.*.tmp`` files older than :data:`STALE_TEMP_S` go: a younger one may be
        another process's write in flight (``atomic_write_text`` outside this lock).
        """
        now = time.time()
        for folder in (
            self.paths.perf_dir,
            self.paths.investigations_dir,
            self.paths.baselines_dir,
        ):
            for stray in folder.glob(".*.tmp") if folder.is_dir() else ():
                with contextlib.suppress(OSError):
                    if now - stray.stat().st_mtime > STALE_TEMP_S:
                        stray.unlink()

    @contextmanager
    def transaction(self) -> Iterator[Investigation]:
        """Load the active investigation under the lock; save it if the block succeeds."""
        with self.locked():
            inv = self.load_active()
            yield inv
            self.save_active(inv)

    # --- inactive investigations ------------------------------------------------------

    def load_inactive(self, investigation_id: str) -> Investigation:
        path = self.paths.inactive(investigation_id)
        if not path.exists():
            raise PerfError(
                f"unknown investigation {investigation_id}: no {path.name} in "
                f"{self.paths.investigations_dir}; see `perfinvest list`",
                kind="not_found",
            )
        inv = read_investigation(path)
        if inv.id != investigation_id:
            raise state_error(f"{path} holds investigation {inv.id}, not {investigation_id}")
        return inv

    def archive_active(self, active: Investigation | None = None) -> Investigation | None:
        """Copy the active investigation to ``investigations/<id>.json``; caller holds the lock.

        ``active``: the caller's own load of it under this lock, so the file is read once."""
        if active is None:
            if not self.paths.active.exists():
                return None
            active = self.load_active()
        write_document(self.paths.inactive(active.id), active)
        return active

    def activate(self, inv: Investigation) -> None:
        """Make ``inv`` the active one; its inactive copy (if any) is retired after the write."""
        self.save_active(inv)
        inactive = self.paths.inactive(inv.id)
        if inactive.exists():
            inactive.unlink()

    def known_ids(self) -> list[str]:
        """Every well-formed id in the state folder (file names; the active one read)."""
        ids: set[str] = set()
        with contextlib.suppress(PerfError):
            if self.paths.active.exists():
                ids.add(self.load_active().id)
        directory = self.paths.investigations_dir
        for path in directory.glob("perf-*.json") if directory.is_dir() else ():
            if ID_PATTERN.match(path.stem):
                ids.add(path.stem)
        return sorted(ids, reverse=True)

    def list_all(self) -> list[ListedInvestigation]:
        """Every investigation, active first, then inactive by id (newest first)."""
        listed: list[ListedInvestigation] = []
        active_id: str | None = None
        if self.paths.active.exists():
            try:
                active = self.load_active()
                active_id = active.id
                listed.append(ListedInvestigation(active.id, True, self.paths.active, active))
            except PerfError as exc:
                listed.append(ListedInvestigation("?", True, self.paths.active, None, exc.message))
        directory = self.paths.investigations_dir
        files = sorted(directory.glob("perf-*.json"), reverse=True) if directory.is_dir() else []
        for path in files:
            investigation_id = path.stem
            if investigation_id == active_id:
                continue
            try:
                check_investigation_id(investigation_id)
                inv = read_investigation(path)
                listed.append(ListedInvestigation(inv.id, False, path, inv))
            except PerfError as exc:
                listed.append(ListedInvestigation(investigation_id, False, path, None, exc.message))
        return listed

    # --- the reviewer's log -----------------------------------------------------------

    def append_log(self, investigation_id: str, header: str, section: str) -> Path:
        """Append a section; a new log starts with the investigation's header."""
        self._settle_log()
        path = self.paths.log(investigation_id)
        append_text(path, "\n" + section if path.exists() else header + "\n" + section)
        return path

    def repair_log(self, inv: Investigation) -> Path | None:
        """Render the log again from state when it lacks a section; caller holds the lock.

        Commands save the state, then append the log: a process killed in between leaves
        the log short (or torn). Returns the log's path when it was rewritten, else
        ``None``. A short log that is not simply the start of the complete one (a section
        lost in the middle, an edit) is first kept under ``artifacts/<id>/``: nothing is
        deleted.
        """
        from perfinvest.core.report.logbook import missing_sections, render_log

        path = self.paths.log(inv.id)
        try:
            current = path.read_bytes()
        except FileNotFoundError:
            current = None
        except OSError:
            return None
        text = None if current is None else current.decode("utf-8", errors="replace")
        if text is not None and not missing_sections(inv, text):
            return None
        complete = render_log(inv)
        if current is not None and not complete.encode("utf-8").startswith(current):
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            kept = self.paths.artifacts(inv.id) / f"log-before-repair.{stamp}.md"
            atomic_write_bytes(kept, current)
        atomic_write_text(path, complete)
        return path

    def read_log(self, investigation_id: str) -> str:
        path = self.paths.log(investigation_id)
        if not path.exists():
            raise PerfError(f"no log for {investigation_id} at {path}", kind="not_found")
        return path.read_text(encoding="utf-8")

    # --- baselines --------------------------------------------------------------------

    def load_baseline(self, version: str) -> Baseline:
        path = self.paths.baseline(version)
        if not path.exists():
            raise refused(
                f"no baseline for version {version!r} ({path} does not exist); "
                "run `perfinvest baseline` for that version first"
            )
        return read_document(path, Baseline)

    def archived_baselines(self, version: str) -> list[tuple[str, Baseline]]:
        """Earlier baselines of ``version`` with their paths (relative to ``perf/``), oldest
        first; unreadable ones are skipped."""
        directory = self.paths.baseline_archive_dir
        name = self.paths.baseline(version).stem
        found = []
        for path in sorted(directory.glob(f"{name}.*.json")) if directory.is_dir() else []:
            try:
                document = read_document(path, Baseline)
            except PerfError:
                continue
            if document.version == version:
                found.append((self.paths.relative(path), document))
        return found

    def write_baseline(self, baseline: Baseline, now: datetime) -> Path:
        """Write ``baselines/<version>.json``; an existing one is archived, never destroyed."""
        path = self.paths.baseline(baseline.version)
        if path.exists():
            stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
            archived = self.paths.baseline_archive_dir / f"{path.stem}.{stamp}.json"
            atomic_write_text(archived, path.read_text(encoding="utf-8"))
            baseline = baseline.model_copy(update={"supersedes": self.paths.relative(archived)})
        write_document(path, baseline)
        return path
