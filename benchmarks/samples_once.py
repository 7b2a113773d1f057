"""Export size and ``diff`` time on a large, real pytest-benchmark file: samples stored once.

Not a test: a script that measures and exits non-zero when the target is missed.

Issue 10: the pytest-benchmark parser attached the one ``data`` list to all eight time
statistics, so a 2.7 MB report became a 17 MB ``perfinvest run --export`` and a 24 s
``diff``. This script produces two real reports with pytest-benchmark
(``--benchmark-save-data``, one benchmark of ``--rounds`` rounds), then for two source
trees, the reference (``git archive REF src``, default the commit before the fix) and
this checkout's ``src``, runs in fresh processes:

  perfinvest run --mode duration --export side.json -- sh -c 'sleep 0.3; cat report.json'
  perfinvest diff a.json b.json --json        (wall time, best of --repeats)

and also this tree's ``diff`` of the reference's exports (old files, loaded once-only).
Prints one JSON line per tree and a summary; target: export at most 1/4 of the
reference's size and ``diff`` at least 2x faster.

Usage: .venv/bin/python benchmarks/samples_once.py [--rounds 75000] [--ref 7a143a3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = """\
def test_sum(benchmark):
    benchmark.pedantic(sum, args=(range(50),), rounds={rounds}, iterations=1)
"""


def _report(work: Path, label: str, rounds: int) -> Path:
    (work / "test_big.py").write_text(BENCH.format(rounds=rounds))
    out = work / f"report-{label}.json"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", "/dev/null",
         f"--benchmark-json={out}", "--benchmark-save-data", "test_big.py"],
        cwd=work, check=True, capture_output=True,
    )  # fmt: skip
    return out


def _perfinvest(src: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src), "PERFINVEST_LOCK_DIR": str(cwd / "lock")}
    env.pop("AI_STATE_DIR", None)
    command = [sys.executable, "-m", "perfinvest", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def _exports(src: Path, work: Path, reports: list[Path], tag: str) -> list[Path]:
    exports = []
    for side, report in zip("ab", reports, strict=True):
        shutil.copyfile(report, work / "report.json")
        export = work / f"{tag}-{side}.json"
        done = _perfinvest(
            src, work, "run", "--mode", "duration", "--duration", "0.3", "--allow-short",
            "benchmark of the export", "--export", str(export), "--json", "--",
            "sh", "-c", "sleep 0.3; cat report.json",
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"{tag}: perfinvest run failed: {done.stdout[-500:]}")
        exports.append(export)
    return exports


def _diff_time(src: Path, work: Path, exports: list[Path], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        done = _perfinvest(src, work, "diff", str(exports[0]), str(exports[1]), "--json")
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"diff failed: {done.stdout[-500:]}")
        best = min(best, elapsed)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=75_000)
    parser.add_argument("--ref", default="7a143a3")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="samples-once-") as scratch:
        work = Path(scratch)
        (work / "lock").mkdir()
        ref_root = work / "ref"
        ref_root.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", args.ref, "src"], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(ref_root)], input=archive, check=True)
        reports = [_report(work, side, args.rounds) for side in "ab"]
        report_mb = reports[0].stat().st_size / 1e6
        results = {}
        for tag, src in (("reference", ref_root / "src"), ("current", ROOT / "src")):
            exports = _exports(src, work, reports, tag)
            results[tag] = {
                "tree": args.ref if tag == "reference" else "working tree",
                "report_mb": round(report_mb, 2),
                "export_mb": round(exports[0].stat().st_size / 1e6, 2),
                "diff_s": round(_diff_time(src, work, exports, args.repeats), 2),
                "exports": exports,
            }
        old = results["reference"]["exports"]
        old_diff = _diff_time(ROOT / "src", work, old, args.repeats)  # type: ignore[arg-type]
        for tag, row in results.items():
            row.pop("exports")
            print(json.dumps({"side": tag, **row}))
        ref, cur = results["reference"], results["current"]
        size_ratio = float(cur["export_mb"]) / float(ref["export_mb"])  # type: ignore[arg-type]
        speedup = float(ref["diff_s"]) / float(cur["diff_s"])  # type: ignore[arg-type]
        print(
            json.dumps(
                {
                    "export_size_ratio": round(size_ratio, 3),
                    "diff_speedup": round(speedup, 2),
                    "current_diff_of_reference_exports_s": round(old_diff, 2),
                }
            )
        )
        ok = size_ratio <= 0.25 and speedup >= 2
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
