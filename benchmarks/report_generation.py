"""Report generation for an investigation of 50 runs, as a ratio to loading its state.

Issue 14: "Report generation for an investigation of 50 runs takes under 2 s". The state
is the synthetic one the report tests use (tests/support/synthetic.py), scaled to 30
baseline runs and 10 + 10 experiment runs (plus 2 superseded runs) of 40 raw samples each,
then of 10,000 each (a long pyperf or hyperfine run), with probes, a constrained
configuration, a load run and a profile. Measured in-process, best of N:

* load: reading and validating the state (investigation.json and every baseline file);
* report: ``perfinvest report`` end to end (read everything, build the model, render the
  HTML with Plotly.js inlined, write it atomically);

and once as a real ``perfinvest report --json`` subprocess (start-up included).

Usage: python benchmarks/report_generation.py [--repeat N]   (exit 1 when over 2 s)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support.synthetic builds the state

TARGET_S = 2.0


def best(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times)


def measure(samples: int, repeat: int) -> bool:
    """One investigation of 52 runs with ``samples`` raw samples each; True: under 2 s."""
    from tests.support.synthetic import write_state

    from perfinvest.app.context import AppContext
    from perfinvest.app.report import ReportRequest, load_investigation, report
    from perfinvest.store.history import read_history

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_state(
            root / ".claude" / "perf", baseline_runs=30, experiment_runs=10, samples=samples
        )
        ctx = AppContext.discover(root, environ={})
        inv, _ = load_investigation(ctx, None)
        runs = sum(len(k.baseline.runs) for k in read_history(ctx.paths).entries) + sum(
            2 * e.runs_per_side for e in inv.experiments
        )

        def load() -> None:
            load_investigation(ctx, None)
            read_history(ctx.paths)

        out = root / "report.html"
        load_s = best(load, repeat)
        report_s = best(lambda: report(ctx, ReportRequest(output=out)), repeat)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "perfinvest", "report", "--json"],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        cli_s = time.perf_counter() - started
        answer = json.loads(done.stdout)
        assert answer["ok"], answer
        size = out.stat().st_size
    plots = len(answer["data"]["plots"])
    shape = f"{runs} runs of {samples:,} samples ({plots} plots, {size / 1e6:.1f} MB)"
    print(f"investigation with {shape}")
    print(f"  load the state:        {load_s * 1000:8.1f} ms")
    print(f"  generate the report:   {report_s * 1000:8.1f} ms  ({report_s / load_s:.1f}x loading)")
    print(f"  perfinvest report CLI: {cli_s * 1000:8.1f} ms  (a subprocess, start-up included)")
    met = max(report_s, cli_s) < TARGET_S
    print(f"  goal: under {TARGET_S:.0f} s: {'met' if met else 'MISSED'}")
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    results = [measure(samples, args.repeat) for samples in (40, 10_000)]
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
