"""A SIGKILLed perfinvest takes its benchmark and its load generator with it (issue 22.2).

Real perfinvest processes, killed with SIGKILL mid-run: 3 s later neither the benchmark nor
a child in its process group, nor Locust (and its worker processes), is alive. Daemons that
leave the group (``setsid``) are the lock's run token's business (test_sigkill_orphans).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import START_ARGS
from tests.support.server import Behaviour, serve

pytestmark = pytest.mark.slow

#: Reports its own pid and a CPU-burning child's (same process group), then runs long.
BENCH = """\
import os, subprocess, sys, time
from pathlib import Path
folder = os.environ.get("PIDS_DIR")
if folder and not Path(folder, "pids").exists():
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    Path(folder, "pids.tmp").write_text(f"{os.getpid()} {burner.pid}")
    Path(folder, "pids.tmp").rename(Path(folder, "pids"))
time.sleep(float(os.environ.get("PERF_RUN_DURATION", "30")))
print("PERF_METRICS p95_ms=12.5 error_rate=0")
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def processes_mentioning(needle: str) -> list[int]:
    """Live processes whose command line names ``needle`` (a test's tmp folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if needle in cmdline and alive(int(entry.name)):
            found.append(int(entry.name))
    return found


@pytest.fixture
def pids_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "pids"
    folder.mkdir()
    yield folder
    pids = folder / "pids"
    if pids.exists():
        for pid in map(int, pids.read_text().split()):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def perfinvest(repo: Path, *args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "perfinvest", *args, "--json"],
        cwd=repo,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(check: Any, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while not check():
        assert proc.poll() is None, f"perfinvest ended before {what}"
        assert time.monotonic() < deadline, f"{what} never happened"
        time.sleep(0.05)


@pytest.mark.parametrize(
    "command",
    [
        ("baseline", "--duration", "30"),
        ("run", "--mode", "duration", "--duration", "30", "--allow-short", "test"),
        ("run", "--mode", "repeat", "--duration", "30", "--allow-short", "test"),
    ],
)
def test_sigkill_of_a_measuring_command_kills_its_benchmark_group(
    command: tuple[str, ...], repo: Path, cli: Any, pids_dir: Path
) -> None:
    (repo / "long_bench.py").write_text(BENCH)
    args = list(START_ARGS)
    args[args.index("--command") + 1] = f"{sys.executable} long_bench.py"
    assert cli(*args, "--json").code == 0
    if command[0] == "run":
        command = (*command, "--", sys.executable, "long_bench.py")
    proc = perfinvest(repo, *command, env={"PIDS_DIR": str(pids_dir)})
    pids = pids_dir / "pids"
    wait_for(pids.exists, proc, "the benchmark started")
    bench, burner = map(int, pids.read_text().split())
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(3)
    assert not alive(bench), "the benchmark outlived its SIGKILLed perfinvest"
    assert not alive(burner), "the benchmark's child outlived its SIGKILLed perfinvest"


@pytest.mark.parametrize("workers", ["0", "2"])
def test_sigkill_of_load_run_kills_locust_and_its_workers(
    workers: str, repo: Path, tmp_path: Path
) -> None:
    with serve(Behaviour(routes={"/fast": (0.002, 200)})) as url:
        targets = repo / "t.yaml"
        targets.write_text(f"base_url: {url}\nroutes:\n  - {{name: fast, path: /fast}}\n")
        extra = ("--workers", workers) if workers != "0" else ()
        proc = perfinvest(
            repo,
            *("load", "run", "--targets", str(targets), "--duration", "60", *extra),
            *("--allow-short", "test"),
            env={},
        )
        wait_for(lambda: len(processes_mentioning(str(repo))) > int(workers), proc, "locust ran")
        time.sleep(1.0)  # the workers forked and loading
        before = processes_mentioning(str(repo))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        time.sleep(3)
        left = processes_mentioning(str(repo))
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        assert before and left == [], f"load generator processes survived: {left}"
