"""Collapsed stacks made readable for the report's icicle (pure).

A profile's stacks go to the icicle as the reviewer needs them: the import machinery
folded into one ``(imports and start-up)`` node (a profile of a short program is mostly
interpreter start-up: those stacks otherwise fill the picture), the interpreter's own
wrapper frames (py-spy's ``process`` root, runpy, the C eval loop) left out with their
time kept in their callers, and paths shortened: to the repository for its files, to the
module path for the standard library and installed packages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from perfinvest.core.profiling.hotspots import Frame, is_internal, parse_frame, relative_file

#: The node that stands for every import and interpreter start-up frame below it.
STARTUP = "(imports and start-up)"
_IMPORT_FILES = ("<frozen importlib", "<frozen zipimport", "importlib/_bootstrap")
_IMPORT_FUNCTIONS = frozenset({"_find_and_load", "_find_and_load_unlocked", "_load_unlocked"})
#: ``.../lib/python3.11/json/decoder.py`` → ``json/decoder.py`` (also site-packages).
_LIBRARY = re.compile(r"^.*/(?:site-packages|dist-packages|lib/python\d+(?:\.\d+)?)/")


def short_path(file: str, root: str = "") -> str:
    """``file`` relative to the repository ``root``, else to its library folder."""
    inside = relative_file(file, root or None) or file
    if inside != file or not file.startswith("/"):
        return inside
    return _LIBRARY.sub("", file)


def short_frame(frame: Frame, root: str = "") -> str:
    """The frame's label with its path shortened."""
    if frame.file is None:
        return frame.function
    return Frame(frame.function, short_path(frame.file, root), frame.line).label()


def _is_import(frame: Frame) -> bool:
    file = frame.file or ""
    return frame.function in _IMPORT_FUNCTIONS or any(m in file for m in _IMPORT_FILES)


def _wrapper(frame: Frame) -> bool:
    """Interpreter and profiler frames that wrap the program (built-ins are kept: a
    built-in can be where the time goes)."""
    builtin = frame.function.startswith(("<built-in method ", "{built-in method "))
    return is_internal(frame) and not builtin


def readable(frames: Sequence[str], root: str = "") -> tuple[str, ...]:
    """One stack as the icicle draws it (root first)."""
    out: list[str] = []
    for text in frames:
        frame = parse_frame(text)
        if _is_import(frame):
            out.append(STARTUP)
            break
        if _wrapper(frame):
            continue
        out.append(short_frame(frame, root))
    return tuple(out) or (STARTUP,)


def flame_stacks(
    stacks: Iterable[tuple[tuple[str, ...], int]], root: str = ""
) -> list[tuple[tuple[str, ...], int]]:
    """Every stack made :func:`readable`, identical results merged (counts kept)."""
    merged: dict[tuple[str, ...], int] = {}
    for frames, count in stacks:
        key = readable(frames, root)
        merged[key] = merged.get(key, 0) + count
    return sorted(merged.items())
