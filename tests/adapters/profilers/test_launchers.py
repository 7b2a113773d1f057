"""Command lines built per launcher: lists, never string concatenation."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfinvest.adapters.profilers.launchers import (
    detect,
    with_cprofile,
    with_go_cpuprofile,
    with_java_option,
    with_node_flags,
)
from perfinvest.adapters.profilers.select import choose
from perfinvest.core.errors import PerfError

OUT = Path("/out/profile.pstats")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["python", "bench.py", "-n", "3"],
            ["python", "-m", "cProfile", "-o", str(OUT), "bench.py", "-n", "3"],
        ),
        (
            ["python3", "-X", "dev", "-m", "pkg.bench", "x"],
            ["python3", "-X", "dev", "-m", "cProfile", "-o", str(OUT), "-m", "pkg.bench", "x"],
        ),
        (
            ["python3.11", "-O", "b.py"],
            ["python3.11", "-O", "-m", "cProfile", "-o", str(OUT), "b.py"],
        ),
    ],
)
def test_cprofile_goes_between_python_and_the_target(argv: list[str], expected: list[str]) -> None:
    assert with_cprofile(detect(argv, False), OUT) == expected


def test_cprofile_refuses_python_c_and_shell_pipelines() -> None:
    with pytest.raises(PerfError, match="python -c"):
        with_cprofile(detect(["python", "-c", "pass"], False), OUT)
    with pytest.raises(PerfError, match="cProfile needs"):
        with_cprofile(detect(["python bench.py | tee out"], True), OUT)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["java", "-jar", "app.jar", "-x"], ["java", "-XX:F", "-jar", "app.jar", "-x"]),
        (
            ["java", "-Xmx1g", "-cp", "a:b", "com.x.Main", "-v"],
            ["java", "-Xmx1g", "-cp", "a:b", "-XX:F", "com.x.Main", "-v"],
        ),
    ],
)
def test_jvm_option_goes_before_the_main_class_or_jar(argv: list[str], expected: list[str]) -> None:
    assert with_java_option(detect(argv, False), "-XX:F") == (expected, {})


def test_jvm_option_through_jdk_java_options_for_build_tools() -> None:
    assert with_java_option(detect(["mvn", "exec:java"], False), "-XX:F")[1] == {
        "JDK_JAVA_OPTIONS": "-XX:F"
    }


def test_node_flags_after_node_or_through_node_options_for_npm() -> None:
    assert with_node_flags(detect(["node", "b.js", "1"], False), ["--cpu-prof"]) == (
        ["node", "--cpu-prof", "b.js", "1"],
        {},
    )
    argv, env = with_node_flags(
        detect(["npm", "run", "bench"], False), ["--cpu-prof", "--cpu-prof-dir=/o"]
    )
    assert argv == ["npm", "run", "bench"]
    assert env == {"NODE_OPTIONS": "--cpu-prof --cpu-prof-dir=/o"}


def test_go_cpuprofile_right_after_test() -> None:
    argv = with_go_cpuprofile(
        detect(["go", "test", "-bench", ".", "./pkg"], False), Path("/o/cpu.pprof")
    )
    assert argv == ["go", "test", "-cpuprofile=/o/cpu.pprof", "-bench", ".", "./pkg"]
    with pytest.raises(PerfError, match="perf"):
        with_go_cpuprofile(detect(["./server"], False), Path("/o/cpu.pprof"))


@pytest.mark.parametrize(
    ("argv", "shell", "profiler"),
    [
        (["python", "-m", "pkg"], False, "py-spy"),
        (["npm", "run", "bench"], False, "node"),
        (["java", "-jar", "a.jar"], False, "java"),
        (["go", "test", "-bench", "."], False, "go"),
        (["cargo", "run", "--release"], False, "perf"),
        (["./server"], False, "perf"),
        (["cd app && python bench.py"], True, "py-spy"),
    ],
)
def test_auto_selection_says_why(
    argv: list[str], shell: bool, profiler: str, tmp_path: Path
) -> None:
    choice = choose(detect(argv, shell), tmp_path)
    assert choice.profiler == profiler
    assert choice.reason
