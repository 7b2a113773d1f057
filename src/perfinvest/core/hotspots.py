"""From collapsed stacks to hotspots, and ranking what changed between two profiles (pure).

Collapsed stacks (Brendan Gregg's folded format) are the common currency of every
profiler adapter: one line per distinct stack, frames root-first separated by ``;``, then a
space and a sample count. A frame reads ``function (file:line)``, ``function (file)`` or
``function``. Adapters translate their profiler's output into this; everything after that
(filtering, self/total shares, repository-relative paths, diffs) happens here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from perfinvest.core.models import Hotspot

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


def _filtered(frames: Sequence[str], repo_root: str | None) -> list[Frame]:
    kept = []
    for text in frames:
        frame = parse_frame(text)
        if is_internal(frame):
            continue
        kept.append(Frame(frame.function, relative_file(frame.file, repo_root), frame.line))
    return kept


def total_samples(stacks: Sequence[Stack]) -> int:
    return sum(s.count for s in stacks)


def compute_hotspots(
    stacks: Sequence[Stack], *, repo_root: str | None = None, top: int | None = 20
) -> list[Hotspot]:
    """Per frame: self and total share of all samples; internal frames left out.

    A sample whose whole stack is internal still counts in the denominator, so shares stay
    shares of the real run. Self time of a filtered leaf goes to its nearest kept caller.
    Ranked by self share, then total share.
    """
    total = total_samples(stacks)
    if total == 0:
        return []
    self_counts: dict[Frame, int] = {}
    total_counts: dict[Frame, int] = {}
    for stack in stacks:
        frames = _filtered(stack.frames, repo_root)
        if not frames:
            continue
        self_counts[frames[-1]] = self_counts.get(frames[-1], 0) + stack.count
        for frame in set(frames):
            total_counts[frame] = total_counts.get(frame, 0) + stack.count
    hotspots = [
        Hotspot(
            function=frame.function or "?",
            file=frame.file,
            line=frame.line,
            self_pct=100.0 * self_counts.get(frame, 0) / total,
            total_pct=100.0 * count / total,
            samples=count,
            self_samples=self_counts.get(frame, 0),
        )
        for frame, count in total_counts.items()
    ]
    hotspots.sort(key=lambda h: (-h.self_pct, -h.total_pct, h.function, h.file or ""))
    return hotspots if top is None else hotspots[:top]


@dataclass(frozen=True)
class HotspotChange:
    """How a frame's share moved from profile A to profile B (percentage points)."""

    function: str
    file: str | None
    line: int | None
    self_a: float
    self_b: float
    total_a: float
    total_b: float

    @property
    def self_delta(self) -> float:
        return self.self_b - self.self_a

    @property
    def total_delta(self) -> float:
        return self.total_b - self.total_a

    def as_dict(self) -> dict[str, object]:
        return {
            "function": self.function,
            "file": self.file,
            "line": self.line,
            "self_pct_a": round(self.self_a, 3),
            "self_pct_b": round(self.self_b, 3),
            "self_delta": round(self.self_delta, 3),
            "total_pct_a": round(self.total_a, 3),
            "total_pct_b": round(self.total_b, 3),
            "total_delta": round(self.total_delta, 3),
        }


def diff_hotspots(
    a: Sequence[Hotspot], b: Sequence[Hotspot], *, top: int | None = 20
) -> list[HotspotChange]:
    """Frames ranked by how much their share changed (self first, then total)."""

    def key(h: Hotspot) -> tuple[str, str | None, int | None]:
        return (h.function, h.file, h.line)

    left = {key(h): h for h in a}
    right = {key(h): h for h in b}
    changes = []
    for k in {*left, *right}:
        ha, hb = left.get(k), right.get(k)
        changes.append(
            HotspotChange(
                function=k[0],
                file=k[1],
                line=k[2],
                self_a=ha.self_pct if ha else 0.0,
                self_b=hb.self_pct if hb else 0.0,
                total_a=ha.total_pct if ha else 0.0,
                total_b=hb.total_pct if hb else 0.0,
            )
        )
    changes.sort(key=lambda c: (-abs(c.self_delta), -abs(c.total_delta), c.function))
    return changes if top is None else changes[:top]


def format_table(hotspots: Sequence[Hotspot]) -> str:
    """A markdown table for the log and the terminal."""
    rows = ["| # | self % | total % | samples | function | location |", "|---|---|---|---|---|---|"]
    for rank, h in enumerate(hotspots, start=1):
        location = f"{h.file}:{h.line}" if h.file and h.line else (h.file or "")
        rows.append(
            f"| {rank} | {h.self_pct:.1f} | {h.total_pct:.1f} | {h.samples} | "
            f"`{h.function}` | {location} |"
        )
    return "\n".join(rows)
