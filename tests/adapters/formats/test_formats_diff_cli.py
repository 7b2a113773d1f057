"""``perfinvest run --export`` + ``diff`` on the real tools' output (issue 10).

Each test runs the real tool twice through ``perfinvest run --mode duration -- sh -c ...``
(the tool writes its own JSON file, which the shell then prints for perfinvest to parse),
so the test can hold perfinvest's export against the tool's own file: the statistics
the tool computed (``max``, ``stddev``, ``iqr``...) must come through as they are, the
samples must be stored once (on ``mean_s``), and only ``mean_s`` is tested on them.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
from pathlib import Path
from typing import Any

import pytest
from scipy import stats as sps

pytestmark = pytest.mark.slow

PY = sys.executable


def _run(cli: Any, tmp: Path, label: str, shell_command: str, out: Path) -> Path:
    """One run of ``shell_command`` (the same for both sides: the setups must match);
    the tool's own file ``out`` is kept as ``<label>-tool.json``."""
    out.unlink(missing_ok=True)
    export = tmp / f"{label}.json"
    answer = cli(
        "run",
        "--mode",
        "duration",
        "--duration",
        "0.3",
        "--allow-short",
        "tests use short runs",
        "--export",
        str(export),
        "--json",
        "--",
        "sh",
        "-c",
        f"sleep 0.3 && {shell_command}",  # a fast tool still fills the short run
    )
    assert answer.code == 0, answer.out
    out.rename(tmp / f"{label}-tool.json")
    return export


def _time_metrics(export: Path, scenario: str) -> dict[str, dict[str, Any]]:
    (run,) = json.loads(export.read_text())
    return {m["name"]: m for m in run["metrics"] if m["scenario"] == scenario}


def _rows(cli: Any, a: Path, b: Path, scenario: str) -> dict[str, dict[str, Any]]:
    diff = cli("diff", str(a), str(b), "--json")
    assert diff.code == 0, diff.out
    rows = diff.json["data"]["comparison"]["metrics"]
    prefix = f"{scenario}:"
    return {r["key"][len(prefix) :]: r for r in rows if r["key"].startswith(prefix)}


def _check(
    cli: Any,
    tmp: Path,
    exports: tuple[Path, Path],
    scenario: str,
    own: tuple[dict[str, float], dict[str, float]],
    samples: tuple[list[float], list[float]],
) -> None:
    """Tool statistics pass through, samples once on mean_s, tested there only."""
    for export, stats_, raw in zip(exports, own, samples, strict=True):
        metrics = _time_metrics(export, scenario)
        assert metrics["mean_s"]["samples"] == raw
        with_samples = [name for name, m in metrics.items() if m["samples"]]
        assert with_samples == ["mean_s"]  # stored once, not once per statistic
        for stat, value in stats_.items():
            assert metrics[f"{stat}_s"]["value"] == pytest.approx(value, rel=1e-12)
    rows = _rows(cli, *exports, scenario)
    for stat in own[0]:
        row = rows[f"{stat}_s"]
        assert row["baseline_mean"] == pytest.approx(own[0][stat], rel=1e-12), stat
        assert row["candidate_mean"] == pytest.approx(own[1][stat], rel=1e-12), stat
        assert row["basis"] == "none" and row["p_mannwhitney"] is None, stat
    mean = rows["mean_s"]
    assert mean["basis"] == "samples"
    expected = sps.mannwhitneyu(*samples, alternative="two-sided").pvalue
    assert mean["p_mannwhitney"] == pytest.approx(expected)
    assert mean["baseline_mean"] == pytest.approx(statistics.fmean(samples[0]), rel=1e-12)

    # A file written before the fix, with the samples copied onto every statistic,
    # still loads and now compares the same way.
    old = []
    for export in exports:
        runs = json.loads(export.read_text())
        for metric in runs[0]["metrics"]:
            if metric["scenario"] == scenario and metric["name"][:-2] in own[0]:
                metric["samples"] = list(raw_of(runs[0], scenario))
        path = tmp / f"old-{export.name}"
        path.write_text(json.dumps(runs))
        old.append(path)
    old_rows = _rows(cli, old[0], old[1], scenario)
    for stat in own[0]:
        assert old_rows[f"{stat}_s"]["baseline_mean"] == rows[f"{stat}_s"]["baseline_mean"]
        assert old_rows[f"{stat}_s"]["basis"] == "none"


