"""Rule 10: every state change ends in a checkpoint of the perf files and nothing else.

:func:`checkpoint` is the phase's commit (``perf(<id>): <phase>``);
:func:`checkpoint_change` is the same commit for any other change of the state (start,
resume, an applied experiment...), so no command leaves state files modified or untracked.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from perfinvest.adapters.git.checkpoint import CheckpointResult, checkpoint_commit, uncommitted
from perfinvest.app.context import AppContext
from perfinvest.core.errors import PerfError
from perfinvest.core.models import Investigation
from perfinvest.core.phases import Phase
from perfinvest.store.atomic import atomic_write_text

#: Artifacts above this size stay out of checkpoint commits (profiles, raw dumps).
SMALL_ARTIFACT_BYTES = 1024 * 1024
#: An investigation's archived state or log in ``investigations/``.
_ARCHIVED = re.compile(r"perf-[0-9]{8}-[0-9]{6}-[0-9a-f]{8}\.(json|md)")


def perf_files(ctx: AppContext, inv: Investigation) -> list[Path]:
    """This investigation's state, log, baselines and small artifacts that exist on disk,
    and the other investigations' archived state and logs (a start or resume archives
    one; unchanged ones add nothing to the commit)."""
    paths = ctx.paths
    candidates = [paths.gitignore, paths.active, paths.inactive(inv.id), paths.log(inv.id)]
    folder = paths.investigations_dir
    if folder.is_dir():
        candidates.extend(sorted(p for p in folder.iterdir() if _ARCHIVED.fullmatch(p.name)))
    if inv.baseline is not None:
        current = paths.baseline(inv.baseline.version)
        candidates.append(current)
        archive = paths.baseline_archive_dir
        if archive.is_dir():  # the history a new baseline archived (never destroyed)
            own = re.compile(re.escape(current.stem) + r"\.\d{8}T\d{12}Z\.json")
            candidates.extend(sorted(p for p in archive.iterdir() if own.fullmatch(p.name)))
    files = [p for p in candidates if p.is_file()]
    if paths.active in files and _active_id(ctx) != inv.id:
        files.remove(paths.active)
    artifacts = paths.artifacts(inv.id)
    if artifacts.is_dir():
        small: list[Path] = []
        large: list[Path] = []
        for path in sorted(artifacts.rglob("*")):
            if path.is_file() and path.name != ".gitignore":
                (small if path.stat().st_size <= SMALL_ARTIFACT_BYTES else large).append(path)
        ignore = _ignore_large_artifacts(artifacts, large)
        files.extend([*small, *([ignore] if ignore else [])])
    return files


def _ignore_large_artifacts(folder: Path, large: list[Path]) -> Path | None:
    """Keep artifacts over 1 MiB out of ``git status`` too: list them in the folder's
    own ``.gitignore`` (our folder, our file), which the checkpoint commits."""
    ignore = folder / ".gitignore"
    if not large:
        return ignore if ignore.is_file() else None
    text = "# artifacts over 1 MiB stay out of git (perfinvest)\n" + "".join(
        f"{entry}\n" for p in large if (entry := gitignore_entry(p.relative_to(folder)))
    )
    if not ignore.is_file() or ignore.read_text(encoding="utf-8") != text:
        atomic_write_text(ignore, text)
    return ignore


def gitignore_entry(relative: Path) -> str | None:
    """``relative`` as a ``.gitignore`` line matching exactly that file: glob characters,
    a backslash and trailing spaces escaped, anchored with ``/`` (so ``#x`` and ``!x`` are
    names, not a comment or a negation). A name with a newline cannot be written as a
    line: None."""
    text = relative.as_posix()
    if "\n" in text or "\r" in text:
        return None
    escaped = re.sub(r"([\\*?\[\]])", r"\\\1", text)
    stripped = escaped.rstrip(" ")
    escaped = stripped + "\\ " * (len(escaped) - len(stripped))
    return f"/{escaped}"


def _active_id(ctx: AppContext) -> str | None:
    try:
        return ctx.store.load_active().id
    except Exception:  # an unreadable active file is reported elsewhere, not committed here
        return None


def checkpoint(
    ctx: AppContext, inv: Investigation, phase: Phase, delta: str | None = None
) -> CheckpointResult:
    """The phase's commit, ``perf(<id>): <phase>``, or why none was made."""
    return checkpoint_change(ctx, inv, phase.value, phase=phase, delta=delta)


def checkpoint_change(
    ctx: AppContext,
    inv: Investigation,
    change: str,
    *,
    phase: Phase | None = None,
    delta: str | None = None,
    moved_away: tuple[Path, ...] = (),
) -> CheckpointResult:
    """Commit a change of ``inv``'s state as ``perf(<id>): <change>``, or say why not.

    For any command that changes state outside a phase attempt (``experiment apply``,
    ``resume``...): call it under the state lock after the state is written. ``phase``
    (the ``Perf-Phase`` trailer) defaults to the phase of the latest attempt. Skips
    (disabled, outside git, state outside the repository, the git policy) come back
    with a reason, never as an error.
    """
    if not ctx.checkpoint:
        return CheckpointResult(False, None, "disabled with --no-checkpoint", ())
    if not ctx.in_git_repo:
        return CheckpointResult(False, None, f"{ctx.repo_root} is not a git repository", ())
    try:
        ctx.paths.perf_dir.resolve().relative_to(ctx.repo_root.resolve())
    except ValueError:
        return CheckpointResult(
            False, None, f"state folder {ctx.paths.state_dir} is outside the repository", ()
        )
    if phase is None:
        phase = inv.attempts[-1].phase if inv.attempts else Phase.SETUP
    trailers = {
        "Perf-Phase": phase.value,
        "Perf-Baseline": inv.baseline.version if inv.baseline else "n/a",
        "Perf-Delta": delta or "n/a",
    }
    try:
        return checkpoint_commit(
            ctx.repo_root,
            perf_files(ctx, inv),
            f"perf({inv.id}): {change}",
            trailers,
            moved_away,
            state_key=str(ctx.paths.perf_dir.resolve()),
        )
    except (PerfError, OSError) as error:
        # The state is written already: a failed checkpoint is a skip (docs/checkpoints.md),
        # never a failed command an agent would retry (and so record twice).
        reason = error.message if isinstance(error, PerfError) else str(error)
        reason = f"failed: {reason.splitlines()[0]}"
        note = f"skipped, it {reason}; the state is recorded and the next checkpoint commits it"
        return CheckpointResult(False, None, reason, (), notes=(note,))


def pending_state_files(ctx: AppContext) -> list[str]:
    """State files not as last checkpointed (``git status`` lines): what ``status`` lists
    as pending when a checkpoint was skipped or killed; empty outside git."""
    if not ctx.in_git_repo or not ctx.paths.perf_dir.is_dir():
        return []
    return uncommitted(ctx.repo_root, ctx.paths.perf_dir)


def checkpoint_data(result: CheckpointResult) -> dict[str, Any]:
    """The checkpoint as reported under ``data.checkpoint``."""
    return {
        "committed": result.committed,
        "sha": result.sha,
        "reason": result.reason,
        "files": list(result.files),
        "notes": list(result.notes),
        "signed": result.signed,
    }


def checkpoint_findings(result: CheckpointResult) -> list[str]:
    """The checkpoint's notes (a repaired kill, the hooks policy) as answer findings."""
    return [f"checkpoint: {note}" for note in result.notes]
