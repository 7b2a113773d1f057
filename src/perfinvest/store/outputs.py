"""The one guard every user-given output path passes (``-o``, ``--report-dir``, ``ci init``...).

Two rules (issue 23):

- never inside the state folder: ``report -o .claude/perf/investigation.json`` would replace
  the state with HTML and every later command would exit 6;
- never over an existing file perfinvest did not write, unless ``--force``; then the old
  file is first copied to ``<perf>/artifacts/backups/<time>-<name>`` (git-ignored).

"perfinvest wrote it" is known from a per-user registry,
``${XDG_STATE_HOME:-~/.local/state}/perfinvest/outputs.json``: the absolute path and SHA-256
of every output written through :func:`write_output`. A file the user edited since no longer
matches its recorded digest and counts as the user's again. Per user, not in the perf
folder: its paths are this machine's, and ``ci init`` in a repository with no investigation
must not leave a ``.claude/`` folder behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from perfinvest.core.errors import PerfError, usage_error
from perfinvest.store.atomic import atomic_write_bytes, atomic_write_text
from perfinvest.store.locks import exclusive_lock
from perfinvest.store.paths import StatePaths

OUTPUTS_NAME = "outputs.json"
STATE_HOME_ENV = "XDG_STATE_HOME"
KIND = "perfinvest.outputs"
BACKUPS = "backups"
#: The registry keeps the newest this many outputs (oldest forgotten first).
MAX_RECORDED = 2000


@dataclass(frozen=True)
class OutputWrite:
    """What :func:`write_output` did: the file, and where the replaced file was kept."""

    path: Path
    backup: Path | None = None


def _absolute(path: Path) -> Path:
    path = path.expanduser()
    return path if path.is_absolute() else Path.cwd() / path


def _resolved(path: Path) -> Path:
    """The real location, symlinks of the path and its parents followed (strict=False)."""
    try:
        return _absolute(path).resolve()
    except (OSError, RuntimeError):
        return _absolute(path)


def _inside(path: Path, folder: Path) -> bool:
    real = _resolved(path)
    for root in {_absolute(folder), _resolved(folder)}:
        if real == root or root in real.parents:
            return True
        plain = _absolute(path)
        if plain == root or root in plain.parents:
            return True
    return False


def _digest(path: Path) -> str | None:
    try:
        sha = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                sha.update(block)
        return sha.hexdigest()
    except OSError:
        return None


def registry_file() -> Path:
    """``$XDG_STATE_HOME/perfinvest/outputs.json`` (the XDG default: ``~/.local/state``)."""
    home = os.environ.get(STATE_HOME_ENV) or str(Path("~/.local/state").expanduser())
    return Path(home) / "perfinvest" / OUTPUTS_NAME


def _read_registry() -> dict[str, str]:
    try:
        doc = json.loads(registry_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, dict):
        return {}
    return {str(k): str(v) for k, v in files.items() if isinstance(v, str)}


def _record(paths: StatePaths, path: Path, digest: str) -> None:
    """Remember that perfinvest wrote ``path`` with this content; best effort (a registry
    that cannot be written only means the next overwrite needs ``--force``). Under a lock:
    every perfinvest process of this user shares the file."""
    registry = registry_file()
    lock = registry.with_name(f".{OUTPUTS_NAME}.lock")
    with (
        contextlib.suppress(PerfError, OSError),
        exclusive_lock(lock, timeout_s=5.0, what="outputs registry"),
    ):
        files = _read_registry()
        key = str(_resolved(path))
        files.pop(key, None)
        files[key] = digest
        kept = dict(list(files.items())[-MAX_RECORDED:])
        text = json.dumps({"kind": KIND, "format_version": 1, "files": kept}, indent=1)
        atomic_write_text(registry, text + "\n")


def written_by_perfinvest(paths: StatePaths, path: Path) -> bool:
    """``path`` holds exactly what perfinvest last wrote there."""
    recorded = _read_registry().get(str(_resolved(path)))
    return recorded is not None and recorded == _digest(path)


def check_output(
    paths: StatePaths,
    path: Path,
    *,
    force: bool,
    what: str = "output",
    create_parents: bool = False,
    flag: str = "--force",
) -> Path:
    """Refuse (exit 2) a path inside the state folder, a folder, a missing parent folder
    (the writer creates it with ``create_parents``), or an existing file perfinvest did not write
    (unless ``force``). Returns the absolute path to write. Call it before the work, so a
    refusal costs nothing."""
    target = _absolute(path)
    if _inside(target, paths.perf_dir):
        raise usage_error(
            f"refusing to write the {what} to {target}: it is inside the state folder "
            f"{paths.perf_dir}, which only perfinvest writes; choose a path outside it"
        )
    if target.is_dir():
        raise usage_error(f"cannot write the {what} to {target}: it is a folder; give a file name")
    if not create_parents and not target.parent.is_dir():
        raise usage_error(
            f"cannot write the {what} to {target}: folder {target.parent} does not exist"
        )
    exists = target.exists() or target.is_symlink()
    if exists and not force and not written_by_perfinvest(paths, target):
        raise usage_error(
            f"refusing to overwrite {target}: perfinvest did not write it; choose another "
            f"path, or add {flag} (the old file is kept under <perf>/artifacts/backups/)"
        )
    return target


def check_output_dir(paths: StatePaths, folder: Path, what: str = "output folder") -> Path:
    """A user-given output folder: never inside the state folder (exit 2)."""
    target = _absolute(folder)
    if _inside(target, paths.perf_dir):
        raise usage_error(
            f"refusing to write the {what} to {target}: it is inside the state folder "
            f"{paths.perf_dir}, which only perfinvest writes; choose a folder outside it"
        )
    if target.exists() and not target.is_dir():
        raise usage_error(f"cannot write the {what} to {target}: it is a file, not a folder")
    return target


def _backup(paths: StatePaths, target: Path) -> Path:
    folder = paths.perf_dir / "artifacts" / BACKUPS
    try:
        folder.mkdir(parents=True, exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# written by perfinvest: backups stay local\n*\n", encoding="utf-8")
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        backup = folder / f"{stamp}-{target.name}"
        shutil.copy2(target, backup, follow_symlinks=False)
    except OSError as exc:
        raise usage_error(
            f"refusing to overwrite {target}: cannot keep a backup under {folder}: "
            f"{exc.strerror or exc}"
        ) from None
    return backup


def guard_output(
    paths: StatePaths,
    path: Path,
    *,
    force: bool,
    what: str = "output",
    create_parents: bool = False,
) -> OutputWrite:
    """:func:`check_output`, then keep a backup of a forced-over user file. The caller
    writes the file, then calls :func:`record_output`."""
    target = check_output(paths, path, force=force, what=what, create_parents=create_parents)
    backup: Path | None = None
    if (target.exists() or target.is_symlink()) and not written_by_perfinvest(paths, target):
        backup = _backup(paths, target)
        if target.is_symlink():
            with contextlib.suppress(OSError):
                target.unlink()  # write a file where the link was, never through it
    return OutputWrite(target, backup)


def record_output(paths: StatePaths, path: Path, data: bytes | str) -> None:
    """Remember that perfinvest wrote ``data`` to ``path`` (so it may overwrite it later)."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    _record(paths, path, hashlib.sha256(payload).hexdigest())


