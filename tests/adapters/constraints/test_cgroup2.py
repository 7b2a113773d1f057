"""cgroup v2 against a temporary directory laid out like cgroupfs.

cgroup v2 controllers are not available on these machines (the unified hierarchy here is
mounted without controllers), so this test stands in for the kernel: a folder with the
root's interface files, a subclass that fills a new group's files on mkdir like the kernel
does, and counters the test writes. A real child still joins the (fake) group before exec.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from perfinvest.adapters.constraints.base import Limits
from perfinvest.adapters.constraints.cgroup2 import Cgroup2Backend, v2_root
from perfinvest.adapters.runner import RunSpec, run_command
from perfinvest.core.errors import PerfError

GROUP_FILES = {
    "cgroup.procs": "",
    "cpu.max": "max 100000\n",
    "cpu.stat": "usage_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n",
    "memory.max": "max\n",
    "memory.swap.max": "max\n",
    "memory.peak": "0\n",
    "memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n",
    "pids.max": "max\n",
}


class FakeKernel(Cgroup2Backend):
    """mkdir fills the interface files (the kernel's job); rmdir removes them."""

    created: list[Path]

    def make_group_dir(self, path: Path) -> None:
        path.mkdir()
        for name, text in GROUP_FILES.items():
            (path / name).write_text(text)
        self.created = [*getattr(self, "created", []), path]

    def remove_group_dir(self, path: Path) -> None:
        shutil.rmtree(path)


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    root = tmp_path / "cgroup"
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (root / "cgroup.subtree_control").write_text("")
    return root


def test_limits_join_and_counters(fake_root: Path) -> None:
    backend = FakeKernel(fake_root)
    limits = Limits(cpu=0.5, memory_bytes=256 * 2**20, pids=64)
    with backend.slot(limits, "v2") as slot:
        group = slot.placement.cgroup_procs[0].parent
        assert (group / "cpu.max").read_text() == "50000 100000"
        assert (group / "memory.max").read_text() == str(256 * 2**20)
        assert (group / "memory.swap.max").read_text() == "0"
        assert (group / "pids.max").read_text() == "64"
        assert (fake_root / "cgroup.subtree_control").read_text() == "+cpu +memory +pids"
        outcome = run_command(
            RunSpec(
                argv=[sys.executable, "-c", "import os; print(os.getpid())"],
                preexec_cgroup_procs=slot.placement.cgroup_procs,
                duration_s=5,
                sample_hz=0,
            )
        )
        # the child wrote its own pid before exec: the pid it then printed
        assert (group / "cgroup.procs").read_text() == outcome.stdout_tail.strip()
        # what the kernel would have counted during the run
        (group / "cpu.stat").write_text(
            "usage_usec 800000\nnr_periods 20\nnr_throttled 12\nthrottled_usec 600000\n"
        )
        (group / "memory.peak").write_text(f"{200 * 2**20}\n")
        (group / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
        usage = slot.usage()
    assert (usage.throttled_periods, usage.throttled_time_s, usage.cpu_time_s) == (12, 0.6, 0.8)
    assert usage.peak_memory_bytes == 200 * 2**20
    assert usage.oom_killed and usage.oom_kills == 1
    assert not group.exists()


def test_oom_counter_is_relative_to_the_start(fake_root: Path) -> None:
    class Reused(FakeKernel):
        def make_group_dir(self, path: Path) -> None:
            super().make_group_dir(path)
            (path / "memory.events").write_text("oom_kill 2\n")

    with Reused(fake_root).slot(Limits(memory_bytes=2**30), "v2") as slot:
        assert not slot.usage().oom_killed


def test_missing_controllers_and_not_cgroupfs(tmp_path: Path, fake_root: Path) -> None:
    (tmp_path / "bare").mkdir()
    (tmp_path / "bare" / "cgroup.controllers").write_text("pids\n")
    with pytest.raises(PerfError) as caught:
        Cgroup2Backend(tmp_path / "bare")
    assert caught.value.code == 7 and "cpu, memory" in caught.value.message
    # a plain directory: mkdir gives no interface files
    with pytest.raises(PerfError) as caught, Cgroup2Backend(fake_root).slot(Limits(cpu=1), "x"):
        pass
    assert "does not behave like cgroupfs" in caught.value.message
    assert [p.name for p in fake_root.iterdir() if p.is_dir()] == []


@pytest.fixture
def read_only_root(tmp_path: Path) -> Iterator[Path]:
    """The fake root on a read-only tmpfs: root ignores permission bits, not a ro mount."""
    target = tmp_path / "ro"
    target.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(target)], check=False
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        (target / "cgroup.controllers").write_text("cpu memory pids\n")
        (target / "cgroup.subtree_control").write_text("cpu memory pids\n")
        subprocess.run(["mount", "-o", "remount,ro", str(target)], check=True)
        yield target
    finally:
        subprocess.run(["umount", str(target)], check=False)


def test_no_permission_is_an_environment_error(read_only_root: Path) -> None:
    with (
        pytest.raises(PerfError) as caught,
        Cgroup2Backend(read_only_root).slot(Limits(cpu=0.5), "perm"),
    ):
        pass
    assert caught.value.code == 7
    assert f"no permission to create a cgroup under {read_only_root}" in caught.value.message


def test_mount_discovery() -> None:
    mounts = "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n"
    assert v2_root(mounts) == Path("/sys/fs/cgroup/unified")
    assert v2_root("tmpfs /tmp tmpfs rw 0 0\n") is None
