"""Choosing a profiler for a command and a repository, with the reason recorded."""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from perfinvest.adapters.profilers.base import PROFILERS, ProfilePlan, ProfileRequest, find_tool
from perfinvest.adapters.profilers.launchers import Launcher, detect
from perfinvest.core.errors import environment_error, usage_error

_MODULES = {
    "py-spy": "pyspy",
    "perf": "perf",
    "cprofile": "cprofile",
    "node": "node",
    "go": "go",
    "java": "java",
}
_PYTHON_WORDS = re.compile(r"(^|[\s/])(python[\d.]*|pytest|uvicorn|gunicorn|[\w./-]+\.py)(\s|$)")


@dataclass(frozen=True)
class Choice:
    profiler: str
    reason: str


def module(name: str) -> ModuleType:
    if name not in _MODULES:
        raise usage_error(f"unknown profiler {name!r}: use auto or one of {', '.join(PROFILERS)}")
    return importlib.import_module(f"perfinvest.adapters.profilers.{_MODULES[name]}")


def ptrace_problem() -> str | None:
    """Why py-spy could not read a child's memory here, or None when it should."""
    scope = Path("/proc/sys/kernel/yama/ptrace_scope")
    if scope.is_file():
        value = scope.read_text().strip()
        if value == "3":
            return "kernel.yama.ptrace_scope is 3 (ptrace disabled)"
        if value == "2" and not _has_cap_sys_ptrace():
            return "kernel.yama.ptrace_scope is 2 and CAP_SYS_PTRACE is missing"
    return None


def _has_cap_sys_ptrace() -> bool:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) >> 19 & 1)
    except OSError:
        return False
    return False


def _repo_language(root: Path) -> tuple[str, str] | None:
    markers = (
        ("pyproject.toml", "python"),
        ("setup.py", "python"),
        ("package.json", "node"),
        ("go.mod", "go"),
        ("pom.xml", "java"),
        ("build.gradle", "java"),
        ("build.gradle.kts", "java"),
        ("Cargo.toml", "native"),
        ("CMakeLists.txt", "native"),
        ("Makefile", "native"),
    )
    for name, language in markers:
        if (root / name).is_file():
            return language, name
    return None


def choose(launcher: Launcher, repo_root: Path) -> Choice:
    """auto: from the launcher first, then from the repository's build files."""
    kind = launcher.kind
    language = None
    why = ""
    if kind == "python":
        language, why = "python", f"the command runs Python ({launcher.detail})"
    elif kind in ("node", "npm"):
        language, why = "node", f"the command runs Node ({launcher.detail})"
    elif kind == "java":
        language, why = "java", "the command runs the JVM (java)"
    elif kind == "go-test":
        language, why = "go", "the command is `go test` (it writes -cpuprofile)"
    elif kind in ("cargo", "go-run"):
        language, why = "native", f"{launcher.detail} builds native code"
    elif kind == "shell" and _PYTHON_WORDS.search(launcher.shell_line or ""):
        language, why = "python", "the shell command runs Python"
    else:
        found = _repo_language(repo_root)
        if found and found[0] == "python" and kind == "shell":
            language, why = "python", f"the repository is Python ({found[1]})"
        elif found and found[0] == "node" and kind == "shell":
            language, why = "node", f"the repository is Node ({found[1]}), flags via NODE_OPTIONS"
        else:
            language, why = "native", f"{launcher.detail or 'the command'} is not a known runtime"
    if language == "python":
        problem = ptrace_problem()
        if problem is None and find_tool("py-spy") is not None:
            return Choice("py-spy", f"{why}: py-spy samples it without changing it")
        if kind == "python" and launcher.shell_line is None:
            missing = problem or "py-spy is not installed"
            return Choice("cprofile", f"{why}, but {missing}: cProfile instead")
        return Choice("py-spy", f"{why} (py-spy; {problem or 'not installed'})")
    if language in ("node", "java", "go"):
        return Choice(language, why)
    return Choice("perf", f"{why}: perf samples native stacks of any language")


def plan_for(name: str, request: ProfileRequest) -> tuple[ProfilePlan, Choice]:
    """The profiler's plan for ``name`` (or auto); a missing tool answers exit 7 with a hint."""
    launcher = detect(request.command, request.shell)
    if name == "auto":
        choice = choose(launcher, request.repo_root)
    else:
        module(name)
        choice = Choice(name, f"--profiler {name} was given")
    try:
        plan: ProfilePlan = module(choice.profiler).plan(request)
    except FileNotFoundError as exc:
        raise environment_error(f"{choice.profiler} could not start: {exc}") from None
    return plan, choice
