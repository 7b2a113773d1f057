"""The per-tool option rewriting of tool-driven runs (see :mod:`perfinvest.core.tools.recognise`).

Each ``*_call`` takes the user's argv and returns a
:class:`~perfinvest.core.tools.recognise.ToolCall`: the options that control how long
the tool measures are replaced by ones that fill the duration, the export option points
into the run's folder, and every change is listed.
Pure argv arithmetic, like the recognition.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from perfinvest.core.errors import usage_error
from perfinvest.core.tools.recognise import (
    CALIBRATION_RUNS,
    EXPORT_FORMATS,
    FILL_MARGIN,
    GO_DEFAULT_COUNT,
    GO_TEST,
    HYPERFINE,
    PYPERF,
    PYPERF_PROCESSES,
    PYPERF_VALUES,
    PYTEST_BENCHMARK,
    PYTEST_ROUNDS,
    ToolCall,
    go_test_start,
    pyperf_insert,
    pytest_start,
    python_script,
)

# --- option surgery -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Option:
    names: tuple[str, ...]  # every spelling, e.g. ("-r", "--runs")
    takes_value: bool = True


def _take(
    argv: list[str], start: int, option: _Option, *, stop: int | None = None
) -> tuple[list[str], list[str]]:
    """Remove ``option`` (any spelling, ``--x v``/``--x=v``/``-xV``) from ``argv[start:stop]``.

    Returns the new argv and the removed values (``""`` for a flag), in order.
    """
    end = len(argv) if stop is None else stop
    out = list(argv[:start])
    values: list[str] = []
    index = start
    while index < end:
        word = argv[index]
        matched = False
        for name in option.names:
            if word == name:
                matched = True
                if option.takes_value and index + 1 < end:
                    values.append(argv[index + 1])
                    index += 1
                else:
                    values.append("")
                break
            if option.takes_value and word.startswith(name + "="):
                matched = True
                values.append(word[len(name) + 1 :])
                break
            short = len(name) == 2 and not name.startswith("--")
            if option.takes_value and short and word.startswith(name) and len(word) > 2:
                matched = True
                values.append(word[2:])
                break
        if not matched:
            out.append(word)
        index += 1
    out.extend(argv[end:])
    return out, values


def _go_take(
    argv: list[str], start: int, name: str, *, flag: bool = False
) -> tuple[list[str], list[str]]:
    """Remove a Go flag (``-x v``, ``-x=v``, ``--x``, ``-test.x``) before ``-args``."""
    stop = argv.index("-args") if "-args" in argv[start:] else len(argv)
    spellings = tuple(f"{d}{p}{name}" for d in ("-", "--") for p in ("", "test."))
    return _take(argv, start, _Option(spellings, takes_value=not flag), stop=stop)


def _seconds(value: float) -> str:
    return f"{value:.6g}"


def _change(changes: list[str], removed: Sequence[str], added: str) -> None:
    shown = ", ".join(r for r in removed if r)
    changes.append(f"replaced {shown} by {added}" if shown else f"added {added}")


def _export_change(changes: list[str], option: str, user: Sequence[str], export: str) -> None:
    if user:
        yours = ", ".join(f"{option}{path}" for path in user)
        changes.append(f"replaced {yours} by {option}{export} (copied to yours after the run)")
    else:
        changes.append(f"added {option}{export}")


# --- hyperfine ----------------------------------------------------------------------------

_HF_RUNS = (
    _Option(("-r", "--runs")),
    _Option(("-m", "--min-runs")),
    _Option(("-M", "--max-runs")),
)
_HF_EXPORT_JSON = _Option(("--export-json",))


def _hyperfine_base(argv: Sequence[str], export: str) -> tuple[list[str], list[str], list[str]]:
    """argv without run-count options and with our JSON export; removed words; user exports."""
    words = list(argv)
    removed: list[str] = []
    for option in _HF_RUNS:
        words, values = _take(words, 1, option)
        removed.extend(f"{option.names[-1]} {v}" for v in values)
    words, user_exports = _take(words, 1, _HF_EXPORT_JSON)
    return [words[0], "--export-json", export, *words[1:]], removed, user_exports


def hyperfine_calibration(argv: Sequence[str], export: str) -> list[str]:
    """A short hyperfine run, same commands and options, to learn each command's time."""
    words, _removed, _exports = _hyperfine_base(argv, export)
    return [words[0], "--runs", str(CALIBRATION_RUNS), *words[1:]]


