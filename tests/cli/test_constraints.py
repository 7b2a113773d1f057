"""Phase 4 through the CLI: real limits (cgroup v1 here, Docker with a local image)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import START_ARGS

#: real timing judged against thresholds: alone, after the parallel tiers (scripts/test.sh)
pytestmark = pytest.mark.serial

DURATION = ("--duration", "0.4")

#: a fixed amount of CPU work per chunk; reports the mean chunk time
CPU_BENCH = """\
import os, time
duration = float(os.environ["PERF_RUN_DURATION"])
start, chunks = time.perf_counter(), []
while time.perf_counter() - start < duration:
    t = time.perf_counter()
    x = 0
    for i in range(200_000):
        x += i
    chunks.append((time.perf_counter() - t) * 1000)
print(f"PERF_METRICS chunk_ms={sum(chunks) / len(chunks)} chunks={len(chunks)}")
"""

#: the parent starts a child that touches 300 MB, ignores its fate, reports and exits 0
OOM_BENCH = """\
import os, subprocess, sys, time
child = subprocess.run([sys.executable, "-c", "x = b'x' * (300 * 2**20)"])
time.sleep(float(os.environ["PERF_RUN_DURATION"]))
print(f"PERF_METRICS p95_ms=10 child_exit={child.returncode}")
"""

#: CPU_BENCH with a busy child process beside it: the tree wants two CPUs, so a 0.5-CPU
#: quota binds even when a loaded shared machine gives each process less than one
BUSY_PAIR_BENCH = """\
import os, subprocess, sys, time
duration = float(os.environ["PERF_RUN_DURATION"])
spin = "import time\\nend = time.perf_counter() + %r\\nwhile time.perf_counter() < end: pass"
child = subprocess.Popen([sys.executable, "-c", spin % duration])
start, chunks = time.perf_counter(), []
while time.perf_counter() - start < duration:
    t = time.perf_counter()
    x = 0
    for i in range(100_000):
        x += i
    chunks.append((time.perf_counter() - t) * 1000)