def raw_of(run: dict[str, Any], scenario: str) -> list[float]:
    return next(
        m["samples"] for m in run["metrics"] if m["scenario"] == scenario and m["name"] == "mean_s"
    )


@pytest.mark.skipif(shutil.which("hyperfine") is None, reason="hyperfine is not installed")
def test_hyperfine_statistics_are_hyperfines(repo: Path, cli: Any, tmp_path: Path) -> None:
    exports, own, samples = [], [], []
    for label in ("a", "b"):
        out = tmp_path / "tool.json"
        exports.append(
            _run(
                cli,
                tmp_path,
                label,
                f"hyperfine -N --style none --runs 30 --export-json {out} 'sleep 0.01'"
                f" >/dev/null && cat {out}",
                out,
            )
        )
        (result,) = json.loads((tmp_path / f"{label}-tool.json").read_text())["results"]
        own.append({s: result[s] for s in ("max", "min", "median", "stddev")})
        samples.append(result["times"])
    _check(cli, tmp_path, (exports[0], exports[1]), "sleep 0.01", (own[0], own[1]),
           (samples[0], samples[1]))  # fmt: skip


BENCH_TEST = """\
def test_sum(benchmark):
    benchmark.pedantic(sum, args=(range(2000),), rounds=40, iterations=20)
"""


def test_pytest_benchmark_statistics_are_its_own(repo: Path, cli: Any, tmp_path: Path) -> None:
    pytest.importorskip("pytest_benchmark")
    (tmp_path / "test_bench_issue10.py").write_text(BENCH_TEST)
    exports, own, samples = [], [], []
    for label in ("a", "b"):
        out = tmp_path / "tool.json"
        exports.append(
            _run(
                cli,
                tmp_path,
                label,
                f"cd {tmp_path} && {PY} -m pytest -q -p no:cacheprovider -c /dev/null "
                f"--benchmark-json={out} --benchmark-save-data test_bench_issue10.py "
                f">/dev/null && cat {out}",
                out,
            )
        )
        (bench,) = json.loads((tmp_path / f"{label}-tool.json").read_text())["benchmarks"]
        stats = bench["stats"]
        own.append({s: stats[s] for s in ("max", "min", "median", "stddev", "iqr", "q1", "q3")})
        samples.append(stats["data"])
    scenario = "test_bench_issue10.py::test_sum"
    _check(cli, tmp_path, (exports[0], exports[1]), scenario, (own[0], own[1]),
           (samples[0], samples[1]))  # fmt: skip


def test_pyperf_statistics_are_pyperfs(repo: Path, cli: Any, tmp_path: Path) -> None:
    pytest.importorskip("pyperf")
    exports, own, samples = [], [], []
    for label in ("a", "b"):
        out = tmp_path / "tool.json"
        exports.append(
            _run(
                cli,
                tmp_path,
                label,
                f"{PY} -m pyperf timeit --quiet --processes 2 --values 4 --warmups 1 "
                f"--loops 200 -o {out} 'sum(range(100))' >/dev/null && cat {out}",
                out,
            )
        )
        import pyperf

        bench = pyperf.Benchmark.load(str(tmp_path / f"{label}-tool.json"))
        values = list(bench.get_values())
        own.append(
            {
                "max": max(values),
                "min": min(values),
                "median": bench.median(),
                "stddev": bench.stdev(),
            }
        )
        samples.append(values)
    _check(cli, tmp_path, (exports[0], exports[1]), "timeit", (own[0], own[1]),
           (samples[0], samples[1]))  # fmt: skip
