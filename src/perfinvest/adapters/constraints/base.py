"""What every constraint backend speaks: limits in, a slot to run in, usage out."""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from perfinvest.core.errors import PerfError, environment_error
from perfinvest.core.sizes import format_size

#: Every cgroup and container perfinvest makes is named ``perfinvest-<owner pid>-<n>-...``
#: (containers also carry the labels below), so leftovers of a killed run can be found.
PREFIX = "perfinvest"
LABEL = "perfinvest"
OWNER_LABEL = "perfinvest.owner"
CFS_PERIOD_US = 100_000

_sequence = itertools.count(1)


def unit_name(tag: str = "") -> str:
    """A fresh name for a cgroup or container owned by this process."""
    clean = "".join(c if c.isalnum() or c in "-_" else "-" for c in tag)[:40]
    return f"{PREFIX}-{os.getpid()}-{next(_sequence)}" + (f"-{clean}" if clean else "")


def owner_pid(name: str) -> int | None:
    """The owner pid in a name made by :func:`unit_name`, or None if it is not one of ours."""
    parts = name.split("-")
    if len(parts) < 3 or parts[0] != PREFIX or not parts[1].isdigit():
        return None
    return int(parts[1])

    return True


@dataclass(frozen=True)
class Limits:
    cpu: float | None = None  # CPUs (0.5 = half of one CPU's time)
    memory_bytes: int | None = None
    pids: int | None = None

    @property
    def label(self) -> str:
        parts = []
        if self.cpu is not None:
            parts.append(f"cpu={self.cpu:g}")
        if self.memory_bytes is not None:
            parts.append(f"memory={format_size(self.memory_bytes)}")
        if self.pids is not None:
            parts.append(f"pids={self.pids}")
        return " ".join(parts) or "no limits"

    def contract_env(self) -> dict[str, str]:
        """PERF_CPU_LIMIT / PERF_MEMORY_LIMIT: informational, the limits are really applied."""
        env = {}
        if self.cpu is not None:
            env["PERF_CPU_LIMIT"] = f"{self.cpu:g}"
        if self.memory_bytes is not None:
            env["PERF_MEMORY_LIMIT"] = str(self.memory_bytes)
        if self.pids is not None:
            env["PERF_PIDS_LIMIT"] = str(self.pids)
        return env


@dataclass
class Usage:
    """What the kernel (or the engine) counted for one run."""

    throttled_periods: int | None = None
    throttled_time_s: float | None = None
    cpu_time_s: float | None = None
    peak_memory_bytes: int | None = None
    oom_kills: int = 0
    oom_killed: bool = False
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Placement:
    """How the benchmark is started inside the limits."""

    cgroup_procs: tuple[Path, ...] = ()  # joined by the child before exec
    argv_prefix: tuple[str, ...] = ()  # a wrapper the command runs under
    env: Mapping[str, str] = field(default_factory=dict)


class Slot(Protocol):
    placement: Placement

    def usage(self) -> Usage:
        """Counters after the run (call before the slot is closed)."""
        ...


class Backend(Protocol):
    name: str
    approximate: bool

    def slot(self, limits: Limits, tag: str) -> contextlib.AbstractContextManager[Slot]:
        """A fresh group/container for one run, removed when the context exits."""
        ...


def read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def read_keyed(path: Path) -> dict[str, int]:
    """``key value`` lines (cpu.stat, memory.events, memory.oom_control) as a dict."""
    values: dict[str, int] = {}
    try:
        text = path.read_text()
    except OSError:
        return values
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            with contextlib.suppress(ValueError):
                values[parts[0]] = int(parts[1])
    return values


def kill_members(procs_file: Path) -> int:
    """SIGKILL every process listed in a cgroup.procs file; how many were signalled."""
    import signal

    killed = 0
    try:
        pids = [int(p) for p in procs_file.read_text().split()]
    except (OSError, ValueError):
        return 0
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
            killed += 1
    return killed


def remove_group(path: Path, timeout_s: float = 5.0) -> None:
    """Kill what is left in a cgroup directory, then remove it (retrying while it drains)."""
    import time

    if not path.is_dir():
        return
    deadline = time.monotonic() + timeout_s
    while True:
        kill_members(path / "cgroup.procs")
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def iter_dirs(root: Path) -> Iterator[Path]:
    with contextlib.suppress(OSError):
        yield from (p for p in root.iterdir() if p.is_dir())


def permission_error(where: Path, exc: OSError) -> PerfError:
    return environment_error(
        f"no permission to create a cgroup under {where} ({exc.strerror or exc}): run "
        "perfinvest as root or with a delegated cgroup, or use --backend docker or "
        "--backend fallback"
    )


def write_control(path: Path, value: str) -> None:
    """Write a cgroup control file; refused permission and other errors say what to do."""
    try:
        path.write_text(value)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise permission_error(path.parent, exc) from None
        raise environment_error(
            f"cannot set {path.name}={value} in {path.parent}: {exc.strerror or exc}"
        ) from None
