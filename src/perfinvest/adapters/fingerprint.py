"""The environment fingerprint of a run, and rule 6's quiet-machine check."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from perfinvest.core.models import EnvironmentFingerprint


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git(repo: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return done.stdout if done.returncode == 0 else None


def git_state(repo: Path, exclude: Path | None = None) -> tuple[str | None, bool | None]:
    """HEAD's commit and whether tracked files differ from it (perf state excluded)."""
    commit = _git(repo, "rev-parse", "--verify", "-q", "HEAD")
    if commit is None:
        return None, None
    pathspec = ["--", "."]
    if exclude is not None:
        try:
            relative = exclude.resolve().relative_to(repo.resolve()).as_posix()
            pathspec.append(f":(exclude){relative}")
        except ValueError:
            pass
    status = _git(repo, "status", "--porcelain", "--untracked-files=no", *pathspec)
    return commit.strip(), bool(status and status.strip())


def checkout_workdir(cwd: Path) -> str:
    """The working directory as the configuration sees it: relative to the checkout that
    holds it (the nearest folder with ``.git``, a worktree's file included), ``.`` outside
    one. Two checkouts of one repository (CI folders, worktrees) give the same value."""
    resolved = cwd.resolve()
    for folder in (resolved, *resolved.parents):
        if (folder / ".git").exists():
            return resolved.relative_to(folder).as_posix()
    return "."


def config_hash(
    command: Sequence[str], mode: str, shell: bool, workdir: str, env: Mapping[str, str]
) -> str:
    """What makes two runs the same experiment setup, hashed (durations excluded).

    ``workdir`` is :func:`checkout_workdir`'s, never an absolute path: the same benchmark
    measured from two checkouts of one repository is the same setup. Files written by
    earlier versions hashed the absolute folder: they load as they are and compare with
    each other as before (docs/file-formats.md).
    """
    payload = json.dumps(
        {
            "command": list(command),
            "mode": mode,
            "shell": shell,
            "workdir": workdir,
            "env": dict(env),
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def capture(
    repo: Path,
    command: Sequence[str],
    env_overrides: Mapping[str, str],
    configuration: str,
    state_dir: Path | None = None,
    *,
    git: tuple[str | None, bool | None] | None = None,
    quiet: QuietCheck | None = None,
) -> EnvironmentFingerprint:
    """The fingerprint of a run; ``git`` reuses a state read once per measurement."""
    commit, dirty = git if git is not None else git_state(repo, state_dir)
    return EnvironmentFingerprint(
        host=platform.node(),
        cpu_model=_cpu_model(),
        cpu_count=os.cpu_count() or 0,
        kernel=platform.release(),
        python=platform.python_version(),
        load_avg_1m=quiet.load_avg_1m if quiet is not None else os.getloadavg()[0],
        busy_processes=list(quiet.busy) if quiet is not None else [],
        git_commit=commit,
        git_dirty=dirty,
        command=list(command),
        env_overrides=dict(env_overrides),
        config_hash=configuration,
    )


@dataclass(frozen=True)
class QuietCheck:
    """What rule 6 saw before a run: load and the processes busy on the CPU."""

    load_avg_1m: float
    cpu_count: int
    busy: tuple[str, ...]  # "name (pid) 87% CPU"

    @property
    def quiet(self) -> bool:
        return self.load_avg_1m <= max(1.0, 0.5 * self.cpu_count) and not self.busy

    def describe(self) -> str:
        text = f"load average {self.load_avg_1m:.2f} on {self.cpu_count} CPU(s)"
        if self.busy:
            text += "; busy: " + ", ".join(self.busy)
        return text


def check_quiet(
    interval_s: float = 0.2, busy_percent: float = 50.0, *, sample_processes: bool = True
) -> QuietCheck:
    """Sample other processes' CPU for ``interval_s``; list those above ``busy_percent``.

    Without ``sample_processes`` only the load average is read (no wait): between the
    runs of one measurement, where the first run's full check already named the busy.
    """
    if not sample_processes:
        return QuietCheck(os.getloadavg()[0], os.cpu_count() or 1, ())
    import time

    import psutil

    me = os.getpid()
    processes = []
    for proc in psutil.process_iter(["pid", "name"]):
        if proc.pid == me:
            continue
        try:
            proc.cpu_percent(None)
            processes.append(proc)
        except psutil.Error:
            continue
    time.sleep(interval_s)
    busy = []
    for proc in processes:
        try:
            percent = proc.cpu_percent(None)
        except psutil.Error:
            continue
        if percent >= busy_percent:
            busy.append(f"{proc.info['name']} ({proc.pid}) {percent:.0f}% CPU")
    return QuietCheck(os.getloadavg()[0], os.cpu_count() or 1, tuple(sorted(busy)))