def write_output(
    paths: StatePaths,
    path: Path,
    data: bytes | str,
    *,
    force: bool,
    what: str = "output",
    create_parents: bool = False,
) -> OutputWrite:
    """Guard ``path`` (:func:`guard_output`), write atomically, and record the write.
    A write error is exit 2 naming the path."""
    guarded = guard_output(paths, path, force=force, what=what, create_parents=create_parents)
    target = guarded.path
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        if create_parents:
            target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, payload)
    except (PerfError, OSError) as error:
        reason = error.message if isinstance(error, PerfError) else str(error)
        reason = reason.split(": ", 1)[-1].split(";")[0]
        raise usage_error(f"cannot write the {what} to {target}: {reason}") from None
    _record(paths, target, hashlib.sha256(payload).hexdigest())
    return guarded


def write_outputs(
    paths: StatePaths,
    folder: Path,
    files: list[tuple[str, str]],
    *,
    force: bool,
    what: str = "report",
    flag: str = "--force",
) -> list[OutputWrite]:
    """Several files into a user-given folder (``diff --report-dir``): the folder and every
    file are checked before the first is written, so a refusal leaves all of them as they
    were."""
    target = check_output_dir(paths, folder, what=f"{what} folder")
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise usage_error(f"cannot write the {what} to {target}: {exc.strerror or exc}") from None
    for name, _ in files:
        check_output(paths, target / name, force=force, what=what, flag=flag)
    return [
        write_output(paths, target / name, text, force=force, what=what) for name, text in files
    ]