child.wait()
print(f"PERF_METRICS chunk_ms={sum(chunks) / len(chunks)} chunks={len(chunks)}")
"""

SH_BENCH = """\
sleep "$PERF_RUN_DURATION"
echo "PERF_METRICS p95_ms=12 requests=5 limit=${PERF_MEMORY_LIMIT:-0}"
"""


def perf(repo: Path) -> Path:
    return repo / ".claude" / "perf"


def cgroup_v1_or_skip() -> None:
    from perfinvest.adapters.constraints.cgroup1 import v1_mounts

    mounts = v1_mounts()
    if not all(c in mounts for c in ("cpu", "cpuacct", "memory")) or os.geteuid() != 0:
        pytest.skip("needs root and cgroup v1 (these machines have it)")


def ready(repo: Path, cli: Any, script: str, name: str, command: str | None = None) -> str:
    (repo / name).write_text(script)
    args = list(START_ARGS)
    args[args.index("--command") + 1] = command or f"{sys.executable} {name}"
    metric = "p95_ms" if "p95_ms" in script else "chunk_ms"
    args[args.index("--metric") + 1] = metric
    inv_id = str(cli(*args, "--json").json["investigation"])
    assert cli("baseline", "--runs", "2", *DURATION, "--json").code == 0
    assert cli("breaking-point", "--skip-reason", "not this time", "--json").code == 0
    return inv_id


@pytest.mark.slow
def test_cpu_limit_throttles_and_is_compared_with_the_baseline(repo: Path, cli: Any) -> None:
    cgroup_v1_or_skip()
    inv_id = ready(repo, cli, CPU_BENCH, "cpu.py")
    result = cli("constraints", "--cpu", "0.5", *DURATION, "--json")
    assert result.code == 0, result.out
    data = result.json["data"]
    assert data["backend"] == "cgroup1" and "cgroup v1" in data["backend_reason"]
    [record] = data["constraints"]
    assert record["cpu"] == 0.5 and record["valid_runs"] == 2 and not record["approximate"]
    # throttling counters are read (the adapter test asserts the slowdown and throttling;
    # on a busy shared machine a 0.4 s run may barely reach its quota)
    assert record["throttled_periods"] is not None and record["throttled_time_s"] is not None
    assert record["cpu_time_s"] > 0 and "chunk_ms" in record["effects"]
    assert record["verdicts"] == {}  # a limit is a condition: effects, not verdicts
    assert not record["oom_killed"]
    state = json.loads((perf(repo) / "investigation.json").read_text())
    assert state["constraints"][0]["label"] == "cpu=0.5"
    log = (perf(repo) / "investigations" / f"{inv_id}.md").read_text()
    assert "chunk_ms" in log and "throttled" in log and "backend cgroup1" in log
    assert "effect of the limit" in log
    assert not [
        p
        for p in Path("/sys/fs/cgroup/cpu").iterdir()
        if p.name.startswith(f"perfinvest-{os.getpid()}-")
    ]


@pytest.mark.slow
def test_half_a_cpu_is_slower_under_limit_and_caps_cpu_use(repo: Path, cli: Any) -> None:
    """Issue 10: under --cpu 0.5 a CPU-bound benchmark is "slower under limit" with its
    effect size, CI and p-value; its CPU use is "capped by limit", never "improved"."""
    cgroup_v1_or_skip()
    (repo / "cpu.py").write_text(BUSY_PAIR_BENCH)
    args = list(START_ARGS)
    args[args.index("--command") + 1] = f"{sys.executable} cpu.py"
    args[args.index("--metric") + 1] = "chunk_ms"
    assert cli(*args, "--json").code == 0
    assert cli("baseline", "--runs", "3", "--duration", "0.8", "--json").code == 0
    assert cli("breaking-point", "--skip-reason", "not this time", "--json").code == 0
    result = cli("constraints", "--cpu", "0.5", "--runs", "3", "--duration", "0.8", "--json")
    assert result.code == 0, result.out
    [record] = result.json["data"]["constraints"]
    assert record["verdicts"] == {}
    baseline = json.loads((perf(repo) / "baselines" / "v1.json").read_text())
    base_cpu = [m["value"] for r in baseline["runs"] for m in r["metrics"]
                if m["name"] == "resource_cpu_mean_pct"]  # fmt: skip
    chunk = record["effects"]["chunk_ms"]
    cpu = record["effects"]["resource_cpu_mean_pct"]
    # a 0.5-CPU quota at least halves the CPU a single busy thread gets
    assert cpu["constrained"] <= 50 * 1.15, cpu
    if min(base_cpu) > 60:  # the unconstrained run got well over half a CPU
        assert cpu["effect"] == "capped by limit", cpu
        assert chunk["relative_change"] > 0.2, chunk
        assert chunk["effect"] in ("slower under limit", "unclear effect of limit"), chunk
    assert cpu["effect"] not in ("improved", "faster under limit", "lower under limit")
    for effect in (chunk, cpu):
        assert effect["basis"] == "runs" and effect["p_value"] is not None
        assert effect["ci_low"] <= effect["relative_change"] <= effect["ci_high"]
    if chunk["effect"] == "slower under limit":
        assert chunk["ci_low"] > chunk["threshold"]
        assert any("cpu=0.5: chunk_ms: slower under limit" in f for f in result.json["findings"])
    assert not any("improved" in f or "regressed" in f for f in result.json["findings"])
    [header, *rows] = [r for r in result.json["data"]["table"] if "throttled" not in r]
    assert header.rstrip().endswith("effect of the limit")
    assert any("resource_cpu_mean_pct" in r and r.endswith(cpu["effect"]) for r in rows)


@pytest.mark.slow
def test_child_oom_is_reported_from_the_kernel_counter(repo: Path, cli: Any) -> None:
    cgroup_v1_or_skip()
    ready(repo, cli, OOM_BENCH, "oom.py")
    result = cli("constraints", "--memory", "100MB", "--runs", "1", *DURATION, "--json")
    assert result.code == 0, result.out
    [record] = result.json["data"]["constraints"]
    assert record["oom_killed"] and record["oom_kills"] >= 1
    assert record["valid_runs"] == 1  # the parent exited 0 and reported: the run is valid
    assert record["metrics"]["child_exit"] == -9
    assert record["peak_memory_bytes"] <= 100_000_000 + 2**20
    assert any("OOM-killed" in f for f in result.json["findings"])


@pytest.mark.slow
def test_matrix_makes_one_record_per_combination(repo: Path, cli: Any) -> None:
    cgroup_v1_or_skip()
    ready(repo, cli, CPU_BENCH, "cpu.py")
    result = cli(
        "constraints",
        "--cpu",
        "0.5",
        "--cpu",
        "1",
        "--memory",
        "256MB",
        "--runs",
        "1",
        *DURATION,
        "--json",
    )
    assert result.code == 0, result.out
    labels = [r["label"] for r in result.json["data"]["constraints"]]
    assert labels == ["cpu=0.5 memory=244.1 MiB", "cpu=1 memory=244.1 MiB"]


@pytest.mark.slow
def test_docker_backend_runs_the_benchmark_in_a_local_image(repo: Path, cli: Any) -> None:
    from tests.support.dockerimage import engine_or_skip, ensure_image

    image = ensure_image(engine_or_skip())
    ready(repo, cli, SH_BENCH, "bench.sh", command="sh bench.sh")
    result = cli(
        "constraints",
        "--memory",
        "64MiB",
        "--cpu",
        "1",
        "--image",
        image,
        "--runs",
        "1",
        *DURATION,
        "--json",
    )
    assert result.code == 0, result.out
    data = result.json["data"]
    assert data["backend"] == "docker" and image in data["backend_reason"]
    [record] = data["constraints"]
    assert record["image"] == image and record["valid_runs"] == 1
    assert record["metrics"]["limit"] == 64 * 2**20  # PERF_MEMORY_LIMIT reached the container


def test_fallback_is_labelled_approximate(repo: Path, cli: Any) -> None:
    ready(repo, cli, SH_BENCH, "bench.sh", command="sh bench.sh")
    result = cli(
        "constraints", "--cpu", "1", "--backend", "fallback", "--runs", "1", *DURATION, "--json"
    )
    assert result.code == 0, result.out
    [record] = result.json["data"]["constraints"]
    assert record["approximate"] and "approximate" in record["note"]
    assert any("approximate" in f for f in result.json["findings"])


BAD_LIMITS = [
    (("--memory", "lots"), "cannot read memory size 'lots'"),
    (("--memory", "12XB"), "cannot read memory size"),
    (("--memory", "1k"), "too small to start a process"),
    (("--cpu", "0"), "--cpu 0 is outside (0,"),
    (("--cpu", "-1"), "is outside"),
    (("--cpu", str((os.cpu_count() or 1) + 1)), "this machine has"),
    (("--pids", "0"), "--pids must be at least 1"),
    ((), "give at least one limit"),
    (("--cpu", "1", "--runs", "0"), "--runs must be at least 1"),
]


def test_bad_limits_are_refused_before_anything_runs(repo: Path, cli: Any) -> None:
    ready(repo, cli, SH_BENCH, "bench.sh", command="sh bench.sh")
    before = (perf(repo) / "investigation.json").read_bytes()
    for args, text in BAD_LIMITS:
        result = cli("constraints", *args, *DURATION, "--json")
        assert result.code == 2, (args, result.out)
        assert text in result.json["error"]["message"], args
    assert (perf(repo) / "investigation.json").read_bytes() == before
    assert not list((perf(repo) / "artifacts").glob("*/constrained-*"))


def test_bad_backend_choices_lose_nothing(repo: Path, cli: Any) -> None:
    ready(repo, cli, SH_BENCH, "bench.sh", command="sh bench.sh")
    before = (perf(repo) / "investigation.json").read_bytes()
    for args, text in (
        (("--backend", "cgroup1", "--image", "x"), "--image is for"),
        (("--backend", "docker"), "--image IMAGE"),
    ):
        result = cli("constraints", "--cpu", "1", *args, *DURATION, "--json")
        assert result.code == 2 and text in result.json["error"]["message"], result.out
    assert (perf(repo) / "investigation.json").read_bytes() == before


def test_no_docker_engine_says_which_and_how(
    repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ready(repo, cli, SH_BENCH, "bench.sh", command="sh bench.sh")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/missing.sock")
    result = cli("constraints", "--cpu", "1", "--image", "busybox", *DURATION, "--json")
    assert result.code == 7
    message = result.json["error"]["message"]
    assert message.startswith("no Docker engine: ") and "start dockerd" in message


def test_missing_image_says_how_to_get_it(repo: Path, cli: Any) -> None:
    from tests.support.dockerimage import engine_or_skip

    engine_or_skip()
    ready(repo, cli, SH_BENCH, "bench.sh", command="sh bench.sh")
    result = cli("constraints", "--cpu", "1", "--image", "perfinvest-absent:0", *DURATION, "--json")
    assert result.code == 7
    assert "not present locally" in result.json["error"]["message"]


def test_needs_a_baseline(repo: Path, cli: Any) -> None:
    cli(*START_ARGS, "--json")
    result = cli("constraints", "--cpu", "1", "--json")
    assert result.code == 4 and "baseline" in result.json["error"]["message"]


FOREVER = """\
import os, subprocess, sys, time
if os.environ.get("PERF_CPU_LIMIT"):
    child = subprocess.Popen(["sleep", "300"])
    with open("child.pid", "w") as handle:
        handle.write(str(child.pid))
