"""The Docker backend against a real engine (dockerd started by scripts/test.sh) and a
locally imported busybox image; and its clear errors when the engine or image is missing."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tests.support.dockerimage import engine_or_skip, ensure_image

from perfinvest.adapters.constraints.base import OWNER_LABEL, Limits
from perfinvest.adapters.constraints.docker_backend import DockerBackend
from perfinvest.adapters.runner import RunSpec, run_command
from perfinvest.core.errors import PerfError


@pytest.fixture(scope="module")
def engine() -> Any:
    client = engine_or_skip()
    ensure_image(client)
    return client


def ours(client: Any) -> list[Any]:
    return client.containers.list(all=True, filters={"label": f"{OWNER_LABEL}={os.getpid()}"})


def run_in(backend: DockerBackend, limits: Limits, script: str, cwd: Path) -> tuple[Any, Any]:
    with backend.slot(limits, "test") as slot:
        outcome = run_command(
            RunSpec(
                argv=[*slot.placement.argv_prefix, "sh", "-c", script],
                cwd=cwd,
                env={"PERF_RUN_DURATION": "1"},
                duration_s=30,
                sample_hz=0,
            )
        )
        usage = slot.usage()
    return outcome, usage


@pytest.mark.slow
def test_limits_apply_inside_the_container(engine: Any, tmp_path: Path) -> None:
    from tests.support.dockerimage import IMAGE

    (tmp_path / "input.txt").write_text("from the working tree\n")
    backend = DockerBackend(IMAGE, tmp_path, engine)
    script = (
        "cat input.txt; echo PERF_RUN_DURATION=$PERF_RUN_DURATION; "
        "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/memory/memory.limit_in_bytes "
        "/sys/fs/cgroup/pids/pids.max; echo made > output.txt"
    )
    outcome, usage = run_in(
        backend, Limits(cpu=0.5, memory_bytes=64 * 2**20, pids=20), script, tmp_path
    )
    assert outcome.exit_code == 0, outcome.stderr_tail
    lines = outcome.stdout_tail.split()
    assert "tree" in lines and "PERF_RUN_DURATION=1" in lines
    assert ["50000", str(64 * 2**20), "20"] == lines[-3:]
    assert (tmp_path / "output.txt").read_text() == "made\n"  # the tree is mounted read-write
    assert not usage.oom_killed
    assert ours(engine) == []


@pytest.mark.slow
def test_oom_in_the_container_is_seen_though_it_exits_zero(engine: Any, tmp_path: Path) -> None:
    from tests.support.dockerimage import IMAGE

    backend = DockerBackend(IMAGE, tmp_path, engine)
    script = '(x=$(head -c 150000000 /dev/zero | tr "\\0" a); echo ${#x}); echo survived'
    outcome, usage = run_in(backend, Limits(memory_bytes=64 * 2**20), script, tmp_path)
    assert outcome.exit_code == 0 and "survived" in outcome.stdout_tail
    assert usage.oom_killed
    assert ours(engine) == []


@pytest.mark.slow
def test_stopped_run_removes_its_container(engine: Any, tmp_path: Path) -> None:
    import threading

    from tests.support.dockerimage import IMAGE

    backend = DockerBackend(IMAGE, tmp_path, engine)
    stop = threading.Event()
    threading.Timer(2.0, stop.set).start()
    with backend.slot(Limits(cpu=1), "stop") as slot:
        outcome = run_command(
            RunSpec(argv=[*slot.placement.argv_prefix, "sleep", "60"], cwd=tmp_path, duration_s=60),
            stop=stop,
        )
    assert outcome.interrupted
    assert ours(engine) == []


@pytest.mark.slow
def test_cleanup_removes_containers_of_dead_owners(engine: Any) -> None:
    from tests.support.dockerimage import IMAGE

    from perfinvest.adapters.constraints.cleanup import cleanup_containers

    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = engine.containers.create(
        IMAGE, ["true"], name=f"perfinvest-{dead.pid}-1-stale", labels={OWNER_LABEL: str(dead.pid)}
    )
    live = engine.containers.create(
        IMAGE,
        ["true"],
        name=f"perfinvest-{os.getpid()}-999-live",
        labels={OWNER_LABEL: str(os.getpid())},
    )
    try:
        removed = cleanup_containers()
        assert f"removed container perfinvest-{dead.pid}-1-stale" in removed
        names = [c.name for c in engine.containers.list(all=True)]
        assert stale.name not in names and live.name in names
    finally:
        live.remove(force=True)


def test_no_engine_says_how_to_start_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    with pytest.raises(PerfError) as caught:
        DockerBackend("anything:latest", tmp_path)
    assert caught.value.code == 7
    assert caught.value.message.startswith("no Docker engine: ")
    assert "start dockerd" in caught.value.message and "\n" not in caught.value.message


def test_missing_image_and_no_image(engine: Any, tmp_path: Path) -> None:
    with pytest.raises(PerfError) as caught:
        DockerBackend("perfinvest-no-such-image:1", tmp_path, engine)
    assert caught.value.code == 7
    assert (
        "'perfinvest-no-such-image:1' is not present locally (nothing is pulled)"
        in caught.value.message
    )
    assert "docker import" in caught.value.message
    with pytest.raises(PerfError) as caught:
        DockerBackend(None, tmp_path, engine)
    assert caught.value.code == 2 and "--image IMAGE" in caught.value.message
