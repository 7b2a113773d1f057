"""What the resource sampler costs (rule 7): target under 2 % of one core at 10 Hz.

Not a test: a script that measures and exits non-zero when the target is missed.

It samples a small tree (a shell and a few ``sleep`` children, started in its own session, as
the runner does) for a few seconds and reports, per backend:

* ``thread_cpu_percent``: the sampler thread's own CPU time (``time.thread_time()`` inside the
  thread, reported as ``ResourceSummary.sampler_cpu_s``) over the wall time, in % of a core;
* ``process_cpu_delta_percent``: this process's CPU time while sampling minus while idling
  for as long, in % of a core (catches costs outside the thread, e.g. wake-ups).

The target applies to the backend the runner uses on this host (``procfs`` on Linux); the
psutil backend is measured for comparison (it scans every process on the host each tick).

Usage: .venv/bin/python benchmarks/sampler_cost.py [--seconds 5] [--hz 10] [--children 4]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from perfinvest.adapters.sampler import Backend, ResourceSampler, procfs_available

TARGET_PERCENT = 2.0


def _process_cpu() -> float:
    times = os.times()
    return times.user + times.system


def measure(backend: Backend, pid: int, seconds: float, hz: float) -> dict[str, object]:
    idle_start = _process_cpu()
    time.sleep(seconds)
    idle_cpu = _process_cpu() - idle_start

    start_cpu, start_wall = _process_cpu(), time.perf_counter()
    sampler = ResourceSampler(pid, hz, backend=backend).start()
    time.sleep(seconds)
    summary = sampler.stop()
    wall = time.perf_counter() - start_wall
    busy_cpu = _process_cpu() - start_cpu
    return {
        "backend": backend,
        "hz": hz,
        "seconds": round(wall, 2),
        "samples": summary.samples,
        "tree_processes": summary.max_processes,
        "host_processes": sum(1 for entry in Path("/proc").iterdir() if entry.name.isdigit()),
        "thread_cpu_percent": round(summary.sampler_cpu_s / wall * 100, 3),
        "process_cpu_delta_percent": round((busy_cpu - idle_cpu) / wall * 100, 3),
        "per_tick_ms": round(summary.sampler_cpu_s / max(summary.samples, 1) * 1000, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--hz", type=float, default=10.0)
    parser.add_argument("--children", type=int, default=4)
    args = parser.parse_args()

    script = " ".join(["sleep 600 &"] * args.children) + " wait"
    tree = subprocess.Popen(["sh", "-c", script], start_new_session=True)
    try:
        time.sleep(0.2)
        primary: Backend = "procfs" if procfs_available() else "psutil"
        backends: list[Backend] = [primary] + (["psutil"] if primary == "procfs" else [])
        results = [measure(backend, tree.pid, args.seconds, args.hz) for backend in backends]
    finally:
        os.killpg(tree.pid, signal.SIGKILL)
        tree.wait()

    for result in results:
        print(json.dumps(result))
    cost = float(str(results[0]["thread_cpu_percent"]))
    ok = cost < TARGET_PERCENT
    verdict = "PASS" if ok else "FAIL"
    print(
        f"{verdict}: the {primary} sampler costs {cost:.2f} % of one core at {args.hz:g} Hz "
        f"(target < {TARGET_PERCENT:g} %)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
