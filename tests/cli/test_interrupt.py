"""Ctrl-C and SIGTERM stop a measurement cleanly: tree killed, lock freed, attempt recorded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import START_ARGS

FOREVER = """\
import os, subprocess, sys, time
child = subprocess.Popen(["sleep", "300"])
with open("child.pid", "w") as handle:
    handle.write(str(child.pid))
time.sleep(float(os.environ["PERF_RUN_DURATION"]))
print("PERF_METRICS p95_ms=1")
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie nobody reaps here is gone for our purposes


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_during_baseline(repo: Path, cli: Any, signum: int) -> None:
    (repo / "forever.py").write_text(FOREVER)
    args = list(START_ARGS)
    args[args.index("--command") + 1] = f"{sys.executable} forever.py"
    inv_id = cli(*args, "--json").json["investigation"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "perfinvest", "baseline", "--duration", "30", "--json"],
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
    child = int(pid_file.read_text())
    assert alive(child)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out, err)
    answer = json.loads(out)
    assert answer["error"]["kind"] == "interrupted" and "Traceback" not in err
    time.sleep(0.2)
    assert not alive(child)
    lock = Path(os.environ["PERFINVEST_LOCK_DIR"]) / "perfinvest-benchmark.lock"
    assert lock.read_text() == ""  # released cleanly, nothing for a takeover
    state = json.loads((repo / ".claude" / "perf" / "investigation.json").read_text())
    assert state["attempts"][-1]["outcome"] == "failed" and state["id"] == inv_id
