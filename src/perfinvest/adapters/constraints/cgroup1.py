"""cgroup v1: one group per run in the cpu, cpuacct, memory (and pids) hierarchies.

Limits: ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``, ``memory.limit_in_bytes`` (and
``memory.memsw.limit_in_bytes`` when swap accounting exists, so the limit cannot be dodged
by swapping), ``pids.max``. Results: ``cpu.stat`` (``nr_throttled``, ``throttled_time``),
``cpuacct.usage``, ``memory.max_usage_in_bytes`` (reset before the run) and the
``oom_kill`` counter of ``memory.oom_control`` read before and after: OOM comes from the
kernel's counter, never from an exit code (a parent can exit 0 after its child was killed).

The benchmark joins the groups in the child between fork and exec (``cgroup.procs``), so it
does no work outside them.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator, Mapping
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

NEEDED = ("cpu", "cpuacct", "memory")
OPTIONAL = ("pids",)


def v1_mounts(mounts_text: str | None = None) -> dict[str, Path]:
    """Controller name → mount point of every cgroup v1 hierarchy (from /proc/self/mounts)."""
    if mounts_text is None:
        try:
            mounts_text = Path("/proc/self/mounts").read_text()
        except OSError:
            return {}
    found: dict[str, Path] = {}
    for line in mounts_text.splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[2] != "cgroup":
            continue
        for option in fields[3].split(","):
            if option in (*NEEDED, *OPTIONAL):
                found.setdefault(option, Path(fields[1]))
    return found


@dataclass
class _Group:
    dirs: dict[str, Path]  # controller → group directory
    placement: Placement
    oom_before: int = 0
    notes: list[str] = field(default_factory=list)

    def usage(self) -> Usage:
        cpu = self.dirs.get("cpu")
        acct = self.dirs.get("cpuacct")
        memory = self.dirs.get("memory")
        usage = Usage(notes=list(self.notes))
        if cpu is not None:
            stat = read_keyed(cpu / "cpu.stat")
            usage.throttled_periods = stat.get("nr_throttled")
            if "throttled_time" in stat:
                usage.throttled_time_s = stat["throttled_time"] / 1e9
        if acct is not None:
            total = read_int(acct / "cpuacct.usage")
            usage.cpu_time_s = None if total is None else total / 1e9
        if memory is not None:
            usage.peak_memory_bytes = read_int(memory / "memory.max_usage_in_bytes")
            after = read_keyed(memory / "memory.oom_control").get("oom_kill", 0)
            usage.oom_kills = max(0, after - self.oom_before)
            usage.oom_killed = usage.oom_kills > 0
        return usage


class Cgroup1Backend:
    name = "cgroup1"
    approximate = False

    def __init__(self, mounts: Mapping[str, Path] | None = None) -> None:
        self.mounts = dict(v1_mounts() if mounts is None else mounts)
        missing = [c for c in NEEDED if c not in self.mounts]
        if missing:
            raise environment_error(
                f"cgroup v1 controllers not mounted: {', '.join(missing)}; mount them "
                "(e.g. cgroupfs-mount) or use another --backend"
            )

    @contextlib.contextmanager
    def slot(self, limits: Limits, tag: str) -> Iterator[_Group]:
        if limits.pids is not None and "pids" not in self.mounts:
            raise environment_error(
                "the pids cgroup controller is not mounted: drop --pids or mount it"
            )
        name = unit_name(tag)
        controllers = [c for c in (*NEEDED, *OPTIONAL) if c in self.mounts]
        dirs: dict[str, Path] = {}
        try:
            for controller in controllers:
                path = self.mounts[controller] / name
                if path in dirs.values():  # co-mounted controllers (cpu,cpuacct) share a dir
                    dirs[controller] = path
                    continue
                try:
                    path.mkdir()
                except OSError as exc:
                    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                        raise permission_error(path.parent, exc) from None
                    raise environment_error(
                        f"cannot create cgroup {path}: {exc.strerror or exc}"
                    ) from None
                dirs[controller] = path
            group = self._configure(dirs, limits)
            yield group
        finally:
            for path in dict.fromkeys(dirs.values()):
                with contextlib.suppress(OSError):
                    remove_group(path)

    def _configure(self, dirs: dict[str, Path], limits: Limits) -> _Group:
        notes: list[str] = []
        cpu = dirs["cpu"]
        if limits.cpu is not None:
            write_control(cpu / "cpu.cfs_period_us", str(CFS_PERIOD_US))
            write_control(
                cpu / "cpu.cfs_quota_us", str(max(1000, round(limits.cpu * CFS_PERIOD_US)))
            )
        memory = dirs["memory"]
        if limits.memory_bytes is not None:
            write_control(memory / "memory.limit_in_bytes", str(limits.memory_bytes))
            memsw = memory / "memory.memsw.limit_in_bytes"
            if memsw.exists():
                write_control(memsw, str(limits.memory_bytes))
            else:
                notes.append("no swap accounting: the memory limit does not cover swap")
        write_control(memory / "memory.max_usage_in_bytes", "0")  # reset the peak
        oom_before = read_keyed(memory / "memory.oom_control").get("oom_kill", 0)
        if "pids" in dirs and limits.pids is not None:
            write_control(dirs["pids"] / "pids.max", str(limits.pids))
        procs = tuple(p / "cgroup.procs" for p in dict.fromkeys(dirs.values()))
        return _Group(dirs, Placement(cgroup_procs=procs), oom_before, notes)
