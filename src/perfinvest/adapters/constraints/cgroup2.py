"""cgroup v2: one group per run under the unified hierarchy.

Limits: ``cpu.max`` (``quota period``), ``memory.max``, ``memory.swap.max`` (0, so the limit
cannot be dodged by swapping), ``pids.max``; the parent's ``cgroup.subtree_control`` gets
``+cpu +memory +pids`` when they are not enabled yet. Results: ``cpu.stat``
(``nr_throttled``, ``throttled_usec``, ``usage_usec``), ``memory.peak`` and the ``oom_kill``
count of ``memory.events`` (before/after): OOM from the kernel's counters, not exit codes.
Removal: ``cgroup.kill`` when the kernel has it, else SIGKILL to each member, then rmdir.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from perfinvest.adapters.constraints.base import (
    CFS_PERIOD_US,
    Limits,
    Placement,
    Usage,
    permission_error,
    read_int,
    read_keyed,
    remove_group,
    unit_name,
    write_control,
)
from perfinvest.core.errors import environment_error

DEFAULT_ROOT = Path("/sys/fs/cgroup")
CONTROLLERS = ("cpu", "memory", "pids")


def v2_root(mounts_text: str | None = None) -> Path | None:
    """Where the unified hierarchy is mounted, or None."""
    if mounts_text is None:
        try:
            mounts_text = Path("/proc/self/mounts").read_text()
        except OSError:
            return None
    for line in mounts_text.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[2] == "cgroup2":
            return Path(fields[1])
    return None


def available_controllers(root: Path) -> set[str]:
    try:
        return set((root / "cgroup.controllers").read_text().split())
    except OSError:
        return set()


@dataclass
class _Group:
    path: Path
    placement: Placement
    oom_before: int = 0
    notes: list[str] = field(default_factory=list)

    def usage(self) -> Usage:
        usage = Usage(notes=list(self.notes))
        stat = read_keyed(self.path / "cpu.stat")
        usage.throttled_periods = stat.get("nr_throttled")
        if "throttled_usec" in stat:
            usage.throttled_time_s = stat["throttled_usec"] / 1e6
        if "usage_usec" in stat:
            usage.cpu_time_s = stat["usage_usec"] / 1e6
        usage.peak_memory_bytes = read_int(self.path / "memory.peak")
        after = read_keyed(self.path / "memory.events").get("oom_kill", 0)
        usage.oom_kills = max(0, after - self.oom_before)
        usage.oom_killed = usage.oom_kills > 0
        return usage


class Cgroup2Backend:
    name = "cgroup2"
    approximate = False

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else (v2_root() or DEFAULT_ROOT)
        have = available_controllers(self.root)
        missing = [c for c in ("cpu", "memory") if c not in have]
        if missing:
            raise environment_error(
                f"cgroup v2 at {self.root} lacks the {', '.join(missing)} controller(s) "
                "(cgroup.controllers); use --backend cgroup1, docker or fallback"
            )

    # The two filesystem steps a test double replaces: the kernel fills a new group's
    # interface files on mkdir and refuses rmdir of a populated group.
    def make_group_dir(self, path: Path) -> None:
        path.mkdir()

    def remove_group_dir(self, path: Path) -> None:
        if (path / "cgroup.kill").exists():
            with contextlib.suppress(OSError):
                (path / "cgroup.kill").write_text("1")
        remove_group(path)

    def _enable_controllers(self, limits: Limits) -> None:
        control = self.root / "cgroup.subtree_control"
        try:
            enabled = set(control.read_text().split())
        except OSError:
            enabled = set()
        wanted = [c for c in CONTROLLERS if c in available_controllers(self.root)]
        if limits.pids is not None and "pids" not in wanted:
            raise environment_error(
                f"cgroup v2 at {self.root} has no pids controller: drop --pids or enable it"
            )
        todo = [c for c in wanted if c not in enabled]
        if todo:
            write_control(control, " ".join(f"+{c}" for c in todo))

    @contextlib.contextmanager
    def slot(self, limits: Limits, tag: str) -> Iterator[_Group]:
        self._enable_controllers(limits)
        path = self.root / unit_name(tag)
        try:
            self.make_group_dir(path)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise permission_error(self.root, exc) from None
            raise environment_error(f"cannot create cgroup {path}: {exc.strerror or exc}") from None
        try:
            if not (path / "cgroup.procs").exists():
                raise environment_error(
                    f"{self.root} does not behave like cgroupfs (no cgroup.procs in a new "
                    "group): check the cgroup v2 mount"
                )
            if limits.cpu is not None:
                quota = max(1000, round(limits.cpu * CFS_PERIOD_US))
                write_control(path / "cpu.max", f"{quota} {CFS_PERIOD_US}")
            notes: list[str] = []
            if limits.memory_bytes is not None:
                write_control(path / "memory.max", str(limits.memory_bytes))
                if (path / "memory.swap.max").exists():
                    write_control(path / "memory.swap.max", "0")
                else:
                    notes.append("no memory.swap.max: the memory limit does not cover swap")
            if limits.pids is not None:
                write_control(path / "pids.max", str(limits.pids))
            if not (path / "memory.peak").exists():
                notes.append("no memory.peak (kernel < 5.19): peak memory unknown")
            oom_before = read_keyed(path / "memory.events").get("oom_kill", 0)
            yield _Group(path, Placement(cgroup_procs=(path / "cgroup.procs",)), oom_before, notes)
        finally:
            with contextlib.suppress(OSError):
                self.remove_group_dir(path)
