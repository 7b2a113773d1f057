"""Tool-driven runs: recognise a benchmark tool's command line and make the tool fill the duration.

hyperfine, pytest-benchmark, pyperf and ``go test -bench`` decide themselves how long they
measure, so perfinvest neither kills them at the duration (duration mode) nor times them as one
opaque command (repeat mode): it rewrites their options so that the tool's *own* measured
time per scenario fills the duration, has the tool write its export into the run's artifact
folder, and reads the tool's raw samples from it. This module recognises the tools and holds
what the rewriting shares; :mod:`perfinvest.core.tools.calls` rewrites each tool's options
(both pure argv arithmetic); running, calibrating and reading the export happen in
:mod:`perfinvest.adapters.tools`.

Per tool (``D`` the duration, ``FILL_MARGIN`` the aim above it, because every tool estimates
its iteration counts from its first, colder iterations):

* hyperfine: ``--runs N`` per command, N from a short calibration run's mean;
  ``--export-json``.
* pytest-benchmark: ``--benchmark-max-time=D*margin`` per benchmark, a round of at least
  ``D/1000`` (``--benchmark-min-time``) so the time between rounds is negligible;
  ``--benchmark-json``.
* pyperf: ``--processes P --values V --min-time D*margin/(P*V)`` (P, V the user's or pyperf's
  defaults, ``--fast``/``--rigorous`` folded in); ``--output``.
* go test: ``-benchtime=(D*margin/C)s -count C`` (C the user's ``-count`` or 5), ``-timeout=0``
  (perfinvest's own timeout applies); stdout (``-json`` or text) is the export.

Options that would fight the duration (hyperfine ``--runs``/``--min-runs``/``--max-runs``,
pyperf ``--loops``, go ``-benchtime``...) are replaced, and the user's own export path is
kept as a place to copy the export to; every change is listed in :attr:`ToolCall.changes`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from perfinvest.core.errors import usage_error

HYPERFINE = "hyperfine"
PYTEST_BENCHMARK = "pytest-benchmark"
PYPERF = "pyperf"
GO_TEST = "go-test"
TOOLS = (HYPERFINE, PYTEST_BENCHMARK, PYPERF, GO_TEST)
#: What people type for ``--tool``.
TOOL_ALIASES = {"pytest": PYTEST_BENCHMARK, "go": GO_TEST, "gotest": GO_TEST}

#: The metric format of each tool's export (see ``adapters/formats/registry.py``).
EXPORT_FORMATS = {
    HYPERFINE: "hyperfine-json",
    PYTEST_BENCHMARK: "pytest-benchmark-json",
    PYPERF: "pyperf-json",
    GO_TEST: "go-bench",  # or go-test-json with -json
}
EXPORT_NAMES = {
    HYPERFINE: "hyperfine.json",
    PYTEST_BENCHMARK: "pytest-benchmark.json",
    PYPERF: "pyperf.json",
}

#: Aim this far above the duration: tools size their runs from cold first iterations.
FILL_MARGIN = 1.2
#: hyperfine calibration: runs per command before the real run is sized.
CALIBRATION_RUNS = 2
GO_DEFAULT_COUNT = 5
PYPERF_PROCESSES = 20
PYPERF_VALUES = 3
#: pytest-benchmark rounds last at least duration / this (the round overhead stays small).
PYTEST_ROUNDS = 1000

_SHELL_EXPANSION = re.compile(r"[$`*?]")
_PYTHON_VALUE_OPTIONS = ("-X", "-W", "--check-hash-based-pycs")
_PYTHON = re.compile(r"python(\d+(\.\d+)*)?")
_BENCH_FIXTURE = re.compile(r"def\s+test\w*\s*\([^)]*\bbenchmark\b")
_PYPERF_RUNNER = re.compile(r"\bpyperf\b[\s\S]*\bRunner\s*\(")


def resolve_tool(name: str) -> str:
    """A ``--tool`` value as a canonical tool name; a usage error names the known ones."""
    key = name.strip().lower()
    key = TOOL_ALIASES.get(key, key)
    if key not in TOOLS:
        raise usage_error(f"unknown --tool {name!r}; known tools: {', '.join(TOOLS)}")
    return key


def split_shell(command: str) -> list[str] | None:
    """A ``--shell`` command line as argv when it is one plain command, else ``None``.

    Operators (pipes, ``;``, redirections) and expansions (``$``, backticks, globs) need the
    shell, so such a line is not rewritten: run the tool without ``--shell`` instead.
    """
    if _SHELL_EXPANSION.search(command):
        return None
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
        words = shlex.split(command)
    except ValueError:
        return None
    if any(token and all(c in "|&;<>()" for c in token) for token in tokens):
        return None
    return words or None


def _base(word: str) -> str:
    return word.rsplit("/", 1)[-1]


def python_module(argv: Sequence[str]) -> tuple[str, int] | None:
    """``python -m MOD``: the module and the index of the first argument after it."""
    if not argv or _PYTHON.fullmatch(_base(argv[0])) is None:
        return None
    index = 1
    while index < len(argv):
        word = argv[index]
        if word == "-m" and index + 1 < len(argv):
            return argv[index + 1], index + 2
        if word.startswith("-m") and len(word) > 2:
            return word[2:], index + 1
        if not word.startswith("-"):
            return None
        index += 2 if word in _PYTHON_VALUE_OPTIONS else 1
    return None


def python_script(argv: Sequence[str]) -> int | None:
    """Index of the script in ``python [opts] script.py ...`` (or ``./script.py``)."""
    if not argv:
        return None
    if argv[0].endswith(".py"):
        return 0
    if _PYTHON.fullmatch(_base(argv[0])) is None:
        return None
    index = 1
    while index < len(argv):
        word = argv[index]
        if word in ("-c", "-m"):
            return None
        if not word.startswith("-"):
            return index if word.endswith(".py") else None
        index += 2 if word in _PYTHON_VALUE_OPTIONS else 1
    return None


def pytest_start(argv: Sequence[str]) -> int | None:
    """Index of pytest's first argument, for ``pytest ...`` and ``python -m pytest ...``."""
    if argv and _base(argv[0]) in ("pytest", "py.test"):
        return 1
    module = python_module(argv)
    if module is not None and module[0] == "pytest":
        return module[1]
    return None


