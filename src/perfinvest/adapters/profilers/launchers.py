"""Recognising how a benchmark is launched and changing its command line correctly.

Each profiler needs something different from the command: py-spy and perf wrap it whole,
cProfile goes between ``python`` and the script or ``-m module``, Node takes ``--cpu-prof``
right after ``node`` (or through ``NODE_OPTIONS`` for ``npm run``/``npx``/``yarn``), the
JVM takes ``-XX:StartFlightRecording`` before the main class or ``-jar`` (or through
``JDK_JAVA_OPTIONS``), ``go test`` takes ``-cpuprofile`` after ``test``. Arguments are
lists throughout: nothing is built by concatenating strings.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from perfinvest.core.errors import usage_error

Kind = Literal["python", "node", "npm", "java", "go-test", "go-run", "cargo", "native", "shell"]

_PYTHON = re.compile(r"^(python|python\d(\.\d+)?|pypy3?|python\d\.\d+t?)$")
_SHELL_SYNTAX = re.compile(r"[|&;<>()$`*?\[\]{}~]|\n")
# python options that take a value as the next argument
_PY_OPTS_WITH_VALUE = {"-W", "-X", "-Q"}
_JAVA_OPTS_WITH_VALUE = {"-cp", "-classpath", "--class-path", "-p", "--module-path", "-m"}


@dataclass(frozen=True)
class Launcher:
    """The command as argv (split from a shell line when that is safe) and its kind."""

    kind: Kind
    argv: list[str]
    shell_line: str | None = None  # set when the command must run through /bin/sh
    detail: str = ""

    @property
    def program(self) -> str:
        return Path(self.argv[0]).name if self.argv else ""


def detect(command: Sequence[str], shell: bool) -> Launcher:
    """What launches the benchmark: python, node, npm, java, go test, cargo, a binary."""
    if shell:
        line = command[0]
        if _SHELL_SYNTAX.search(line):
            return Launcher("shell", ["/bin/sh", "-c", line], shell_line=line, detail=line)
        try:
            argv = shlex.split(line)
        except ValueError:
            return Launcher("shell", ["/bin/sh", "-c", line], shell_line=line, detail=line)
        if not argv:
            raise usage_error("the benchmark command is empty")
        # plain words: env assignments ("A=1 cmd") still need the shell
        if "=" in argv[0]:
            return Launcher("shell", ["/bin/sh", "-c", line], shell_line=line, detail=line)
        return _classify(argv)
    return _classify(list(command))


def _classify(argv: list[str]) -> Launcher:
    name = Path(argv[0]).name
    if _PYTHON.match(name) or (name.endswith(".py") and len(argv) >= 1):
        return Launcher("python", argv, detail=name)
    if name in ("node", "nodejs"):
        return Launcher("node", argv, detail=name)
    if name in ("npm", "npx", "yarn", "pnpm"):
        return Launcher("npm", argv, detail=" ".join(argv[:3]))
    if name == "java":
        return Launcher("java", argv, detail=name)
    if name == "go" and len(argv) > 1 and argv[1] == "test":
        return Launcher("go-test", argv, detail="go test")
    if name == "go" and len(argv) > 1 and argv[1] == "run":
        return Launcher("go-run", argv, detail="go run")
    if name == "cargo":
        return Launcher("cargo", argv, detail=" ".join(argv[:3]))
    return Launcher("native", argv, detail=name)


def resolve_python(executable: str) -> str:
    """A pyenv shim resolved to the real interpreter (py-spy cannot follow the shim's bash)."""
    found = shutil.which(executable)
    if found is None or "/shims/" not in found:
        return executable
    pyenv = shutil.which("pyenv")
    if pyenv is None:
        return executable
    done = subprocess.run(
        [pyenv, "which", Path(executable).name], capture_output=True, text=True, check=False
    )
    real = done.stdout.strip()
    return real if done.returncode == 0 and real else executable


def python_split(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """``python [opts] target...`` → (interpreter with its options, target and its args)."""
    head = [argv[0]]
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg in ("-m", "-c") or not arg.startswith("-") or arg == "-":
            break
        head.append(arg)
        if arg in _PY_OPTS_WITH_VALUE and i + 1 < len(argv):
            head.append(argv[i + 1])
            i += 1
        i += 1
    return head, list(argv[i:])


def with_cprofile(launcher: Launcher, output: Path) -> list[str]:
    """``python [opts] -m cProfile -o OUT script|-m module args``."""
    if launcher.kind != "python" or launcher.shell_line is not None:
        raise usage_error(
            "cProfile needs a `python script.py` or `python -m module` command; "
            "use --profiler py-spy or perf for this command"
        )
    argv = launcher.argv
    if argv[0].endswith(".py"):
        return ["python3", "-m", "cProfile", "-o", str(output), *argv]
    head, rest = python_split(argv)
    if not rest or rest[0] == "-c":
        raise usage_error(
            "cProfile cannot profile `python -c` or an interactive interpreter; "
            "put the code in a script or use --profiler py-spy"
        )
    return [*head, "-m", "cProfile", "-o", str(output), *rest]


def with_node_flags(launcher: Launcher, flags: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """Flags right after ``node``; for npm/npx/yarn/shell lines through ``NODE_OPTIONS``."""
    if launcher.kind == "node":
        return [launcher.argv[0], *flags, *launcher.argv[1:]], {}
    return list(launcher.argv), {"NODE_OPTIONS": " ".join(flags)}


def with_java_option(launcher: Launcher, option: str) -> tuple[list[str], dict[str, str]]:
    """A JVM option before the main class or ``-jar`` (after other JVM options)."""
    if launcher.kind != "java":
        return list(launcher.argv), {"JDK_JAVA_OPTIONS": option}
    argv = launcher.argv
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg == "-jar" or not arg.startswith("-"):
            break
        if arg in _JAVA_OPTS_WITH_VALUE:
            i += 1
        i += 1
    return [*argv[:1], *argv[1:i], option, *argv[i:]], {}


def with_go_cpuprofile(launcher: Launcher, output: Path) -> list[str]:
    """``go test -cpuprofile OUT ...``: the flag right after ``test``."""
    if launcher.kind != "go-test":
        raise usage_error(
            "Go profiling adds -cpuprofile to a `go test -bench ...` command; for a built Go "
            "binary or `go run`, use --profiler perf"
        )
    argv = launcher.argv
    return [argv[0], "test", f"-cpuprofile={output}", *argv[2:]]
