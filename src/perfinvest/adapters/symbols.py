"""Functions and classes of a repository's source files, with their lines.

Python through ``ast`` (exact start and end lines); other languages through Universal
Ctags when it is installed (``ctags --output-format=json --fields=+ne``); a regex for
common definition forms otherwise. Files come from ``git ls-files`` inside a repository.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from perfinvest.core.profiling.codepaths import Symbol
from perfinvest.core.profiling.hotspots import Stack

MAX_FILES = 3000
MAX_FILE_BYTES = 1_000_000
MAX_TEXT = 20_000
_SUFFIXES = ".py .js .mjs .cjs .ts .tsx .jsx .go .java .kt .scala .rs .c .h .cc .cpp .cxx .hpp"
SOURCE_SUFFIXES = frozenset([*_SUFFIXES.split(), ".rb", ".php", ".cs", ".swift"])
_SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", ".claude"})
_REGEX = re.compile(
    r"^\s*(?:export\s+)?(?:async\s+)?(?:pub(?:\(crate\))?\s+)?(?:static\s+)?"
    r"(?:def|function|func|fn|class|struct|interface)\s+(?:\([^)]*\)\s*)?(?P<name>[A-Za-z_]\w*)"
    r"|^\s*(?:public|private|protected)\s+(?:static\s+)?(?:final\s+)?[\w<>\[\], ]+\s+"
    r"(?P<method>[A-Za-z_]\w*)\s*\("
    r"|^[A-Za-z_][\w \t\*]*?\b(?P<cfunc>[A-Za-z_]\w*)\s*\([^;]*\)\s*\{?\s*$"
)
_C_KEYWORDS = frozenset({"if", "for", "while", "switch", "return", "else", "sizeof", "do"})


def source_files(repo_root: Path, in_git_repo: bool, exclude: Iterable[Path] = ()) -> list[str]:
    """Repository-relative source files (tracked ones inside git), at most MAX_FILES."""
    excluded = [p.resolve() for p in exclude]
    names: list[str] = []
    if in_git_repo:
        done = subprocess.run(
            [
                "git",
                "-C",
                str(repo_root),
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
            capture_output=True,
            check=False,
        )
        if done.returncode == 0:
            names = [n for n in done.stdout.decode("utf-8", "replace").split("\0") if n]
    if not names:
        for path in repo_root.rglob("*"):
            if any(part in _SKIP_DIRS for part in path.relative_to(repo_root).parts):
                continue
            if path.is_file():
                names.append(path.relative_to(repo_root).as_posix())
    kept = []
    for name in sorted(set(names)):
        path = repo_root / name
        if Path(name).suffix not in SOURCE_SUFFIXES:
            continue
        if any(part in _SKIP_DIRS for part in Path(name).parts):
            continue
        resolved = path.resolve()
        if any(resolved == e or e in resolved.parents for e in excluded):
            continue
        try:
            if not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
                continue
        except OSError:
            continue
        kept.append(name)
        if len(kept) >= MAX_FILES:
            break
    return kept


def python_symbols(name: str, text: str) -> list[Symbol] | None:
    """Functions and classes of a Python file; None when it does not parse."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    lines = text.splitlines()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            end = getattr(node, "end_lineno", None) or node.lineno
            body = "\n".join(lines[node.lineno - 1 : end])[:MAX_TEXT]
            kind = "class" if isinstance(node, ast.ClassDef) else "function"
            found.append(Symbol(name, node.name, node.lineno, end, kind, body, "ast"))
    return found


def python_definitions(name: str, text: str) -> list[Symbol]:
    """Functions of a Python file with their line ranges only (no bodies: cheap)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    return [
        Symbol(name, node.name, node.lineno, node.end_lineno or node.lineno, source="ast")
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


def ctags_path() -> str | None:
    """Universal Ctags (Exuberant's ctags lacks JSON output), or None."""
    tool = shutil.which("ctags") or shutil.which("universal-ctags")
    if tool is None:
        return None
    done = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False)
    return tool if "Universal Ctags" in done.stdout else None


def ctags_symbols(repo_root: Path, names: list[str], tool: str) -> dict[str, list[Symbol]]:
    if not names:
        return {}
    done = subprocess.run(
        [tool, "--output-format=json", "--fields=+ne", "--kinds-all=*", "-f", "-", "-L", "-"],
        input="\n".join(names),
        capture_output=True,
        text=True,
        cwd=repo_root,
        check=False,
    )
    found: dict[str, list[Symbol]] = {}
    keep = {"function", "method", "class", "struct", "interface", "func", "member", "prototype"}
    texts: dict[str, list[str]] = {}
    for line in done.stdout.splitlines():
        try:
            tag = json.loads(line)
        except ValueError:
            continue
        if tag.get("_type") != "tag" or tag.get("kind") not in keep or "line" not in tag:
            continue
        if tag.get("kind") == "prototype":
            continue
        file = str(tag["path"])
        if file not in texts:
            texts[file] = _read(repo_root / file).splitlines()
        start = int(tag["line"])
        end = int(tag["end"]) if "end" in tag else None
        body = "\n".join(texts[file][start - 1 : end or start])[:MAX_TEXT]
        found.setdefault(file, []).append(
            Symbol(file, str(tag["name"]), start, end, str(tag["kind"]), body, "ctags")
        )
    return found