def pyperf_insert(argv: Sequence[str], read_text: Callable[[str], str | None]) -> int | None:
    """Where pyperf's Runner options go: after ``timeit``/``command``, or after the script."""
    module = python_module(argv)
    if module is not None:
        name, start = module
        if name == "pyperf" and start < len(argv) and argv[start] in ("timeit", "command"):
            return start + 1
        return None
    if argv and _base(argv[0]) == "pyperf" and len(argv) > 1 and argv[1] in ("timeit", "command"):
        return 2
    script = python_script(argv)
    if script is not None:
        text = read_text(argv[script])
        if text is not None and _PYPERF_RUNNER.search(text):
            return script + 1
    return None


def go_test_start(argv: Sequence[str]) -> int | None:
    if len(argv) >= 2 and _base(argv[0]) == "go" and argv[1] == "test":
        return 2
    return None


def flag_name(word: str) -> str:
    """A Go flag's name: ``-bench=.``, ``--bench``, ``-test.bench`` are all ``bench``."""
    name = word.lstrip("-").split("=", 1)[0]
    return name[5:] if name.startswith("test.") else name


def _uses_benchmark_fixture(
    argv: Sequence[str], start: int, read_text: Callable[[str], str | None]
) -> bool:
    for word in argv[start:]:
        if word.startswith("-"):
            continue
        path = word.split("::", 1)[0]
        if path.endswith(".py"):
            text = read_text(path)
            if text is not None and _BENCH_FIXTURE.search(text):
                return True
    return False


def recognise(
    argv: Sequence[str], read_text: Callable[[str], str | None] = lambda _path: None
) -> str | None:
    """The tool ``argv`` runs, or ``None``. ``read_text`` peeks at named files (scripts, tests).

    pytest counts when a ``--benchmark-*`` option is given or a named test file uses the
    ``benchmark`` fixture; pyperf for ``python -m pyperf timeit|command`` and scripts that
    build a ``pyperf.Runner``; go for ``go test`` with ``-bench``.
    """
    if not argv:
        return None
    if _base(argv[0]) == "hyperfine":
        return HYPERFINE
    start = pytest_start(argv)
    if start is not None:
        options = [w for w in argv[start:] if w.startswith("--benchmark-")]
        if any(flag_name(w) in ("benchmark-disable", "benchmark-skip") for w in options):
            return None
        if options or _uses_benchmark_fixture(argv, start, read_text):
            return PYTEST_BENCHMARK
        return None
    go = go_test_start(argv)
    if go is not None:
        if any(w.startswith("-") and flag_name(w) == "bench" for w in argv[go:]):
            return GO_TEST
        return None
    if pyperf_insert(argv, read_text) is not None:
        return PYPERF
    return None


@dataclass(frozen=True)
class ToolCall:
    """The rewritten command, where its export lands, and what was changed (for the user)."""

    tool: str
    argv: tuple[str, ...]
    export: str | None  # the file the tool writes; None: its stdout is the export
    export_format: str
    changes: tuple[str, ...]  # "added --runs 120", "replaced --runs 10 by --runs 120"
    user_exports: tuple[str, ...] = ()  # the user's own export paths: copied there afterwards

    def describe(self) -> str:
        return f"{self.tool}: " + "; ".join(self.changes) if self.changes else self.tool


# --- the duration check -------------------------------------------------------------------


def shortfalls(measured_s: Mapping[str, float], needed_s: float) -> list[str]:
    """The scenarios whose measured time does not fill ``needed_s``, as one phrase each."""
    return [
        f"{scenario!r} measured {seconds:.3g} s < {needed_s:.3g} s"
        for scenario, seconds in measured_s.items()
        if not seconds >= needed_s
    ]