def hyperfine_runs(duration_s: float, mean_s: float) -> int:
    """Runs per command so that ``runs * mean`` fills the duration with the margin."""
    if not math.isfinite(mean_s) or mean_s <= 0:
        return 2
    return max(2, math.ceil(duration_s * FILL_MARGIN / mean_s))


def hyperfine_call(argv: Sequence[str], export: str, runs: int) -> ToolCall:
    words, removed, user_exports = _hyperfine_base(argv, export)
    changes: list[str] = []
    _change(changes, removed, f"--runs {runs}")
    _export_change(changes, "--export-json ", user_exports, export)
    return ToolCall(
        HYPERFINE,
        (words[0], "--runs", str(runs), *words[1:]),
        export,
        EXPORT_FORMATS[HYPERFINE],
        tuple(changes),
        tuple(user_exports),
    )


# --- pytest-benchmark ---------------------------------------------------------------------


def pytest_call(argv: Sequence[str], duration_s: float, export: str) -> ToolCall:
    start = pytest_start(argv)
    if start is None:
        raise usage_error(
            "tool pytest-benchmark needs a pytest command: pytest ... or python -m pytest ..."
        )
    words = list(argv)
    changes: list[str] = []
    max_time = duration_s * FILL_MARGIN
    words, removed = _take(words, start, _Option(("--benchmark-max-time",)))
    _change(
        changes,
        [f"--benchmark-max-time={v}" for v in removed],
        f"--benchmark-max-time={_seconds(max_time)}",
    )
    words, min_times = _take(words, start, _Option(("--benchmark-min-time",)))
    min_time = duration_s / PYTEST_ROUNDS
    for value in min_times:
        with contextlib.suppress(ValueError):
            min_time = max(min_time, float(value))
    _change(
        changes,
        [f"--benchmark-min-time={v}" for v in min_times],
        f"--benchmark-min-time={_seconds(min_time)}",
    )
    words, user_exports = _take(words, start, _Option(("--benchmark-json",)))
    words, disabled = _take(
        words, start, _Option(("--benchmark-disable", "--benchmark-skip"), takes_value=False)
    )
    if disabled:
        changes.append("removed --benchmark-disable/--benchmark-skip")
    _export_change(changes, "--benchmark-json=", user_exports, export)
    words += [
        f"--benchmark-max-time={_seconds(max_time)}",
        f"--benchmark-min-time={_seconds(min_time)}",
        f"--benchmark-json={export}",
    ]
    return ToolCall(
        PYTEST_BENCHMARK,
        tuple(words),
        export,
        EXPORT_FORMATS[PYTEST_BENCHMARK],
        tuple(changes),
        tuple(user_exports),
    )


# --- pyperf -------------------------------------------------------------------------------

_PP_PROCESSES = _Option(("-p", "--processes"))
_PP_VALUES = _Option(("-n", "--values"))
_PP_FIGHTING = (
    _Option(("--min-time",)),
    _Option(("-l", "--loops")),
    _Option(("--fast",), takes_value=False),
    _Option(("--rigorous",), takes_value=False),
    _Option(("--debug-single-value",), takes_value=False),
)
_PP_OUTPUT = (_Option(("-o", "--output")), _Option(("--append",)))


_PP_VALUE_OPTIONS = frozenset(
    [
        "-p",
        "--processes",
        "-n",
        "--values",
        "-w",
        "--warmups",
        "-l",
        "--loops",
        "-o",
        "--output",
        "--append",
        "--min-time",
        "--timeout",
        "--pipe",
        "--worker-task",
        "--affinity",
        "--inherit-environ",
        "--python",
        "--compare-to",
        "--python-names",
        "--profile",
        "--hook",
        "--name",
    ]
)


def _pyperf_program(words: Sequence[str]) -> int:
    """Index of the program in ``pyperf command [options] PROGRAM ARGS``."""
    index = 0
    while index < len(words):
        word = words[index]
        if not word.startswith("-"):
            return index
        index += 2 if word in _PP_VALUE_OPTIONS else 1
    return len(words)


def _int_option(values: Sequence[str], default: int, name: str) -> int:
    if not values:
        return default
    try:
        number = int(values[-1])
    except ValueError:
        raise usage_error(f"pyperf {name} {values[-1]!r} is not a whole number") from None
    if number < 1:
        raise usage_error(f"pyperf {name} must be at least 1, not {number}")
    return number