def regex_symbols(name: str, text: str) -> list[Symbol]:
    found = []
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        match = _REGEX.match(line)
        if not match:
            continue
        symbol = match.group("name") or match.group("method") or match.group("cfunc")
        if not symbol or symbol in _C_KEYWORDS:
            continue
        body = "\n".join(lines[number - 1 : number + 40])[:MAX_TEXT]
        found.append(Symbol(name, symbol, number, None, "function", body, "regex"))
    return found


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def collect_symbols(
    repo_root: Path, names: list[str], *, use_ctags: bool = True
) -> tuple[list[Symbol], dict[str, int]]:
    """Symbols of every file, and how many files each method read (ast/ctags/regex)."""
    symbols: list[Symbol] = []
    methods = {"ast": 0, "ctags": 0, "regex": 0}
    others = []
    for name in names:
        if name.endswith(".py"):
            parsed = python_symbols(name, _read(repo_root / name))
            if parsed is not None:
                symbols.extend(parsed)
                methods["ast"] += 1
                continue
        others.append(name)
    tool = ctags_path() if use_ctags else None
    tagged = ctags_symbols(repo_root, others, tool) if tool else {}
    for name in others:
        if name in tagged:
            symbols.extend(tagged[name])
            methods["ctags"] += 1
        else:
            symbols.extend(regex_symbols(name, _read(repo_root / name)))
            methods["regex"] += 1
    return symbols, methods


#: Source files read to find definition lines of a profile's frames (the hottest come first;
#: frames of the others keep an unknown definition, their hot lines are still known).
MAX_DEFINITION_FILES = 100
OUTSIDE_SHARE = 0.01
MAX_OUTSIDE_FILES = 20


class Definitions:
    """The definition line of the function a profiled frame runs in, from its source.

    Profilers report the line being executed (py-spy, perf with DWARF, pprof, JFR); the
    function's own line comes from its file: Python through ``ast`` (the innermost ``def``
    of that name around the line), other languages through ctags or the regex. ``known``
    holds what a profiler reports itself (V8's function line, pprof's start line); it wins.
    A file that cannot be found or read leaves the definition unknown (None).
    """

    def __init__(
        self,
        files: Iterable[str],
        search: Iterable[Path] = (),
        known: dict[tuple[str, str], int] | None = None,
        *,
        use_ctags: bool = True,
    ) -> None:
        self._known = dict(known or {})
        self._search = [Path(p) for p in search]
        self._symbols: dict[str, list[Symbol]] = {}
        self._memo: dict[tuple[str, str | None, int | None], int | None] = {}
        self._load([f for f in dict.fromkeys(files) if f][:MAX_DEFINITION_FILES], use_ctags)

    def _path(self, file: str) -> Path | None:
        candidates = [Path(file)] if Path(file).is_absolute() else []
        candidates += [root / file for root in self._search]
        for path in candidates:
            try:
                if path.is_file() and path.stat().st_size <= MAX_FILE_BYTES:
                    return path
            except OSError:
                continue
        return None

    def _load(self, files: list[str], use_ctags: bool) -> None:
        others: dict[str, str] = {}  # absolute path -> file as in the profile
        for file in files:
            path = self._path(file)
            if path is None:
                continue
            if path.suffix == ".py":
                self._symbols[file] = python_definitions(file, _read(path))
            elif path.suffix in SOURCE_SUFFIXES:
                others[str(path.resolve())] = file
        tool = ctags_path() if use_ctags and others else None
        tagged = ctags_symbols(Path("/"), list(others), tool) if tool else {}
        for absolute, file in others.items():
            self._symbols[file] = tagged.get(absolute) or regex_symbols(file, _read(Path(absolute)))

    def __call__(self, function: str, file: str | None, line: int | None) -> int | None:
        key = (function, file, line)
        if key not in self._memo:  # called once per frame of every stack: remember
            self._memo[key] = self._find(function, file, line)
        return self._memo[key]

    def _find(self, function: str, file: str | None, line: int | None) -> int | None:
        from perfinvest.core.profiling.hotspots import short_name

        if file is None:
            return None
        if (function, file) in self._known:
            return self._known[(function, file)]
        if function == "<module>" and file.endswith(".py"):
            return 1
        symbols = self._symbols.get(file)
        if not symbols:
            return None
        name = short_name(function)
        named = [s for s in symbols if s.name == name and s.kind != "class"]
        if line is None:
            return named[0].line if len(named) == 1 else None
        inside = [s for s in named if s.line <= line <= (s.end_line or s.line)]
        if inside:  # the innermost: the latest start
            return max(s.line for s in inside)
        before = [s.line for s in named if s.end_line is None and s.line <= line]
        return max(before) if before else None


def definitions_for(
    stacks: Iterable[Stack],
    search: Iterable[Path],
    known: dict[tuple[str, str], int] | None = None,
    *,
    repo_root: Path | None = None,
) -> Definitions:
    """A resolver for the source files the stacks' frames name.

    Files inside the repository are read (the hottest first, up to MAX_DEFINITION_FILES);
    a file outside it (the standard library, dependencies) only when its frames carry at
    least OUTSIDE_SHARE of the samples: parsing every library file a profile passes
    through would cost seconds, and only hot ones can rank.
    """
    from perfinvest.core.profiling.hotspots import parse_frame

    stacks = list(stacks)
    total = sum(stack.count for stack in stacks) or 1
    files: dict[str, int] = {}
    file_of: dict[str, str | None] = {}  # frame text -> its file (frames repeat a lot)
    for stack in stacks:
        for text in stack.frames:
            if text not in file_of:
                file_of[text] = parse_frame(text).file
        for file in {file_of[text] for text in stack.frames}:
            if file:
                files[file] = files.get(file, 0) + stack.count
    root = str(repo_root.resolve()) + "/" if repo_root else None

    def inside(file: str) -> bool:
        return not file.startswith("/") or (root is not None and file.startswith(root))

    ranked = sorted(files, key=lambda f: -files[f])
    outside = [f for f in ranked if not inside(f) and files[f] / total >= OUTSIDE_SHARE]
    chosen = [f for f in ranked if inside(f)] + outside[:MAX_OUTSIDE_FILES]
    return Definitions(chosen, search, known)
