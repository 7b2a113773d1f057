"""From collapsed stacks to hotspots, and ranking what changed between two profiles (pure).

Collapsed stacks (Brendan Gregg's folded format) are the common currency of every
profiler adapter: one line per distinct stack, frames root-first separated by ``;``, then a
space and a sample count. A frame reads ``function (file:line)``, ``function (file)`` or
``function``. Adapters translate their profiler's output into this; everything after that
(filtering, self/total shares, repository-relative paths, diffs) happens here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from perfinvest.core.models import HotLine, Hotspot

_FRAME = re.compile(r"^(?P<function>.*?) \((?P<location>[^()]*)\)$")
_LOCATION_LINE = re.compile(r"^(?P<file>.*):(?P<line>\d+)$")
_PYSPY_PROCESS = re.compile(r'^process \d+:".*"$')

#: Frames that belong to the profiler or the interpreter, never to the program under study.
_INTERNAL_FUNCTIONS = frozenset(
    {
        "(root)",
        "(program)",
        "(idle)",
        "(garbage collector)",
        "[unknown]",
        "_start",
        "__libc_start_main",
        "__libc_start_main_impl",
        "__libc_start_call_main",
        "_PyEval_EvalFrameDefault",
        "_PyEval_Vector",
        "PyEval_EvalCode",
        "_PyObject_Call",
        "PyObject_Call",
        "_PyFunction_Vectorcall",
        "pymain_run_python",
        "Py_RunMain",
        "Py_BytesMain",
        "_run_module_as_main",
        "_run_code",
    }
)
_INTERNAL_FILE_MARKERS = ("<frozen ", "/runpy.py", "/cProfile.py", "/profile.py", "<string>")


class ProfileFormatError(ValueError):
    """Collapsed stacks that cannot be read (empty, truncated, malformed)."""


@dataclass(frozen=True)
class Frame:
    function: str
    file: str | None = None
    line: int | None = None

    def label(self) -> str:
        if self.file is None:
            return self.function
        return (
            f"{self.function} ({self.file}:{self.line})"
            if self.line
            else (f"{self.function} ({self.file})")
        )


@dataclass(frozen=True)
class Stack:
    frames: tuple[str, ...]  # root first
    count: int


def parse_frame(text: str) -> Frame:
    """``function (file:line)`` → Frame; anything else is a bare function name."""
    match = _FRAME.match(text.strip())
    if not match:
        return Frame(text.strip())
    location = match.group("location").strip()
    with_line = _LOCATION_LINE.match(location)
    if with_line:
        line = int(with_line.group("line"))
        return Frame(match.group("function"), with_line.group("file"), line or None)
    return Frame(match.group("function"), location or None)


def parse_collapsed(text: str) -> list[Stack]:
    """Folded stacks → stacks; raises ProfileFormatError when empty, truncated or malformed."""
    stacks: list[Stack] = []
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ProfileFormatError("the profile holds no samples (empty collapsed stacks)")
    for number, line in enumerate(lines, start=1):
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            where = "last line" if number == len(lines) else f"line {number}"
            raise ProfileFormatError(
                f"collapsed stacks are truncated or malformed at {where}: {line[:80]!r}"
            )
        if int(count) > 0:
            stacks.append(Stack(tuple(f for f in stack.split(";") if f), int(count)))
    if not stacks:
        raise ProfileFormatError("the profile holds no samples (every count is zero)")
    return stacks


def to_collapsed(stacks: Iterable[Stack]) -> str:
    """Stacks → folded text, identical stacks merged, sorted for stable artifacts."""
    merged: dict[tuple[str, ...], int] = {}
    for stack in stacks:
        merged[stack.frames] = merged.get(stack.frames, 0) + stack.count
    return "".join(f"{';'.join(frames)} {count}\n" for frames, count in sorted(merged.items()))


def is_internal(frame: Frame) -> bool:
    """A frame of the profiler, the interpreter or the C runtime rather than the program."""
    if _PYSPY_PROCESS.match(frame.function) or frame.function in _INTERNAL_FUNCTIONS:
        return True
    file = frame.file or ""
    if file.startswith("node:"):
        return True
    if any(
        marker in file or file.startswith(marker.lstrip("/")) for marker in _INTERNAL_FILE_MARKERS
    ):
        return True
    return frame.function.startswith("<built-in method ") or frame.function.startswith(
        "{built-in method "
    )


def relative_file(file: str | None, repo_root: str | None) -> str | None:
    """``file`` relative to ``repo_root`` when it lies inside it; unchanged otherwise."""
    if not file or not repo_root:
        return file
    path = PurePosixPath(file)
    root = PurePosixPath(repo_root)
    if path.is_absolute():
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            return file
    return file


def total_samples(stacks: Sequence[Stack]) -> int:
    return sum(s.count for s in stacks)


#: ``(function, file as in the stack, line being executed) -> definition line`` (or None).
DefinitionOf = Callable[[str, str | None, int | None], int | None]

#: Lines kept per hotspot in a stored profile (a diff of two files keeps them all).
LINES_KEPT = 10

_Key = tuple[str, str | None, int | None]  # function, repository-relative file, def line


def _first_line(function: str, file: str | None, line: int | None) -> int | None:
    """Without a resolver a frame's line is taken as its function's first line."""
    return line


def _keyed(
    frames: Sequence[str],
    repo_root: str | None,
    definition: DefinitionOf,
    seen: dict[str, tuple[_Key, int | None] | None],
) -> list[tuple[_Key, int | None]]:
    """Kept frames of a stack as (function key, line executing in it), root first.

    ``seen`` remembers each distinct frame text: a profile repeats few frames many times.
    """
    kept = []
    for text in frames:
        if text not in seen:
            frame = parse_frame(text)
            if is_internal(frame):
                seen[text] = None
            else:
                defined = definition(frame.function, frame.file, frame.line)
                key = (frame.function, relative_file(frame.file, repo_root), defined)
                seen[text] = (key, frame.line)
        found = seen[text]
        if found is not None:
            kept.append(found)
    return kept


def compute_hotspots(
    stacks: Sequence[Stack],
    *,
    repo_root: str | None = None,
    top: int | None = 20,
    definition: DefinitionOf | None = None,
    lines_kept: int | None = LINES_KEPT,
) -> list[Hotspot]:
    """Per function: self and total share of all samples, and its hottest lines.

    Lines are ranked by their inclusive samples: in a leaf function that is its self time
    per line; in a caller, the call site that costs the most comes first.

    A frame's line is the line it was executing (the leaf's hot line, a caller's call
    site); ``definition`` maps a frame to its function's definition line, which identifies
    the function (two functions of one name in one file stay apart). Without it a frame's
    line counts as the definition, as profilers that only report first lines mean it.

    A sample whose whole stack is internal still counts in the denominator, so shares stay
    shares of the real run. Self time of a filtered leaf goes to its nearest kept caller
    (at its call line). Ranked by self share, then total share.
    """
    total = total_samples(stacks)
    if total == 0:
        return []
    with_lines = definition is not None
    resolve = definition or _first_line
    self_counts: dict[_Key, int] = {}
    total_counts: dict[_Key, int] = {}
    line_self: dict[_Key, dict[int, int]] = {}
    line_total: dict[_Key, dict[int, int]] = {}
    seen: dict[str, tuple[_Key, int | None] | None] = {}
    for stack in stacks:
        frames = _keyed(stack.frames, repo_root, resolve, seen)
        if not frames:
            continue
        leaf, leaf_line = frames[-1]
        self_counts[leaf] = self_counts.get(leaf, 0) + stack.count
        if with_lines and leaf_line:
            per_line = line_self.setdefault(leaf, {})
            per_line[leaf_line] = per_line.get(leaf_line, 0) + stack.count
        for key in {key for key, _ in frames}:
            total_counts[key] = total_counts.get(key, 0) + stack.count
        if with_lines:
            for key, line in {(key, line) for key, line in frames if line}:
                per_line = line_total.setdefault(key, {})
                per_line[line] = per_line.get(line, 0) + stack.count
    hotspots = []
    for key, count in total_counts.items():
        function, file, defined = key
        own = line_self.get(key, {})
        lines = sorted(
            (
                HotLine(
                    line=number,
                    self_pct=100.0 * own.get(number, 0) / total,
                    total_pct=100.0 * on_stack / total,
                    samples=own.get(number, 0),
                    total_samples=on_stack,
                )
                for number, on_stack in line_total.get(key, {}).items()
            ),
            key=lambda hot: (-hot.total_samples, -hot.samples, hot.line),
        )
        if lines_kept is not None:
            lines = lines[:lines_kept]
        hotspots.append(
            Hotspot(
                function=function or "?",
                file=file,
                line=defined,
                self_pct=100.0 * self_counts.get(key, 0) / total,
                total_pct=100.0 * count / total,
                samples=count,
                self_samples=self_counts.get(key, 0),
                lines=lines,
                hot_line=f"{file}:{lines[0].line}" if file and lines else None,
            )
        )
    hotspots.sort(key=lambda h: (-h.self_pct, -h.total_pct, h.function, h.file or ""))
    return hotspots if top is None else hotspots[:top]


@dataclass(frozen=True)
class LineChange:
    """How one line's self share moved from profile A to profile B (percentage points)."""

    line: int
    self_a: float
    self_b: float
    total_a: float
    total_b: float

    @property
    def self_delta(self) -> float:
        return self.self_b - self.self_a

    def as_dict(self) -> dict[str, object]:
        return {
            "line": self.line,
            "self_pct_a": round(self.self_a, 3),
            "self_pct_b": round(self.self_b, 3),
            "self_delta": round(self.self_delta, 3),
            "total_pct_a": round(self.total_a, 3),
            "total_pct_b": round(self.total_b, 3),
        }