time.sleep(float(os.environ["PERF_RUN_DURATION"]))
print("PERF_METRICS p95_ms=1")
"""


@pytest.mark.slow
def test_ctrl_c_removes_the_group_and_records_the_interruption(repo: Path, cli: Any) -> None:
    import signal
    import subprocess
    import time

    cgroup_v1_or_skip()
    inv_id = ready(repo, cli, FOREVER, "forever.py")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "perfinvest",
            "constraints",
            "--cpu",
            "0.5",
            "--duration",
            "30",
            "--json",
        ],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pid_file = repo / "child.pid"
    deadline = time.monotonic() + 20
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, "the benchmark never started"
        time.sleep(0.05)
    groups = [
        p
        for p in Path("/sys/fs/cgroup/cpu").iterdir()
        if p.name.startswith(f"perfinvest-{proc.pid}-")
    ]
    assert len(groups) == 1  # the benchmark runs in its group
    assert pid_file.read_text() in (groups[0] / "cgroup.procs").read_text().split()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out, err)
    assert json.loads(out)["error"]["kind"] == "interrupted"
    assert not groups[0].exists()
    state = json.loads((perf(repo) / "investigation.json").read_text())
    assert state["constraints"] == [] and state["attempts"][-1]["outcome"] == "failed"
    assert inv_id == state["id"]
