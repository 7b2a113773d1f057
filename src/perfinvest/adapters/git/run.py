"""One way to run git for the checkpoint code: captured, UTF-8, never reading the terminal."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path


def run_git(
    repo: Path, *args: str, env: Mapping[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run git in ``repo``; never reads the terminal, so it can never hang on a prompt."""
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        check=False,
        capture_output=True,
        text=True,
        encoding="utf-8",
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        env=dict(env) if env is not None else None,
    )
