"""Git plumbing for the tree's protection: run, decode, name paths raw."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from perfinvest.core.errors import environment_error

_IDENTITY = ("-c", "user.name=perfinvest", "-c", "user.email=perfinvest@localhost")
WORKTREE_PREFIX = "perfinvest-baseline-"
SNAPSHOT_REF_PREFIX = "refs/perfinvest/snapshots/"


# --------------------------------------------------------------------------- git plumbing


def _run(
    repo: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", "-C", str(repo), *args],
            check=False,
            capture_output=True,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            env={**os.environ, **env} if env is not None else None,
        )
    except FileNotFoundError:
        raise environment_error("git is not installed: experiments need git") from None


def _git(
    repo: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
) -> bytes:
    proc = _run(repo, *args, env=env, stdin=stdin)
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = lines[0] if lines else f"exit status {proc.returncode}"
        command = next((a for a in args if not a.startswith("-") and "=" not in a), "")
        raise environment_error(f"git {command} failed: {detail}")
    return proc.stdout


def _text(repo: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    return _git(repo, *args, env=env).decode("utf-8", "surrogateescape").strip()


def _zsplit(data: bytes) -> list[str]:
    return [p.decode("utf-8", "surrogateescape") for p in data.split(b"\0") if p]


def _fs(path: str) -> bytes:
    return path.encode("utf-8", "surrogateescape")


def _few(paths: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(paths[:limit])
    return shown + (f" (+{len(paths) - limit} more)" if len(paths) > limit else "")


@contextlib.contextmanager
def os_errors_as_environment(what: str) -> Iterator[None]:
    """An ``OSError`` (a full disk, a read-only folder) while ``what`` becomes exit 7 with
    the file and the reason in one line, never a traceback (exit 1)."""
    try:
        yield
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise environment_error(
            f"cannot {what}: {where}{exc.strerror or exc}; free some space (or make the "
            "state folder writable) and run it again: your files are untouched"
        ) from None
