"""The process runner with real subprocesses: durations, trees, output bounds, repeat mode."""

from __future__ import annotations

import os
import resource
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from perfinvest.adapters import runner as runner_mod
from perfinvest.adapters.runner import (
    RunOutcome,
    RunSpec,
    captured_stdout,
    run_command,
    spawners,
)
from perfinvest.core.errors import ExitCode, PerfError

PY = sys.executable


def gone(pid: int) -> bool:
    """Not running: no such process, or a zombie (pid 1 in a container may never reap it)."""
    try:
        data = Path(f"/proc/{pid}/stat").read_bytes()
    except FileNotFoundError:
        return True
    return data[data.rfind(b")") + 2 :].split()[0] in (b"Z", b"X")


def wait_gone(pid: int, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if gone(pid):
            return True
        time.sleep(0.02)
    return gone(pid)


def pids_in(text: str) -> list[int]:
    return [int(word) for word in text.split() if word.isdigit()]


def run(*argv: str, **kw: Any) -> RunOutcome:
    kw.setdefault("duration_s", 0.3)
    return run_command(RunSpec(list(argv), **kw))


# --- duration mode -------------------------------------------------------------------------


def test_duration_run_long_enough_is_valid() -> None:
    out = run("sleep", "0.3", min_duration_s=0.25)
    assert out.valid, out.invalid_reason
    assert out.exit_code == 0 and not out.timed_out and not out.interrupted
    assert 0.29 <= out.wall_s < 2.0
    assert (out.ended_at - out.started_at).total_seconds() == pytest.approx(out.wall_s, abs=1e-5)
    assert out.started_at.tzinfo is not None
    assert out.resources is not None and out.resources.samples >= 2
    assert out.resources.max_processes == 1
    assert out.iterations == () and out.survivors_killed == 0


def test_duration_run_too_short_is_invalid_not_fast() -> None:
    out = run("true", min_duration_s=0.5)
    assert not out.valid
    assert out.exit_code == 0
    assert out.invalid_reason is not None
    assert out.invalid_reason.startswith("exited after ")
    assert "before the minimum 0.5 s" in out.invalid_reason


def test_env_is_added_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INHERITED_FROM_PARENT", "yes")
    code = "import os; print(os.environ['PERF_RUN_MODE'], os.environ['INHERITED_FROM_PARENT'])"
    out = run(PY, "-c", code, env={"PERF_RUN_MODE": "duration"})
    assert out.valid, out.stderr_tail
    assert out.stdout_tail == "duration yes\n"


def test_shell_mode_runs_a_string_through_sh(tmp_path: Path) -> None:
    out = run("echo $PERF_X | tr a-z A-Z", shell=True, env={"PERF_X": "abc"}, cwd=tmp_path)
    assert out.stdout_tail == "ABC\n"
    missing = run("no-such-command-4711", shell=True)
    assert not missing.valid
    assert missing.invalid_reason == "exit code 127 (the shell could not find the command)"


def test_cwd_is_honoured(tmp_path: Path) -> None:
    out = run("pwd", cwd=tmp_path)
    assert out.stdout_tail.strip() == str(tmp_path)


def test_stderr_is_captured_separately() -> None:
    out = run("sh", "-c", "echo out; echo err >&2")
    assert (out.stdout_tail, out.stderr_tail) == ("out\n", "err\n")
    assert (out.stdout_bytes, out.stderr_bytes) == (4, 4)


def test_non_zero_exit_is_reported_not_raised() -> None:
    out = run("sh", "-c", "echo boom >&2; exit 3")
    assert not out.valid
    assert out.exit_code == 3
    assert out.invalid_reason == "exit code 3"
    assert out.stderr_tail == "boom\n"


def test_death_by_signal_is_named() -> None:
    out = run("sh", "-c", "kill -9 $$")
    assert out.exit_code == -9
    assert out.invalid_reason == "killed by SIGKILL"


def test_timeout_kills_the_whole_tree_including_a_grandchild() -> None:
    started = time.monotonic()
    out = run("sh", "-c", "sleep 30 & echo $!; sleep 30", timeout_s=0.5)
    assert time.monotonic() - started < 4
    assert out.timed_out and not out.valid
    assert out.invalid_reason is not None and out.invalid_reason.startswith("timed out after")
    assert "limit 0.5 s" in out.invalid_reason
    assert out.exit_code == -15
    (grandchild,) = pids_in(out.stdout_tail)
    assert wait_gone(grandchild)


@pytest.mark.parametrize("hz", [10.0, 0.0])
def test_timeout_kills_a_descendant_that_left_the_session(hz: float) -> None:
    # setsid(1) puts the sleep in a new session, away from our pipes: only descendant
    # tracking (the sampler's, or the runner's own when sampling is off) finds it.
    out = run(
        "sh",
        "-c",
        "setsid sleep 30 >/dev/null 2>&1 & echo $!; sleep 30",
        timeout_s=1.0,
        sample_hz=hz,
    )
    assert out.timed_out
    (escaped,) = pids_in(out.stdout_tail)
    assert wait_gone(escaped)


def test_sigterm_ignoring_tree_gets_sigkill_after_the_grace() -> None:
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(30)"
    started = time.monotonic()
    out = run(PY, "-c", code, timeout_s=0.3)
    elapsed = time.monotonic() - started
    assert out.timed_out and out.exit_code == -9
    assert runner_mod.KILL_GRACE_S <= elapsed < runner_mod.KILL_GRACE_S + 3


def test_children_outliving_the_command_are_killed_and_counted() -> None:
    started = time.monotonic()
    out = run("sh", "-c", "sleep 30 & echo $!; sleep 30 & echo $!")
    assert time.monotonic() - started < 4  # the sleeps hold stdout open: killing them ends it
    assert out.valid and out.survivors_killed == 2
    for pid in pids_in(out.stdout_tail):
        assert wait_gone(pid)


def test_an_escaped_descendant_holding_the_output_is_found_and_killed() -> None:
    # The shell exits at once; its setsid'd child is in no session or tree of ours, but it
    # holds our stdout pipe, so end-of-file never comes until it is found through the pipe.
    started = time.monotonic()
    out = run("sh", "-c", "setsid sleep 30 & echo $!", sample_hz=0)
    assert time.monotonic() - started < 6
    assert out.survivors_killed == 1
    (escaped,) = pids_in(out.stdout_tail)
    assert wait_gone(escaped)


def test_command_not_found_is_a_perf_error() -> None:
    with pytest.raises(PerfError) as info:
        run("no-such-command-4711")
    assert info.value.code == ExitCode.BENCHMARK_FAILED
    assert "command not found: no-such-command-4711" in info.value.message
    assert "\n" not in info.value.message


def test_missing_relative_command_is_a_perf_error(tmp_path: Path) -> None:
    with pytest.raises(PerfError) as info:
        run("./bench.sh", cwd=tmp_path)
    assert info.value.code == ExitCode.BENCHMARK_FAILED
    assert "./bench.sh" in info.value.message


@pytest.mark.parametrize("mode", ["duration", "repeat"])
def test_non_executable_file_is_a_perf_error(tmp_path: Path, mode: str) -> None:
    script = tmp_path / "bench.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    with pytest.raises(PerfError) as info:
        run("./bench.sh", cwd=tmp_path, mode=mode)
    assert info.value.code == ExitCode.BENCHMARK_FAILED
    assert "cannot execute ./bench.sh" in info.value.message
    assert "chmod +x" in info.value.message


def test_a_directory_is_not_a_command(tmp_path: Path) -> None:
    with pytest.raises(PerfError, match="it is a directory") as info:
        run(str(tmp_path))
    assert info.value.code == ExitCode.BENCHMARK_FAILED


@pytest.mark.parametrize("mode", ["duration", "repeat"])
def test_executable_without_shebang_is_a_perf_error(tmp_path: Path, mode: str) -> None:
    binary = tmp_path / "fake"
    binary.write_bytes(b"\x7fELF this is not a real program")
    binary.chmod(0o755)
    with pytest.raises(PerfError, match="cannot execute") as info:
        run(str(binary), mode=mode, warmup=0)
    assert info.value.code == ExitCode.BENCHMARK_FAILED


def test_missing_working_directory_is_a_perf_error(tmp_path: Path) -> None:
    with pytest.raises(PerfError, match="does not exist") as info:
        run("true", cwd=tmp_path / "nope")
    assert info.value.code == ExitCode.BENCHMARK_FAILED


def test_invalid_spec_is_a_usage_error() -> None:
    with pytest.raises(PerfError) as info:
        RunSpec([])
    assert info.value.code == ExitCode.USAGE
    with pytest.raises(PerfError):
        RunSpec(["true"], min_iterations=5, max_iterations=2)
    with pytest.raises(PerfError, match="shell=True"):
        RunSpec("sleep 1")
    with pytest.raises(PerfError, match="must be strings"):
        RunSpec(["true"], env={"N": 1})  # type: ignore[dict-item]


def test_default_timeout() -> None:
    assert RunSpec(["true"], duration_s=60).effective_timeout_s == 180
    assert RunSpec(["true"], duration_s=5).effective_timeout_s == 35
    assert RunSpec(["true"], duration_s=5, timeout_s=7).effective_timeout_s == 7


def test_stop_event_interrupts_a_duration_run() -> None:
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    out = run_command(
        RunSpec(["sh", "-c", "sleep 30 & echo $!; sleep 30"], duration_s=30), stop=stop
    )
    assert time.monotonic() - started < 3
    assert out.interrupted and not out.valid and not out.timed_out
    assert out.invalid_reason is not None and out.invalid_reason.startswith("interrupted after")
    (grandchild,) = pids_in(out.stdout_tail)
    assert wait_gone(grandchild)


def test_stop_already_set_starts_nothing() -> None:
    stop = threading.Event()
    stop.set()
    out = run_command(RunSpec(["sleep", "30"]), stop=stop)
    assert out.interrupted and out.exit_code is None and out.wall_s == 0


def test_an_exception_in_the_caller_leaves_nothing_running(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"

    def progress(elapsed: float, iterations: int) -> None:
        if pid_file.exists() and pid_file.read_text().strip():
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_command(
            RunSpec(["sh", "-c", f"sleep 30 & echo $! > {pid_file}; sleep 30"], duration_s=30),
            on_progress=progress,
        )
    assert wait_gone(int(pid_file.read_text()))


def test_progress_is_reported_at_most_ten_times_a_second() -> None:
    calls: list[tuple[float, int]] = []
    run_command(
        RunSpec(["sleep", "0.6"], duration_s=0.6), on_progress=lambda e, n: calls.append((e, n))
    )
    assert 2 <= len(calls) <= 7
    assert [e for e, _ in calls] == sorted(e for e, _ in calls)
    assert all(n == 0 for _, n in calls)


def test_preexec_cgroup_file_gets_the_child_pid(tmp_path: Path) -> None:
    procs = [tmp_path / "a.procs", tmp_path / "b.procs"]
    for path in procs:
        path.write_text("")
    out = run(PY, "-c", "import os; print(os.getpid())", preexec_cgroup_procs=procs)
    assert out.valid
    for path in procs:
        assert path.read_text() == out.stdout_tail.strip()


def test_repeat_mode_joins_the_cgroup_on_every_iteration(tmp_path: Path) -> None:
    procs = tmp_path / "cgroup.procs"
    procs.write_text("")
    log = tmp_path / "pids"
    out = run(
        "sh",
        "-c",
        f"echo $$ >> {log}",
        mode="repeat",
        duration_s=0.01,
        warmup=1,
        min_iterations=3,
        max_iterations=3,
        preexec_cgroup_procs=[procs],
    )
    assert out.valid and len(out.iterations) == 3
    assert procs.read_text() == log.read_text().split()[-1]  # each write replaces (a file)


def test_missing_cgroup_file_is_an_environment_error(tmp_path: Path) -> None:
    with pytest.raises(PerfError) as info:
        run("true", preexec_cgroup_procs=[tmp_path / "missing" / "cgroup.procs"])
    assert info.value.code == ExitCode.ENVIRONMENT


# --- output bounds -------------------------------------------------------------------------


def test_huge_output_stays_bounded_in_memory_and_on_disk(tmp_path: Path) -> None:
    size = 200_000_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out = run(
        "head",
        "-c",
        str(size),
        "/dev/zero",
        artifact_dir=tmp_path,
        capture_limit_bytes=1 << 20,
        tail_bytes=4096,
    )
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert out.valid
    assert out.stdout_bytes == size
    assert out.stdout_truncated and not out.stderr_truncated
    assert out.stdout_path == tmp_path / "stdout.log"
    file_size = out.stdout_path.stat().st_size
    assert (1 << 20) + 4096 <= file_size <= (1 << 20) + 4096 + 100
    assert len(out.stdout_tail) == 4096
    assert after - before < 50 * 2**20  # the 200 MB never sat in memory


def test_huge_output_without_artifact_dir_keeps_only_the_tail() -> None:
    out = run("head", "-c", "5000000", "/dev/zero", tail_bytes=1000)
    assert out.stdout_path is None
    assert out.stdout_bytes == 5_000_000 and out.stdout_truncated
    assert len(out.stdout_tail) == 1000
    assert captured_stdout(out) == out.stdout_tail


def test_captured_stdout_keeps_head_and_tail_with_a_marker(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.stdout.write("first line\\n" + "x" * 99 + "\\n" * 1 + ("y" * 99 + "\\n") * 20000)
        print("PERF_METRICS ops_per_sec=123.5")
        """
    )
    out = run(PY, "-c", code, artifact_dir=tmp_path, capture_limit_bytes=8192, tail_bytes=4096)
    text = captured_stdout(out)
    assert text.startswith("first line\n")
    assert text.endswith("PERF_METRICS ops_per_sec=123.5\n")
    assert "bytes omitted]" in text
    assert len(text) < 8192 + 4096 + 100


def test_captured_stdout_is_exact_when_head_and_tail_overlap(tmp_path: Path) -> None:
    code = "import sys; sys.stdout.write(''.join(f'{i:07d}\\n' for i in range(12000)))"
    out = run(PY, "-c", code, artifact_dir=tmp_path, capture_limit_bytes=65536, tail_bytes=65536)
    expected = "".join(f"{i:07d}\n" for i in range(12000))  # 96,000 bytes
    assert not out.stdout_truncated
    assert captured_stdout(out) == expected


def test_tail_is_decoded_with_replacement(tmp_path: Path) -> None:
    out = run("printf", "caf\\303\\251 \\377\\n", artifact_dir=tmp_path)
    assert out.stdout_tail == "café \ufffd\n"


# --- repeat mode ---------------------------------------------------------------------------


BUSY = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.02:\n    pass\n"


def test_repeat_mode_counts_warmup_and_rusage(tmp_path: Path) -> None:
    script = tmp_path / "busy.py"
    script.write_text(BUSY)
    out = run(PY, str(script), mode="repeat", duration_s=0.3, warmup=2, min_iterations=3)
    assert out.valid, out.invalid_reason
    assert out.warmup_iterations == 2
    assert len(out.iterations) >= 3
    for it in out.iterations:
        assert it.exit_code == 0
        assert it.user_s + it.sys_s >= 0.015
        assert it.wall_s >= 0.02
        assert it.max_rss_bytes > 1 << 20
    assert out.resources is None
    assert out.rss_floor_bytes is not None and out.rss_floor_bytes > 0


def test_repeat_mode_fills_the_duration() -> None:
    out = run("sleep", "0.05", mode="repeat", duration_s=0.4, warmup=0, min_iterations=2)
    assert out.valid
    assert 3 <= len(out.iterations) <= 9  # ~7 on a quiet host
    assert all(0.05 <= it.wall_s < 0.5 for it in out.iterations)
    assert out.stdout_tail == "" and out.stdout_path is None  # warmup=0: nothing captured


def test_repeat_mode_min_and_max_iterations() -> None:
    out = run("true", mode="repeat", duration_s=0.001, warmup=0, min_iterations=7)
    assert len(out.iterations) >= 7
    capped = run("true", mode="repeat", duration_s=10, warmup=1, min_iterations=2, max_iterations=4)
    assert len(capped.iterations) == 4 and capped.warmup_iterations == 1


def test_repeat_mode_uses_cwd_and_env(tmp_path: Path) -> None:
    out = run(
        "sh",
        "-c",
        'echo "$PERF_RUN_MODE $(pwd)" >> seen.txt',
        mode="repeat",
        env={"PERF_RUN_MODE": "oneshot"},
        cwd=tmp_path,
        warmup=0,
        min_iterations=2,
        max_iterations=2,
    )
    assert out.valid
    assert (tmp_path / "seen.txt").read_text() == f"oneshot {tmp_path}\n" * 2


def test_repeat_mode_captures_the_first_warmup_output(tmp_path: Path) -> None:
    out = run(
        "sh",
        "-c",
        "echo hello; echo warn >&2",
        mode="repeat",
        warmup=2,
        max_iterations=3,
        artifact_dir=tmp_path,
    )
    assert out.valid
    assert out.stdout_path == tmp_path / "stdout.log"
    assert out.stdout_path.read_text() == "hello\n"  # once: later iterations go to /dev/null
    assert (out.stdout_tail, out.stderr_tail) == ("hello\n", "warn\n")
    assert captured_stdout(out) == "hello\n"


def test_repeat_mode_failing_iteration_makes_the_run_invalid(tmp_path: Path) -> None:
    counter = tmp_path / "n"
    # Fails on its third run: warmup 1 and iteration 1 pass, iteration 2 fails.
    cmd = f"n=$(( $(cat {counter} 2>/dev/null || echo 0) + 1 )); echo $n > {counter}; [ $n -lt 3 ]"
    out = run("sh", "-c", cmd, mode="repeat", warmup=1, duration_s=5)
    assert not out.valid
    assert out.invalid_reason == "iteration 2 failed: exit code 1"
    assert out.exit_code == 1
    assert len(out.iterations) == 1


def test_repeat_mode_failing_warmup_shows_its_output() -> None:
    out = run("sh", "-c", "echo broken >&2; exit 2", mode="repeat", warmup=1)
    assert not out.valid
    assert out.invalid_reason == "warmup iteration 1 failed: exit code 2"
    assert out.stderr_tail == "broken\n"
    assert out.iterations == ()


def test_repeat_mode_timeout_kills_the_running_iteration() -> None:
    started = time.monotonic()
    out = run("sleep", "30", mode="repeat", warmup=0, timeout_s=0.5)
    assert time.monotonic() - started < 4
    assert out.timed_out and not out.valid and out.iterations == ()
    assert out.invalid_reason is not None and "timed out after" in out.invalid_reason


def test_repeat_mode_timeout_during_the_captured_warmup() -> None:
    out = run("sleep", "30", mode="repeat", warmup=1, timeout_s=0.4)
    assert out.timed_out and not out.valid and out.warmup_iterations == 0


def test_stop_event_interrupts_a_repeat_run() -> None:
    stop = threading.Event()
    threading.Timer(0.4, stop.set).start()
    started = time.monotonic()
    out = run_command(RunSpec(["sleep", "0.05"], mode="repeat", duration_s=30, warmup=0), stop=stop)
    assert time.monotonic() - started < 3
    assert out.interrupted and not out.valid
    assert 1 <= len(out.iterations) <= 9


def test_repeat_mode_kills_and_counts_leftovers_of_iterations() -> None:
    out = run("sh", "-c", "sleep 30 &", mode="repeat", warmup=0, min_iterations=2, max_iterations=2)
    assert out.valid
    assert out.survivors_killed == 2


def test_repeat_mode_progress_counts_iterations() -> None:
    calls: list[tuple[float, int]] = []
    run_command(
        RunSpec(["sleep", "0.03"], mode="repeat", duration_s=0.5, warmup=0),
        on_progress=lambda e, n: calls.append((e, n)),
    )
    assert 2 <= len(calls) <= 7
    assert calls[-1][1] > calls[0][1] >= 1


def test_repeat_mode_popen_fallback_matches(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(spawners, "_libc", lambda: None)
    out = run(
        "sh",
        "-c",
        "pwd >> seen.txt",
        mode="repeat",
        cwd=tmp_path,
        warmup=0,
        min_iterations=3,
        max_iterations=3,
    )
    assert out.valid and len(out.iterations) == 3
    assert (tmp_path / "seen.txt").read_text() == f"{tmp_path}\n" * 3


def test_repeat_children_do_not_inherit_ignored_sigpipe() -> None:
    # Python ignores SIGPIPE; a spawned shell pipeline must see the default action again.
    out = run(
        "sh",
        "-c",
        "yes | head -n 1 >/dev/null; exit 0",
        mode="repeat",
        warmup=0,
        min_iterations=2,
        max_iterations=2,
        timeout_s=5,
    )
    assert out.valid and not out.timed_out


def test_no_zombies_or_fds_leak_across_runs() -> None:
    fds_before = len(os.listdir("/proc/self/fd"))
    for _ in range(3):
        run("true", mode="repeat", warmup=1, max_iterations=3)
        run("true")
    assert len(os.listdir("/proc/self/fd")) == fds_before
    assert not zombie_children()


def zombie_children() -> list[int]:
    """Our children that exited and were never reaped (looked up without reaping any)."""
    zombies = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                data = (entry / "stat").read_bytes()
            except OSError:
                continue
            fields = data[data.rfind(b")") + 2 :].split()
            if fields[0] == b"Z" and int(fields[1]) == os.getpid():
                zombies.append(int(entry.name))
    return zombies
