"""``diff`` reads real tool exports directly (hyperfine, pyperf, pytest-benchmark), as ``run``
parses them, and names what a JSON file it cannot read is not."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

needs_hyperfine = pytest.mark.skipif(shutil.which("hyperfine") is None, reason="no hyperfine")


def _hyperfine(tmp: Path, name: str, sleep: float) -> Path:
    """A real ``hyperfine --export-json`` of one command whose script sleeps ``sleep`` s."""
    (tmp / "bench.sh").write_text(f"sleep {sleep}\n")
    out = tmp / name
    subprocess.run(
        ["hyperfine", "-N", "--runs", "10", "--export-json", str(out), "sh bench.sh"],
        cwd=tmp, check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return out


@needs_hyperfine
def test_diff_of_two_hyperfine_exports_finds_the_regression(
    cli: Any, repo: Path, tmp_path: Path
) -> None:
    fast = _hyperfine(tmp_path, "fast.json", 0.01)
    slow = _hyperfine(tmp_path, "slow.json", 0.04)
    answer = cli("diff", str(fast), str(slow), "--metric", "sh bench.sh:mean_s", "--json")
    assert answer.code == 0, answer.out
    assert answer.json["data"]["formats"] == {
        "fast.json": "hyperfine-json",
        "slow.json": "hyperfine-json",
    }
    (row,) = answer.json["data"]["comparison"]["metrics"]
    assert (row["verdict"], row["basis"]) == ("regressed", "samples"), row
    assert any("read as a hyperfine-json export" in f for f in answer.json["findings"])
    gate = cli("diff", str(fast), str(slow), "--metric", "sh bench.sh:mean_s",
               "--fail-on-regression", "--json")  # fmt: skip
    assert gate.code == 8
    # a tool export has no fingerprint: against perfinvest's own result it needs --force
    own = tmp_path / "own.json"
    made = cli(
        "run", "--mode", "repeat", "--duration", "0.2", "--runs", "2",
        "--allow-short", "tests use short runs", "--export", str(own), "--json",
        "--", sys.executable, "-c", "pass",
    )  # fmt: skip
    assert made.code == 0, made.out
    mixed = cli("diff", str(fast), str(own), "--json")
    assert mixed.code == 4
    message = mixed.json["error"]["message"]
    assert "fast.json is a hyperfine-json export" in message and "--force" in message
    # the other readers of result files take it too
    exported = cli("metrics", "export", str(slow), "--json")
    assert exported.code == 0, exported.out


def test_diff_reads_real_pyperf_and_pytest_benchmark_exports(
    cli: Any, repo: Path, tmp_path: Path
) -> None:
    pyperf = tmp_path / "pyperf.json"
    subprocess.run(
        [sys.executable, "-m", "pyperf", "timeit", "--quiet", "--processes", "2", "--values", "3",
         "--warmups", "1", "--loops", "1000", "-o", str(pyperf), "sum(range(100))"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    (tmp_path / "test_sum.py").write_text(
        "def test_sum(benchmark):\n"
        "    benchmark.pedantic(sum, args=(range(100),), rounds=6, iterations=20)\n"
    )
    bench = tmp_path / "pytest-benchmark.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
         "test_sum.py", f"--benchmark-json={bench}"],
        cwd=tmp_path, env=env, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    for export, fmt in ((pyperf, "pyperf-json"), (bench, "pytest-benchmark-json")):
        answer = cli("diff", str(export), str(export), "--json")
        assert answer.code == 0, answer.out
        assert answer.json["data"]["formats"][export.name] == fmt
        rows = answer.json["data"]["comparison"]["metrics"]
        means = [r for r in rows if r["key"].endswith(":mean_s")]
        assert means and all(r["verdict"] != "regressed" for r in means), rows


def test_a_json_file_perfinvest_cannot_read_is_named_not_a_none_document(
    cli: Any, repo: Path, tmp_path: Path
) -> None:
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps({"results": "not hyperfine's"}))
    answer = cli("diff", str(odd), str(odd), "--json")
    assert answer.code == 2
    message = answer.json["error"]["message"]
    assert "None" not in message
    assert "odd.json is a JSON object with no `kind`" in message
    assert "hyperfine-json" in message  # the formats it does read
