"""The approximate fallback, the automatic choice, and removal of leftovers (real cgroups)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from perfinvest.adapters.constraints.base import Limits, owner_pid, unit_name
from perfinvest.adapters.constraints.cgroup1 import v1_mounts
from perfinvest.adapters.constraints.cleanup import cleanup_cgroups, cleanup_stale
from perfinvest.adapters.constraints.detect import choose
from perfinvest.adapters.constraints.fallback import FallbackBackend
from perfinvest.adapters.runner import RunSpec, run_command
from perfinvest.core.errors import PerfError


def test_fallback_pins_cpus_and_caps_address_space() -> None:
    backend = FallbackBackend()
    assert backend.approximate
    with backend.slot(Limits(cpu=0.5, memory_bytes=512 * 2**20), "fb") as slot:
        prefix = list(slot.placement.argv_prefix)
        assert prefix[:2] == ["taskset", "-c"] and "--as=536870912" in prefix
        assert any("rounded up to 1 whole CPU" in n for n in slot.usage().notes)
        script = (
            "import os, resource; print(len(os.sched_getaffinity(0)), "
            "resource.getrlimit(resource.RLIMIT_AS)[0])"
        )
        outcome = run_command(RunSpec(argv=[*prefix, sys.executable, "-c", script], duration_s=5))
    assert outcome.stdout_tail.split() == ["1", str(512 * 2**20)]
    # over the address-space cap, allocation fails (no OOM kill, no counter: approximate)
    with backend.slot(Limits(memory_bytes=200 * 2**20), "fb") as slot:
        big = "x = bytearray(400 * 2**20)"
        outcome = run_command(
            RunSpec(argv=[*slot.placement.argv_prefix, sys.executable, "-c", big], duration_s=5)
        )
        assert "MemoryError" in outcome.stderr_tail and not slot.usage().oom_killed


def test_auto_choice_here_is_cgroup1_with_a_reason(tmp_path: Path) -> None:
    mounts = v1_mounts()
    if not all(c in mounts for c in ("cpu", "cpuacct", "memory")) or os.geteuid() != 0:
        pytest.skip("needs root and cgroup v1 (these machines have it)")
    choice = choose("auto", None, tmp_path)
    assert choice.backend.name == "cgroup1"
    assert "cgroup v1 cpu, cpuacct and memory hierarchies are mounted" in choice.reason
    assert choose("fallback", None, tmp_path).reason == "--backend fallback was asked for"
    with pytest.raises(PerfError) as caught:
        choose("cgroup1", "busybox", tmp_path)
    assert caught.value.code == 2


def test_names_carry_the_owner() -> None:
    name = unit_name("run 1/2")
    assert name.startswith(f"perfinvest-{os.getpid()}-") and name.endswith("-run-1-2")
    assert owner_pid(name) == os.getpid()
    assert owner_pid("docker") is None and owner_pid("perfinvest-x-1") is None


def test_cleanup_removes_groups_of_dead_owners_only() -> None:
    mounts = v1_mounts()
    if "cpu" not in mounts or os.geteuid() != 0:
        pytest.skip("needs root and the cgroup v1 cpu hierarchy")
    dead = subprocess.Popen(["true"])
    dead.wait()
    root = mounts["cpu"]
    stale = root / f"perfinvest-{dead.pid}-1-stale"
    live = root / f"perfinvest-{os.getpid()}-9999-live"
    stale.mkdir()
    live.mkdir()
    # a process left inside the stale group (its owner was SIGKILLed mid-run)
    orphan = subprocess.Popen(["sleep", "30"])
    (stale / "cgroup.procs").write_text(str(orphan.pid))
    try:
        removed = cleanup_cgroups([root])
        assert removed == [f"removed cgroup {stale}"]
        assert not stale.exists() and live.exists()
        assert orphan.wait(timeout=5) == -9
        assert all("perfinvest-" + str(os.getpid()) not in line for line in cleanup_stale())
    finally:
        live.rmdir()
        if stale.exists():
            stale.rmdir()