@dataclass(frozen=True)
class HotspotChange:
    """How a function's share moved from profile A to profile B (percentage points)."""

    function: str
    file: str | None
    line: int | None
    self_a: float
    self_b: float
    total_a: float
    total_b: float
    lines: tuple[LineChange, ...] = ()  # per line, when both profiles have line data

    @property
    def self_delta(self) -> float:
        return self.self_b - self.self_a

    @property
    def total_delta(self) -> float:
        return self.total_b - self.total_a

    @property
    def hot_line(self) -> str | None:
        """file:line of the line whose self share moved most."""
        if not self.file or not self.lines:
            return None
        return f"{self.file}:{self.lines[0].line}"

    def as_dict(self) -> dict[str, object]:
        return {
            "function": self.function,
            "file": self.file,
            "line": self.line,
            "hot_line": self.hot_line,
            "self_pct_a": round(self.self_a, 3),
            "self_pct_b": round(self.self_b, 3),
            "self_delta": round(self.self_delta, 3),
            "total_pct_a": round(self.total_a, 3),
            "total_pct_b": round(self.total_b, 3),
            "total_delta": round(self.total_delta, 3),
            "lines": [change.as_dict() for change in self.lines],
        }


def _line_changes(a: Hotspot | None, b: Hotspot | None) -> tuple[LineChange, ...]:
    if a is None or b is None or not a.lines or not b.lines:
        return ()
    left = {hot.line: hot for hot in a.lines}
    right = {hot.line: hot for hot in b.lines}
    changes = [
        LineChange(
            line=number,
            self_a=left[number].self_pct if number in left else 0.0,
            self_b=right[number].self_pct if number in right else 0.0,
            total_a=left[number].total_pct if number in left else 0.0,
            total_b=right[number].total_pct if number in right else 0.0,
        )
        for number in {*left, *right}
    ]
    changes.sort(key=lambda c: (-abs(c.self_delta), -abs(c.total_b - c.total_a), c.line))
    return tuple(changes)