def pyperf_call(
    argv: Sequence[str],
    duration_s: float,
    export: str,
    read_text: Callable[[str], str | None] = lambda _path: None,
) -> ToolCall:
    insert = pyperf_insert(argv, read_text)
    if insert is None:
        # forced with --tool pyperf: options go after the script (or at the end)
        script = python_script(argv)
        insert = script + 1 if script is not None else len(argv)
    head, tail = list(argv[:insert]), list(argv[insert:])
    # ``pyperf command PROGRAM ...``: only options before the program are pyperf's
    stop = _pyperf_program(tail) if head[-1:] == ["command"] else len(tail)
    opts, rest = tail[:stop], tail[stop:]
    changes: list[str] = []
    removed: list[str] = []
    fast = rigorous = False
    for option in _PP_FIGHTING:
        opts, values = _take(opts, 0, option)
        name = option.names[-1]
        fast = fast or (name == "--fast" and bool(values))
        rigorous = rigorous or (name == "--rigorous" and bool(values))
        removed.extend(f"{name} {v}".strip() for v in values)
    opts, processes_given = _take(opts, 0, _PP_PROCESSES)
    opts, values_given = _take(opts, 0, _PP_VALUES)
    default_processes, default_values = PYPERF_PROCESSES, PYPERF_VALUES
    if rigorous:
        default_processes *= 2
    elif fast:
        default_processes = max(default_processes // 2, 3)
        default_values = max(default_values * 2 // 3, 2)
    processes = _int_option(processes_given, default_processes, "--processes")
    n_values = _int_option(values_given, default_values, "--values")
    min_time = duration_s * FILL_MARGIN / (processes * n_values)
    user_exports: list[str] = []
    for option in _PP_OUTPUT:
        opts, paths = _take(opts, 0, option)
        user_exports.extend(paths)
    added = f"--processes {processes} --values {n_values} --min-time {_seconds(min_time)}"
    _change(changes, removed, added)
    _export_change(changes, "--output ", user_exports, export)
    new = [
        *head,
        "--processes",
        str(processes),
        "--values",
        str(n_values),
        "--min-time",
        _seconds(min_time),
        "--output",
        export,
        *opts,
        *rest,
    ]
    return ToolCall(
        PYPERF, tuple(new), export, EXPORT_FORMATS[PYPERF], tuple(changes), tuple(user_exports)
    )


# --- go test ------------------------------------------------------------------------------


def go_call(argv: Sequence[str], duration_s: float) -> ToolCall:
    start = go_test_start(argv)
    if start is None:
        raise usage_error("tool go-test needs a `go test -bench REGEX ...` command")
    words = list(argv)
    words, counts = _go_take(words, start, "count")
    count = GO_DEFAULT_COUNT
    if counts:
        try:
            count = max(1, int(counts[-1]))
        except ValueError:
            raise usage_error(f"go test -count {counts[-1]!r} is not a whole number") from None
    words, benchtimes = _go_take(words, start, "benchtime")
    words, timeouts = _go_take(words, start, "timeout")
    words, json_flags = _go_take(words, start, "json", flag=True)
    benchtime = f"{_seconds(duration_s * FILL_MARGIN / count)}s"
    changes: list[str] = []
    _change(changes, [f"-benchtime={v}" for v in benchtimes], f"-benchtime={benchtime}")
    changes.append(f"-count={count}" + (" (yours)" if counts else ""))
    _change(
        changes, [f"-timeout={v}" for v in timeouts], "-timeout=0 (perfinvest's timeout applies)"
    )
    added = [f"-benchtime={benchtime}", f"-count={count}", "-timeout=0"]
    stop = words.index("-args") if "-args" in words[start:] else len(words)
    if not any(w in ("-p", "--p") or w.startswith(("-p=", "--p=")) for w in words[start:stop]):
        # go runs several packages' test binaries at once: benchmarks one at a time (rule 1)
        added.append("-p=1")
        changes.append("added -p=1 (one package's benchmarks at a time)")
    if json_flags:
        added.append("-json")
    new = [*words[:start], *added, *words[start:]]
    fmt = "go-test-json" if json_flags else EXPORT_FORMATS[GO_TEST]
    return ToolCall(GO_TEST, tuple(new), None, fmt, tuple(changes))
