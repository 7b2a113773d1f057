"""Real profilers on real programs with a known hot function.

Node, Go and Java run for real here: node, go (golang-go) and a JDK 17 with `jfr` are
installed on this machine; each test skips with the reason when its tool is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from perfinvest.adapters.profilers.base import ProfileRequest, RunFacts, hotspots_of
from perfinvest.adapters.profilers.node import parse_cpuprofile
from perfinvest.adapters.profilers.perf import check_recording
from perfinvest.adapters.profilers.select import plan_for
from perfinvest.core.errors import ExitCode, PerfError
from perfinvest.core.profiling.hotspots import compute_hotspots

HOT_PY = """\
import time


def hot(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def cold():
    return sum(range(50))


def main():
    end = time.perf_counter() + 1.5
    while time.perf_counter() < end:
        hot(20000)
        cold()


main()
"""

HOT_C = r"""#include <stdio.h>
#include <time.h>
__attribute__((noinline)) double burn(long n) {
    volatile double s = 0;
    for (long i = 0; i < n; i++)
        s += i * 0.5;
    return s;
}
__attribute__((noinline)) double light(long n) { volatile double s = 0; for (long i = 0; i < n; i++) s += i; return s; }
int main(void) {
    struct timespec a, b; double t = 0;
    clock_gettime(CLOCK_MONOTONIC, &a);
    do { t += burn(2000000); t += light(50000); clock_gettime(CLOCK_MONOTONIC, &b); }
    while ((b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9 < 1.5);
    printf("%f\n", t);
    return 0;
}
"""


def test_pyspy_names_the_hot_line_and_the_definition(
    tmp_path: Path, run_profiler: Callable[..., Any]
) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "hot.py").write_text(HOT_PY)
    collected = run_profiler("py-spy", [sys.executable, "app/hot.py"], tmp_path, tmp_path / "out")
    hotspots = hotspots_of(collected, tmp_path)
    top = hotspots[0]
    assert (top.function, top.file, top.line) == ("hot", "app/hot.py", 4)  # def hot(n):
    assert top.self_pct > 80
    # the loop body `total += i * i % 7` (line 7) is where the samples are, not the def line
    assert top.hot_line == "app/hot.py:7"
    assert top.lines[0].line == 7 and top.lines[0].self_pct > 40
    assert {hot.line for hot in top.lines} <= {5, 6, 7, 8}
    # the numbers are py-spy's own: its raw file's samples whose leaf is hot.py line 7
    raw = (tmp_path / "out" / "pyspy.collapsed.txt").read_text()
    leaf_on_7 = sum(
        int(row.rpartition(" ")[2])
        for row in raw.splitlines()
        if row.rpartition(" ")[0].endswith(f"hot ({tmp_path}/app/hot.py:7)")
    )
    assert top.lines[0].samples == leaf_on_7
    assert top.lines[0].self_pct == pytest.approx(100 * leaf_on_7 / collected.total_samples)
    main = next(h for h in hotspots if h.function == "main")
    assert (main.line, main.hot_line) == (15, "app/hot.py:18")  # the call of hot(20000)
    assert collected.total_samples > 50  # 100 Hz for ~1.5 s


@pytest.mark.slow
def test_perf_names_the_hot_c_function(tmp_path: Path, run_profiler: Callable[..., Any]) -> None:
    problem = check_recording()
    if problem:
        pytest.skip(f"perf record does not work here: {problem}")
    (tmp_path / "hot.c").write_text(HOT_C)
    subprocess.run(["gcc", "-O2", "-g", "-o", "hot", "hot.c"], cwd=tmp_path, check=True)
    collected = run_profiler("perf", ["./hot"], tmp_path, tmp_path / "out")
    hotspots = hotspots_of(collected, tmp_path)
    top = hotspots[0]
    assert top.function == "burn"
    # built with -g: DWARF lines name the source file, its def (line 3) and the loop body
    assert (top.file, top.line) == ("hot.c", 3)
    assert top.hot_line == "hot.c:6"
    assert top.self_pct > 70
    # the count is perf's own: perf script's sample blocks whose leaf is burn at hot.c:6
    script = subprocess.run(
        ["perf", "script", "-i", str(tmp_path / "out" / "perf.data"), "-F", "comm,ip,sym,srcline"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    blocks = [block.strip().splitlines() for block in script.split("\n\n") if block.strip()]
    leaves = [block[1:3] for block in blocks if len(block) >= 3]  # after the comm line
    on_6 = sum(
        1 for leaf in leaves if leaf[0].split()[1:] == ["burn"] and leaf[1].strip() == "hot.c:6"
    )
    assert top.lines[0].samples == on_6
    main = next(h for h in hotspots if h.function == "main")
    assert (main.line, main.hot_line) == (10, "hot.c:13")  # the call of burn()


def test_node_cpuprofile_from_real_node(tmp_path: Path, run_profiler: Callable[..., Any]) -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    (tmp_path / "hot.js").write_text(
        "function hot(n) {\n"
        "  let s = 0;\n"
        "  for (let i = 0; i < n; i++) {\n"
        "    s += (i * i) % 7;\n"
        "  }\n"
        "  return s;\n"
        "}\n"
        "function main() { const end = Date.now() + 1200; let t = 0;\n"
        "  while (Date.now() < end) { t += hot(100000); } console.log(t); }\n"
        "main();\n"
    )
    collected = run_profiler("node", ["node", "hot.js"], tmp_path, tmp_path / "out", rate=200)
    hotspots = hotspots_of(collected, tmp_path)
    top = hotspots[0]
    assert (top.function, top.file, top.line) == ("hot", "hot.js", 1)  # V8's function line
    assert top.hot_line == "hot.js:4"  # the loop body, from V8's positionTicks
    assert not any(h.function in ("(program)", "(root)", "(idle)") for h in hotspots)
    # the count is V8's own: the positionTicks of hot's nodes on line 4
    ticks = 0
    for path in (tmp_path / "out" / "cpuprofiles").glob("*.cpuprofile"):
        for node in json.loads(path.read_text())["nodes"]:
            if node["callFrame"]["functionName"] == "hot":
                ticks += sum(t["ticks"] for t in node.get("positionTicks", []) if t["line"] == 4)
    assert 0 < top.lines[0].samples <= ticks
    assert top.lines[0].samples >= ticks - 2  # ticks beyond the node's sample count are dropped
    main = next(h for h in hotspots if h.function == "main")
    assert main.line == 8
    # V8 records no call sites: a caller's lines are only those of its own ticks
    assert all(hot.samples == hot.total_samples for hot in main.lines)


def test_node_truncated_cpuprofile_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PerfError, match="truncated or malformed"):
        parse_cpuprofile('{"nodes": [{"id": 1, "callFrame": {', "x.cpuprofile")


@pytest.mark.slow
def test_go_test_cpuprofile_read_with_pprof(
    tmp_path: Path, run_profiler: Callable[..., Any]
) -> None:
    if shutil.which("go") is None:
        pytest.skip("go is not installed (apt-get install golang-go)")
    (tmp_path / "go.mod").write_text("module example.com/hot\n\ngo 1.19\n")
    (tmp_path / "hot_test.go").write_text(
        'package hot\n\nimport "testing"\n\n//go:noinline\n'
        "func hot(n int) int {\n\ts := 0\n\tfor i := 0; i < n; i++ {\n\t\ts += i * i % 7\n\t}\n\treturn s\n}\n\n"
        "func BenchmarkHot(b *testing.B) {\n\tfor i := 0; i < b.N; i++ {\n\t\thot(100000)\n\t}\n}\n"
    )
    env = {"GOCACHE": str(tmp_path / "gocache"), "GOFLAGS": "-mod=mod"}
    collected = run_profiler(
        "go",
        ["go", "test", "-run", "^$", "-bench", ".", "-benchtime", "1s"],
        tmp_path,
        tmp_path / "out",
        env=env,
        duration=30,
    )
    hotspots = hotspots_of(collected, tmp_path)
    top = hotspots[0]
    assert top.function == "example.com/hot.hot"
    assert (top.file, top.line) == ("hot_test.go", 6)  # func hot(n int) int {
    # pprof's locations carry the executing line: the loop body `s += i * i % 7`
    assert top.hot_line == "hot_test.go:9"
    assert {hot.line for hot in top.lines} <= {6, 7, 8, 9, 10, 11}
    # the count is pprof's own: samples whose leaf location is hot_test.go:9
    raw = subprocess.run(
        ["go", "tool", "pprof", "-raw", str(tmp_path / "out" / "cpu.pprof")],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={**os.environ, **env},
    ).stdout
    samples_part, _, locations_part = raw.partition("Locations")
    on_9 = {
        row.split(":")[0].strip()
        for row in locations_part.splitlines()
        if f"{tmp_path}/hot_test.go:9 " in row + " "
    }
    leaf_counts = [
        int(count.split()[0])
        for count, _, ids in (row.partition(":") for row in samples_part.splitlines())
        if ids.split() and ids.split()[0] in on_9 and count.split()[0].isdigit()
    ]
    assert leaf_counts
    assert top.lines[0].samples == sum(leaf_counts)


@pytest.mark.slow
def test_java_flight_recorder_read_with_jfr(
    tmp_path: Path, run_profiler: Callable[..., Any]
) -> None:
    if shutil.which("javac") is None or shutil.which("jfr") is None:
        pytest.skip("a JDK with javac and jfr is not installed")
    (tmp_path / "Hot.java").write_text(
        "public class Hot {\n"
        "    static long hot(long n) {\n"
        "        long s = 0;\n"
        "        for (long i = 0; i < n; i++) {\n"
        "            s += (i * i) % 7;\n"
        "        }\n"
        "        return s;\n"
        "    }\n"
        "    public static void main(String[] args) {\n"
        "        long end = System.currentTimeMillis() + 1500; long t = 0;\n"
        "        while (System.currentTimeMillis() < end) { t += hot(1000000); }\n"
        "        System.out.println(t);\n    }\n}\n"
    )
    subprocess.run(["javac", "Hot.java"], cwd=tmp_path, check=True)
    collected = run_profiler(
        "java", ["java", "-cp", ".", "Hot"], tmp_path, tmp_path / "out", duration=20
    )
    hotspots = hotspots_of(collected, tmp_path)
    top = hotspots[0]
    assert top.function == "Hot.hot(long)"
    assert (top.file, top.line) == ("Hot.java", 2)  # the method's line, from the source
    # JFR's frames carry the executing line: the loop (4) or its body (5)
    assert top.hot_line in ("Hot.java:4", "Hot.java:5")
    # the count is JFR's own: samples whose top frame is Hot.hot at that line
    printed = subprocess.run(
        [
            "jfr",
            "print",
            "--events",
            "jdk.ExecutionSample",
            str(tmp_path / "out" / "recording.jfr"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = top.lines[0].line
    tops = [
        block.split("stackTrace = [", 1)[1].strip().splitlines()[0].strip()
        for block in printed.split("jdk.ExecutionSample")
        if "stackTrace = [" in block
    ]
    assert top.lines[0].samples == sum(
        1 for t in tops if t.startswith(f"Hot.hot(long) line: {line}")
    )


def test_target_that_exits_before_the_first_sample(
    tmp_path: Path, run_profiler: Callable[..., Any]
) -> None:
    """Either py-spy saw nothing (a clear error) or only interpreter start-up (no hotspot:
    the profile phase then answers the same error, see tests/cli/test_profile.py)."""
    try:
        collected = run_profiler(
            "py-spy", [sys.executable, "-S", "-c", "pass"], tmp_path, tmp_path / "out"
        )
    except PerfError as error:
        assert error.code == ExitCode.BENCHMARK_FAILED
        assert "before the first sample" in error.message
    else:
        assert compute_hotspots(collected.stacks, repo_root=str(tmp_path)) == []


def test_empty_and_truncated_profile_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    request = ProfileRequest([sys.executable, "x.py"], False, tmp_path, out, tmp_path)
    plan, _ = plan_for("py-spy", request)
    raw = out / "pyspy.collapsed.txt"
    raw.write_text("")
    with pytest.raises(PerfError, match="no samples"):
        plan.collect(RunFacts(0.5, 0))
    raw.write_text("main (/x.py:1);hot (/x.py:4) 10\nmain (/x.py:1);hot (/x.py")
    with pytest.raises(PerfError, match="truncated or malformed") as caught:
        plan.collect(RunFacts(0.5, 0))
    assert caught.value.code == ExitCode.BENCHMARK_FAILED


def test_missing_profiler_answers_exit_7_with_the_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    request = ProfileRequest(["./server"], False, tmp_path, tmp_path / "out", tmp_path)
    with pytest.raises(PerfError) as caught:
        plan_for("perf", request)
    assert caught.value.code == ExitCode.ENVIRONMENT
    assert "apt-get install linux-perf" in caught.value.message


@pytest.mark.slow
def test_ptrace_not_permitted_is_reported_not_a_thin_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_profiler: Callable[..., Any]
) -> None:
    """A real py-spy without CAP_SYS_PTRACE against a target of another user.

    The target runs as nobody from its very first instruction (setpriv changes the uid
    before exec), so ptrace is refused from the start: no race with py-spy's attach.
    """
    system_python = shutil.which("python3", path="/usr/bin:/bin")
    if shutil.which("setpriv") is None or os.geteuid() != 0 or system_python is None:
        pytest.skip("needs root, setpriv and a system python3 readable by nobody")
    real = Path(sys.executable).parent / "py-spy"
    wrapper_dir = tmp_path / "bin"
    wrapper_dir.mkdir()
    wrapper = wrapper_dir / "py-spy"
    wrapper.write_text(f'#!/bin/sh\nexec setpriv --bounding-set -sys_ptrace -- {real} "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrapper_dir}:{os.environ['PATH']}")
    busy = "import time\nend = time.time() + 2\nwhile time.time() < end:\n    sum(range(1000))\n"
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", system_python]
    with pytest.raises(PerfError) as caught:
        run_profiler("py-spy", [*as_nobody, "-c", busy], tmp_path, tmp_path / "out")
    # py-spy either sees the target then loses it (ptrace refused: exit 7) or never finds a
    # readable Python process (exit 5); both name the cause and the cProfile way out
    assert caught.value.code in (ExitCode.ENVIRONMENT, ExitCode.BENCHMARK_FAILED)
    assert "ptrace" in caught.value.message
    assert "cprofile" in caught.value.message


def test_cprofile_names_the_hot_function(tmp_path: Path, run_profiler: Callable[..., Any]) -> None:
    (tmp_path / "hot.py").write_text(HOT_PY.replace("1.5", "0.5"))
    collected = run_profiler("cprofile", [sys.executable, "hot.py"], tmp_path, tmp_path / "out")
    top = collected.hotspots[0]
    assert (top.function, top.file, top.line) == ("hot", "hot.py", 4)
    # cProfile knows each function's def line only: no hot line, and the profile says so
    assert (top.lines, top.hot_line) == ([], None)
    assert "def lines only" in collected.note
    assert json.dumps(top.model_dump())  # serialisable into the state