def diff_hotspots(
    a: Sequence[Hotspot], b: Sequence[Hotspot], *, top: int | None = 20
) -> list[HotspotChange]:
    """Functions ranked by how much their share changed (self first, then total).

    A function is matched by name and file (its definition may have moved between the
    two profiles); where both profiles have its lines, each line is compared too.
    """

    def by_function(hotspots: Sequence[Hotspot]) -> dict[tuple[str, str | None], Hotspot]:
        found: dict[tuple[str, str | None], Hotspot] = {}
        for h in hotspots:
            found.setdefault((h.function, h.file), h)  # ranked: the bigger one wins
        return found

    left = by_function(a)
    right = by_function(b)
    changes = []
    for k in {*left, *right}:
        ha, hb = left.get(k), right.get(k)
        changes.append(
            HotspotChange(
                function=k[0],
                file=k[1],
                line=hb.line if hb else (ha.line if ha else None),
                self_a=ha.self_pct if ha else 0.0,
                self_b=hb.self_pct if hb else 0.0,
                total_a=ha.total_pct if ha else 0.0,
                total_b=hb.total_pct if hb else 0.0,
                lines=_line_changes(ha, hb),
            )
        )
    changes.sort(key=lambda c: (-abs(c.self_delta), -abs(c.total_delta), c.function))
    return changes if top is None else changes[:top]


def format_table(hotspots: Sequence[Hotspot]) -> str:
    """A markdown table for the log and the terminal."""
    rows = [
        "| # | self % | total % | samples | function | defined at | hottest lines (self %) |",
        "|---|---|---|---|---|---|---|",
    ]
    for rank, h in enumerate(hotspots, start=1):
        location = f"{h.file}:{h.line}" if h.file and h.line else (h.file or "")
        rows.append(
            f"| {rank} | {h.self_pct:.1f} | {h.total_pct:.1f} | {h.samples} | "
            f"`{h.function}` | {location} | {hot_lines(h)} |"
        )
    return "\n".join(rows)


def hot_lines(hotspot: Hotspot, limit: int = 3) -> str:
    """``4 (62.0%), 3 (20.1%)``: the hottest lines with their self share, or a call site's
    total share when the function spends no time itself."""
    parts = []
    for hot in hotspot.lines[:limit]:
        share = f"{hot.self_pct:.1f}%" if hot.samples else f"calls, total {hot.total_pct:.1f}%"
        parts.append(f"{hot.line} ({share})")
    return ", ".join(parts)


def short_name(function: str) -> str:
    """The bare name a definition uses: ``pkg.(*T).Run`` → ``Run``, ``A.b(int)`` → ``b``,
    ``ns::f(int) const`` → ``f``, ``f.<locals>.g`` → ``g``."""
    name = function.strip()
    if name.endswith(("]", ")")) or ") " in name:
        depth = 0
        for index in range(len(name) - 1, -1, -1):  # drop a trailing argument list
            char = name[index]
            if char in ")]":
                depth += 1
            elif char in "([":
                depth -= 1
                if depth == 0:
                    if index > 0 and name[index - 1] not in ".":
                        name = name[:index]
                    break
    parts = [p for p in re.split(r"::|\.", name) if p.strip("()*&")]
    return parts[-1].strip("()*& ") if parts else name
