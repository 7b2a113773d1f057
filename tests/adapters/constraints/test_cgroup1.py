"""cgroup v1 for real (these machines run as root with v1 writable): limits, counters, removal."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from perfinvest.adapters.constraints.base import Limits
from perfinvest.adapters.constraints.cgroup1 import Cgroup1Backend, v1_mounts
from perfinvest.adapters.runner import RunSpec, run_command
from perfinvest.core.errors import PerfError

MOUNTS = v1_mounts()
pytestmark = pytest.mark.skipif(
    not all(c in MOUNTS for c in ("cpu", "cpuacct", "memory")) or os.geteuid() != 0,
    reason="needs root and the cgroup v1 cpu, cpuacct and memory hierarchies",
)

# a fixed amount of CPU work: about 0.3 s of one CPU here
WORK = "x = 0\nfor i in range(6_000_000): x += i\n"

# the parent starts a child that touches 300 MB, ignores its fate and exits 0
OOM_PARENT = """
import subprocess, sys
child = subprocess.run([sys.executable, "-c", "x = b'x' * (300 * 2**20); print(len(x))"])
print("child exit", child.returncode)
"""


def ours(name_part: str = "") -> list[Path]:
    found = []
    for root in set(MOUNTS.values()):
        found += [p for p in root.iterdir() if p.name.startswith(f"perfinvest-{os.getpid()}-")]
    return found


def timed(backend: Cgroup1Backend | None, limits: Limits, script: str) -> tuple[float, object]:
    if backend is None:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", script], check=True)
        return time.perf_counter() - start, None
    with backend.slot(limits, "test") as slot:
        spec = RunSpec(
            argv=[sys.executable, "-c", script],
            preexec_cgroup_procs=slot.placement.cgroup_procs,
            duration_s=30,
            sample_hz=0,
        )
        outcome = run_command(spec)
        assert outcome.valid, outcome.invalid_reason
        return outcome.wall_s, slot.usage()


@pytest.mark.slow
def test_half_a_cpu_takes_about_twice_as_long() -> None:
    """The work's unconstrained CPU time is what it would take on a quiet machine; under
    0.5 CPU the kernel stretches it to about twice that in wall time. Comparing with CPU
    time (not the unconstrained wall time) keeps the test honest on a busy shared machine,
    where other processes only ever make the constrained run slower still."""
    backend = Cgroup1Backend()
    free_cpu = []
    free_wall = []
    for _ in range(2):
        wall, usage = timed(backend, Limits(), WORK)  # a group with no limit: cpuacct only
        assert usage.cpu_time_s is not None  # type: ignore[attr-defined]
        free_cpu.append(usage.cpu_time_s)  # type: ignore[attr-defined]
        free_wall.append(wall)
        assert not usage.throttled_periods  # type: ignore[attr-defined]
    for _ in range(2):
        wall, usage = timed(backend, Limits(cpu=0.5), WORK)
        ratio = wall / min(free_cpu)
        assert ratio > 1.5, (wall, free_cpu, free_wall)
        assert usage.throttled_periods and usage.throttled_periods > 0  # type: ignore[attr-defined]
        cpu = usage.cpu_time_s  # type: ignore[attr-defined]
        # 50 ms per 100 ms period: wall >= ~2x CPU time (one period of slack)
        assert cpu is not None and wall > 1.6 * (cpu - 0.05), (wall, cpu)
    assert ours() == []


def test_child_oom_kill_is_seen_though_the_parent_exits_zero() -> None:
    backend = Cgroup1Backend()
    with backend.slot(Limits(memory_bytes=100 * 2**20), "oom") as slot:
        outcome = run_command(
            RunSpec(
                argv=[sys.executable, "-c", OOM_PARENT],
                preexec_cgroup_procs=slot.placement.cgroup_procs,
                duration_s=30,
                sample_hz=0,
            )
        )
        usage = slot.usage()
    assert outcome.exit_code == 0 and "child exit -9" in outcome.stdout_tail
    assert usage.oom_killed and usage.oom_kills >= 1
    assert usage.peak_memory_bytes is not None
    assert 50 * 2**20 < usage.peak_memory_bytes <= 101 * 2**20
    assert ours() == []


def test_process_joins_before_exec_and_limits_are_written() -> None:
    backend = Cgroup1Backend()
    with backend.slot(Limits(cpu=1.5, memory_bytes=64 * 2**20, pids=20), "join") as slot:
        dirs = {p.parent for p in slot.placement.cgroup_procs}
        cpu_dir = next(d for d in dirs if (d / "cpu.cfs_quota_us").exists())
        assert (cpu_dir / "cpu.cfs_quota_us").read_text().strip() == "150000"
        memory_dir = next(d for d in dirs if (d / "memory.limit_in_bytes").exists())
        assert int((memory_dir / "memory.limit_in_bytes").read_text()) == 64 * 2**20
        if "pids" in MOUNTS:
            pids_dir = next(d for d in dirs if (d / "pids.max").exists())
            assert (pids_dir / "pids.max").read_text().strip() == "20"
        # the command itself reads its own cgroup: it was in it from its first instruction
        outcome = run_command(
            RunSpec(
                argv=["cat", "/proc/self/cgroup"],
                preexec_cgroup_procs=slot.placement.cgroup_procs,
                duration_s=5,
                sample_hz=0,
            )
        )
        assert cpu_dir.name in outcome.stdout_tail
    assert not any(d.exists() for d in dirs)


def test_groups_are_removed_on_keyboard_interrupt_and_errors() -> None:
    backend = Cgroup1Backend()
    with pytest.raises(KeyboardInterrupt), backend.slot(Limits(cpu=0.5), "ctrl-c") as slot:
        sleeper = subprocess.Popen(["sleep", "30"])
        for procs in slot.placement.cgroup_procs:
            procs.write_text(str(sleeper.pid))
        raise KeyboardInterrupt
    assert sleeper.wait(timeout=5) == -9  # what was left inside was killed
    with pytest.raises(RuntimeError), backend.slot(Limits(cpu=0.5), "crash"):
        raise RuntimeError("boom")
    assert ours() == []


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A read-only tmpfs: what a cgroupfs perfinvest may not write looks like, even to root
    (root ignores permission bits, so a non-writable folder would not refuse it)."""
    target = tmp_path / "ro"
    target.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(target)], check=False
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a read-only tmpfs here")
    try:
        yield target
    finally:
        subprocess.run(["umount", str(target)], check=False)


def test_no_permission_is_a_clear_environment_error(read_only_dir: Path) -> None:
    backend = Cgroup1Backend(mounts=dict.fromkeys(("cpu", "cpuacct", "memory"), read_only_dir))
    with pytest.raises(PerfError) as caught, backend.slot(Limits(cpu=0.5), "perm"):
        pass
    assert caught.value.code == 7
    assert caught.value.message.startswith(
        f"no permission to create a cgroup under {read_only_dir}"
    )
    assert "run perfinvest as root" in caught.value.message


def test_missing_hierarchies_are_named() -> None:
    with pytest.raises(PerfError) as caught:
        Cgroup1Backend(mounts={"cpu": Path("/sys/fs/cgroup/cpu")})
    assert caught.value.code == 7 and "cpuacct, memory" in caught.value.message
