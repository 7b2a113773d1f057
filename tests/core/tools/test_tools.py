"""Recognising benchmark tools and rewriting their options (pure argv arithmetic)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from perfinvest.core.errors import PerfError
from perfinvest.core.tools import calls as tool_calls
from perfinvest.core.tools import recognise as tools


def _files(mapping: dict[str, str]) -> Callable[[str], str | None]:
    return mapping.get


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["hyperfine", "sleep 0.1"], tools.HYPERFINE),
        (["/usr/bin/hyperfine", "-N", "ls"], tools.HYPERFINE),
        (["pytest", "bench.py", "--benchmark-only"], tools.PYTEST_BENCHMARK),
        (["python3", "-m", "pytest", "--benchmark-max-time=1"], tools.PYTEST_BENCHMARK),
        (["pytest", "--benchmark-disable", "bench.py"], None),
        (["pytest", "tests/"], None),
        (["python", "-m", "pyperf", "timeit", "1+1"], tools.PYPERF),
        (["python", "-m", "pyperf", "command", "true"], tools.PYPERF),
        (["python", "-m", "pyperf", "show", "x.json"], None),
        (["go", "test", "-bench", ".", "./..."], tools.GO_TEST),
        (["go", "test", "-bench=Fib", "-benchmem"], tools.GO_TEST),
        (["go", "test", "--test.bench=."], tools.GO_TEST),
        (["go", "test", "./..."], None),
        (["go", "build"], None),
        (["python", "bench.py"], None),
        ([], None),
    ],
)
def test_recognise_by_argv(argv: list[str], expected: str | None) -> None:
    assert tools.recognise(argv) == expected


def test_recognise_peeks_at_named_files() -> None:
    files = _files(
        {
            "test_speed.py": "def test_sum(benchmark):\n    benchmark(sum, [1])\n",
            "test_plain.py": "def test_sum():\n    assert sum([1]) == 1\n",
            "bench.py": "import pyperf\nrunner = pyperf.Runner()\nrunner.timeit('x', '1+1')\n",
            "other.py": "print('hello')\n",
        }
    )
    assert tools.recognise(["pytest", "test_speed.py::test_sum"], files) == tools.PYTEST_BENCHMARK
    assert tools.recognise(["pytest", "test_plain.py"], files) is None
    assert tools.recognise(["python", "bench.py", "--fast"], files) == tools.PYPERF
    assert tools.recognise(["python", "other.py"], files) is None
    assert tools.recognise(["python", "-X", "dev", "bench.py"], files) == tools.PYPERF


def test_split_shell_only_plain_commands() -> None:
    assert tools.split_shell("hyperfine 'sleep 0.1; true'") == ["hyperfine", "sleep 0.1; true"]
    assert tools.split_shell("hyperfine 'sleep 0.1' | tee log") is None
    assert tools.split_shell("hyperfine $CMD") is None
    assert tools.split_shell("go test -bench . > out.txt") is None
    assert tools.split_shell("'unclosed") is None


def test_hyperfine_runs_fill_the_duration_with_margin() -> None:
    assert tool_calls.hyperfine_runs(60, 0.1) == 720  # 60 s * 1.2 / 0.1 s
    assert tool_calls.hyperfine_runs(60, 0.1) * 0.1 >= 60
    assert tool_calls.hyperfine_runs(1, 10.0) == 2  # never fewer than two runs
    assert tool_calls.hyperfine_runs(60, 0.0) == 2


def test_hyperfine_call_replaces_run_counts_and_export() -> None:
    argv = ["hyperfine", "-N", "--runs", "10", "-m5", "--export-json", "mine.json", "sleep 0.1"]
    call = tool_calls.hyperfine_call(argv, "/run/hyperfine.json", 720)
    assert call.argv == (
        "hyperfine",
        "--runs",
        "720",
        "--export-json",
        "/run/hyperfine.json",
        "-N",
        "sleep 0.1",
    )
    assert call.user_exports == ("mine.json",)
    assert call.export == "/run/hyperfine.json"
    assert call.export_format == "hyperfine-json"
    assert "replaced --runs 10, --min-runs 5 by --runs 720" in call.changes
    calibration = tool_calls.hyperfine_calibration(argv, "/run/cal.json")
    assert calibration[:3] == ["hyperfine", "--runs", str(tools.CALIBRATION_RUNS)]
    assert "mine.json" not in calibration and calibration[-1] == "sleep 0.1"


def test_pytest_call_sets_max_time_min_time_and_json() -> None:
    argv = ["pytest", "-q", "b.py", "--benchmark-max-time=1", "--benchmark-json", "mine.json"]
    call = tool_calls.pytest_call(argv, 60, "/run/pb.json")
    assert call.argv == (
        "pytest",
        "-q",
        "b.py",
        "--benchmark-max-time=72",
        "--benchmark-min-time=0.06",
        "--benchmark-json=/run/pb.json",
    )
    assert call.user_exports == ("mine.json",)
    assert "replaced --benchmark-max-time=1 by --benchmark-max-time=72" in call.changes
    # the user's longer rounds are kept
    kept = tool_calls.pytest_call(["pytest", "--benchmark-min-time=0.5"], 60, "/x.json")
    assert "--benchmark-min-time=0.5" in kept.argv
    with pytest.raises(PerfError, match="pytest command"):
        tool_calls.pytest_call(["python", "bench.py"], 60, "/x.json")


def test_pyperf_call_spreads_the_duration_over_processes_and_values() -> None:
    call = tool_calls.pyperf_call(["python", "-m", "pyperf", "timeit", "1+1"], 60, "/run/p.json")
    assert call.argv[:4] == ("python", "-m", "pyperf", "timeit")
    assert call.argv[4:12] == (
        "--processes",
        "20",
        "--values",
        "3",
        "--min-time",
        "1.2",  # 60 s * 1.2 / (20 * 3)
        "--output",
        "/run/p.json",
    )
    assert call.argv[-1] == "1+1"


def test_pyperf_call_keeps_user_counts_and_folds_fast() -> None:
    argv = ["python", "-m", "pyperf", "timeit", "-p", "4", "-l", "100", "-o", "mine.json", "1+1"]
    call = tool_calls.pyperf_call(argv, 10, "/run/p.json")
    words = list(call.argv)
    assert words[words.index("--processes") + 1] == "4"
    assert words[words.index("--min-time") + 1] == "1"  # 10 * 1.2 / (4 * 3)
    assert "-l" not in words and "100" not in words and "mine.json" not in words
    assert call.user_exports == ("mine.json",)
    fast = tool_calls.pyperf_call(["python", "-m", "pyperf", "timeit", "--fast", "1"], 10, "/p")
    assert "--fast" not in fast.argv
    assert list(fast.argv)[list(fast.argv).index("--processes") + 1] == "10"
    with pytest.raises(PerfError, match="whole number"):
        tool_calls.pyperf_call(["python", "-m", "pyperf", "timeit", "-p", "x", "1"], 10, "/p")


def test_pyperf_command_program_arguments_are_not_touched() -> None:
    argv = ["python", "-m", "pyperf", "command", "-p", "2", "prog", "-p", "9", "--loops", "3"]
    call = tool_calls.pyperf_call(argv, 6, "/run/p.json")
    assert call.argv[-5:] == ("prog", "-p", "9", "--loops", "3")
    words = list(call.argv)
    assert words[words.index("--processes") + 1] == "2"


def test_pyperf_script_options_go_after_the_script() -> None:
    files = _files({"bench.py": "import pyperf\npyperf.Runner().timeit('a', '1')\n"})
    call = tool_calls.pyperf_call(["python", "bench.py", "--quiet"], 6, "/p.json", files)
    assert call.argv[:3] == ("python", "bench.py", "--processes")
    assert call.argv[-1] == "--quiet"


def test_go_call_benchtime_count_timeout() -> None:
    argv = [
        "go",
        "test",
        "-bench",
        ".",
        "-benchtime=100x",
        "-timeout",
        "1m",
        "./...",
        "-args",
        "-x",
    ]
    call = tool_calls.go_call(argv, 60)
    assert call.argv == (
        "go",
        "test",
        "-benchtime=14.4s",  # 60 s * 1.2 / 5
        "-count=5",
        "-timeout=0",
        "-p=1",
        "-bench",
        ".",
        "./...",
        "-args",
        "-x",
    )
    assert call.export is None and call.export_format == "go-bench"
    assert "replaced -benchtime=100x by -benchtime=14.4s" in call.changes
    own = tool_calls.go_call(["go", "test", "-bench=.", "-count", "3", "-json"], 6)
    assert "-count=3" in own.argv and "-benchtime=2.4s" in own.argv and "-json" in own.argv
    assert own.export_format == "go-test-json"
    assert "-p=1" in own.argv
    assert "-p=1" not in tool_calls.go_call(["go", "test", "-p", "4", "-bench=."], 6).argv


def test_resolve_tool_and_shortfalls() -> None:
    assert tools.resolve_tool("Pytest") == tools.PYTEST_BENCHMARK
    assert tools.resolve_tool("go") == tools.GO_TEST
    with pytest.raises(PerfError, match="known tools"):
        tools.resolve_tool("k6")
    short = tools.shortfalls({"a": 59.0, "b": 61.0}, 57.0)
    assert short == []
    assert tools.shortfalls({"a": 12.5, "b": 61.0}, 57.0) == ["'a' measured 12.5 s < 57 s"]
