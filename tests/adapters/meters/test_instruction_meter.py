"""`--meter instructions`: real programs counted under real valgrind (cachegrind).

A C program built with gcc here (a deterministic loop) must count the same in two runs
and more with a planted slowdown (a bigger loop); a Python program counts too, its
interpreter included.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import START_ARGS

from perfinvest.adapters.meters.cachegrind import parse_out_file

pytestmark = pytest.mark.skipif(
    shutil.which("valgrind") is None or shutil.which("gcc") is None,
    reason="needs valgrind and gcc (scripts/bootstrap.sh installs them)",
)

LOOP_C = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    unsigned long n = strtoul(argv[1], NULL, 10);
    volatile unsigned long sum = 0;
    for (unsigned long i = 0; i < n; i++) sum += i;
    printf("%lu\n", sum);
    return 0;
}
"""


@pytest.fixture
def loop(repo: Path) -> Path:
    (repo / "loop.c").write_text(LOOP_C)
    subprocess.run(["gcc", "-O0", "-o", "loop", "loop.c"], cwd=repo, check=True)
    return repo / "loop"


def counts(result: Any) -> list[float]:
    assert result.code == 0, result.out
    runs = result.json["data"]["runs"]
    assert all(r["meter"] == "instructions" and r["valid"] for r in runs), runs
    return [next(m["value"] for m in r["metrics"] if m["name"] == "instructions") for r in runs]


@pytest.mark.slow
def test_deterministic_program_counts_the_same_and_a_slowdown_counts_more(
    loop: Path, cli: Any
) -> None:
    same = counts(
        cli("run", "--meter", "instructions", "--runs", "2", "--json", "--", "./loop", "200000")
    )
    assert same[0] == same[1] > 200_000  # at least one instruction per iteration
    slower = counts(cli("run", "--meter", "instructions", "--json", "--", "./loop", "400000"))
    assert slower[0] > same[0]
    # the planted slowdown costs at least one instruction per added iteration
    assert slower[0] - same[0] >= 200_000


@pytest.mark.slow
def test_a_python_program_counts_with_its_interpreter(repo: Path, cli: Any) -> None:
    (repo / "work.py").write_text("import sys\nprint(sum(range(int(sys.argv[1]))))\n")
    base = [sys.executable, "work.py"]
    first = counts(
        cli("run", "--meter", "instructions", "--runs", "2", "--json", "--", *base, "1000")
    )
    # PYTHONHASHSEED=0 makes CPython's count exact here; allow 0.5 % for other interpreters
    assert first[1] == pytest.approx(first[0], rel=0.005)
    assert first[0] > 5_000_000  # the interpreter's start-up is counted, not just the loop
    bigger = counts(cli("run", "--meter", "instructions", "--json", "--", *base, "300000"))
    assert bigger[0] > first[0] * 1.01


@pytest.mark.slow
def test_shell_commands_count_every_process_of_the_tree(loop: Path, cli: Any) -> None:
    one = cli("run", "--meter", "instructions", "--json", "--", "./loop", "100000")
    two = cli(
        "run", "--meter", "instructions", "--shell", "--json", "--", "./loop 100000; ./loop 100000"
    )
    (run_one,) = one.json["data"]["runs"]
    (run_two,) = two.json["data"]["runs"]
    metrics = {m["name"]: m["value"] for m in run_two["metrics"]}
    assert metrics["instructions_processes"] == 3  # sh and both loops
    assert metrics["instructions"] > 2 * counts(one)[0]
    assert "under valgrind" in run_one["compliance_note"]


def test_a_failing_program_is_an_invalid_run_with_its_exit_code(repo: Path, cli: Any) -> None:
    result = cli("run", "--meter", "instructions", "--shell", "--json", "--", "exit 3")
    assert result.code == 5
    (run,) = result.json["data"]["runs"]
    assert run["exit_code"] == 3 and not run["valid"]


def test_a_missing_program_is_named_not_valgrinds_error(repo: Path, cli: Any) -> None:
    result = cli("run", "--meter", "instructions", "--json", "--", "./no-such-program")
    assert result.code == 5
    assert "command not found: ./no-such-program" in result.json["error"]["message"]


def test_missing_valgrind_is_an_environment_error(
    repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))  # python, no valgrind
    result = cli("run", "--meter", "instructions", "--json", "--", sys.executable, "-c", "1")
    assert result.code == 7
    assert "needs valgrind" in result.json["error"]["message"]


def test_unknown_meter_is_a_usage_error(repo: Path, cli: Any) -> None:
    assert cli("run", "--meter", "cycles", "--", "true").code == 2


@pytest.mark.slow
def test_baseline_under_the_meter_is_a_baseline_of_instructions(repo: Path, cli: Any) -> None:
    (repo / "work.py").write_text("print(sum(range(20000)))\n")
    args = list(START_ARGS)
    args[args.index("--command") + 1] = f"{sys.executable} work.py"
    assert cli(*args, "--no-checkpoint", "--json").code == 0
    result = cli(
        "baseline",
        "--meter",
        "instructions",
        "--runs",
        "2",
        "--duration",
        "1",
        "--no-checkpoint",
        "--json",
    )
    assert result.code == 0, result.out
    summary = result.json["data"]["summaries"]["instructions"]["runs"]
    assert summary["n"] == 2 and summary["cv"] == pytest.approx(0.0, abs=0.005)
    document = (repo / ".claude" / "perf" / "baselines" / "v1.json").read_text()
    assert '"primary_metric": {' in document and '"name": "instructions"' in document


def test_out_file_parsing_reads_ir_from_events_and_summary() -> None:
    text = (
        "desc: I1 cache: x\ncmd: ./p\nevents: Ir Dr\nfl=p.c\nfn=main\n0 5 1\nsummary: 7127043 9\n"
    )
    assert parse_out_file(text) == 7127043
    with pytest.raises(ValueError, match="no summary"):
        parse_out_file("events: Ir\nfn=main\n0 5\n")


def test_the_benchmark_is_told_it_runs_once(
    repo: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    line = 'echo "$PERF_RUN_MODE $PYTHONHASHSEED" > seen.txt'
    result = cli(
        "run", "--meter", "instructions", "--mode", "duration", "--shell", "--json", "--", line
    )
    assert result.code == 0, result.out
    assert (repo / "seen.txt").read_text().split() == ["oneshot", "0"]
    monkeypatch.setenv("PYTHONHASHSEED", "7")  # the user's seed is kept
    assert cli("run", "--meter", "instructions", "--shell", "--json", "--", line).code == 0
    assert (repo / "seen.txt").read_text().split() == ["oneshot", "7"]


def test_a_missing_program_under_the_meter_leaves_no_run_folder(repo: Path, cli: Any) -> None:
    args = list(START_ARGS)
    args[args.index("--command") + 1] = "./no-such-program"
    assert cli(*args, "--no-checkpoint", "--json").code == 0
    result = cli("baseline", "--meter", "instructions", "--runs", "2", "--no-checkpoint", "--json")
    assert result.code == 5, result.out
    assert "command not found: ./no-such-program" in result.json["error"]["message"]
    artifacts = repo / ".claude" / "perf" / "artifacts"
    assert not [p for p in artifacts.rglob("baseline-*") if p.is_dir()]
