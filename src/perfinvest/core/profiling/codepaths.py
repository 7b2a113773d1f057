"""Ranking the code on the scenario's path (pure): hotspots, keywords and git history.

Every entry says why it was ranked. Weights, in order of trust: a measured hotspot (its
self and total share of samples), the scenario's words in a function's name, path or body,
and recent history (changed in the window, by a commit flagged as performance-relevant).
A function that a profile measured also names its hottest line (``hot_line``, e.g.
``app/core.py:4``), the place to look first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from perfinvest.core.models import CodePath, CommitEvidence, Hotspot
from perfinvest.core.profiling.hotspots import short_name

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]+")
_STOPWORDS = frozenset(
    """
    the and for with under over from into when than then that this what which while under
    after before during per are was were has have had not but too very all any each few more
    most other some such only own same can will just should now get got use using used
    p50 p90 p95 p99 p999 ms rps qps sec secs seconds load test tests bench benchmark
    slow slower fast faster latency throughput requests request time times
    """.split()  # noqa: SIM905
)

HOTSPOT_SELF_WEIGHT = 2.0
HOTSPOT_TOTAL_WEIGHT = 1.0
NAME_KEYWORD = 12.0
PATH_KEYWORD = 6.0
BODY_KEYWORD = 1.5
BODY_KEYWORD_CAP = 6.0
HISTORY_PER_COMMIT = 2.0
HISTORY_CAP = 8.0
FLAGGED_COMMIT = 5.0


_INTERPRETED = (".py", ".js", ".mjs", ".cjs", ".ts", ".rb", ".php", ".java", ".kt", ".scala")


@dataclass(frozen=True)
class Symbol:
    """A function or class found in a source file (path relative to the repository)."""

    file: str
    name: str
    line: int
    end_line: int | None = None
    kind: str = "function"
    text: str = ""  # its source, for keyword matches (may be empty)
    source: str = ""  # how it was found: ast, ctags, regex


@dataclass
class _Entry:
    file: str
    line: int | None
    function: str | None
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    hot_line: str | None = None
    hot_points: float = 0.0  # the points of the hotspot that gave hot_line

    def add_hotspot(self, hotspot: Hotspot, profile_label: str) -> None:
        points = HOTSPOT_SELF_WEIGHT * hotspot.self_pct + HOTSPOT_TOTAL_WEIGHT * hotspot.total_pct
        self.add(points, _hotspot_reason(hotspot, profile_label))
        if hotspot.hot_line and points > self.hot_points:
            self.hot_line, self.hot_points = hotspot.hot_line, points

    def add(self, points: float, reason: str) -> None:
        if points > 0:
            self.score += points
            self.reasons.append(reason)


def keywords(*texts: str) -> list[str]:
    """Distinct lower-case words of the scenario worth looking for in code."""
    found: list[str] = []
    for text in texts:
        for word in _WORD.findall(text):
            lower = word.lower()
            if len(lower) >= 3 and lower not in _STOPWORDS and lower not in found:
                found.append(lower)
    return found


def _name_words(name: str) -> set[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return {w.lower() for w in re.split(r"[^A-Za-z0-9]+", spaced) if w}


def _matches_hotspot(symbol: Symbol, hotspot: Hotspot, sources: set[str]) -> bool:
    """Same file and name (its definition or hot lines inside the symbol), or by name for
    a binary's frame."""
    if hotspot.file != symbol.file and (
        hotspot.file in sources or symbol.file.endswith(_INTERPRETED)
    ):
        return False
    if short_name(hotspot.function) != symbol.name:
        return False
    if hotspot.file != symbol.file:
        return True
    end = max(symbol.end_line or symbol.line, symbol.line)
    if hotspot.line is not None:
        return symbol.line <= hotspot.line <= end
    lines = [hot.line for hot in hotspot.lines]
    return not lines or any(symbol.line <= line <= end for line in lines)


def _hotspot_reason(hotspot: Hotspot, profile_label: str) -> str:
    reason = (
        f"hotspot in {profile_label}: self {hotspot.self_pct:.1f}%, total {hotspot.total_pct:.1f}%"
    )
    if hotspot.hot_line and hotspot.lines:
        hot = hotspot.lines[0]
        share = f"self {hot.self_pct:.1f}%" if hot.samples else f"total {hot.total_pct:.1f}%"
        reason += f", hottest line {hotspot.hot_line} ({share})"
    return reason


def rank(
    symbols: Sequence[Symbol],
    *,
    scenario_words: Sequence[str],
    hotspots: Sequence[Hotspot] = (),
    profile_label: str = "the latest profile",
    commits: Iterable[CommitEvidence] = (),
    files: Sequence[str] = (),
    top: int = 20,
) -> list[CodePath]:
    """Functions (and files) ranked by evidence, highest first, each with its reasons."""
    changed: dict[str, int] = {}
    flagged: dict[str, list[str]] = {}
    for commit in commits:
        for name in commit.files:
            changed[name] = changed.get(name, 0) + 1
            if commit.flags:
                flagged.setdefault(name, []).append(commit.sha[:10])
    sources = {symbol.file for symbol in symbols} | set(files)
    entries: list[_Entry] = []
    matched_hotspots: set[int] = set()
    by_file: dict[str, list[_Entry]] = {}
    for symbol in symbols:
        entry = _Entry(symbol.file, symbol.line, symbol.name)
        for index, hotspot in enumerate(hotspots):
            if _matches_hotspot(symbol, hotspot, sources):
                matched_hotspots.add(index)
                entry.add_hotspot(hotspot, profile_label)
        words = _name_words(symbol.name)
        path_lower = symbol.file.lower()
        body = symbol.text.lower()
        for word in scenario_words:
            if word in words or any(w.startswith(word) for w in words):
                entry.add(NAME_KEYWORD, f"name matches scenario word '{word}'")
            elif word in path_lower:
                entry.add(PATH_KEYWORD, f"path matches scenario word '{word}'")
            elif body:
                hits = body.count(word)
                if hits:
                    entry.add(
                        min(BODY_KEYWORD_CAP, BODY_KEYWORD * hits),
                        f"body mentions '{word}' {hits}x",
                    )
        if entry.score > 0:
            _add_history(entry, changed, flagged)
        entries.append(entry)
        by_file.setdefault(symbol.file, []).append(entry)
    # hotspots without a matching symbol (native frames, other languages) stand on their own
    for index, hotspot in enumerate(hotspots):
        if index in matched_hotspots or hotspot.file not in sources:
            continue
        entry = _Entry(hotspot.file, hotspot.line, hotspot.function)
        entry.add_hotspot(hotspot, profile_label)
        _add_history(entry, changed, flagged)
        entries.append(entry)
    # files: changed in the window or matching the scenario, without a ranked function
    for name in sorted({*files, *changed}):
        if any(e.score > 0 for e in by_file.get(name, [])):
            continue
        entry = _Entry(name, None, None)
        for word in scenario_words:
            if word in name.lower():
                entry.add(PATH_KEYWORD, f"path matches scenario word '{word}'")
        _add_history(entry, changed, flagged)
        entries.append(entry)
    ranked = sorted(
        (e for e in entries if e.score > 0),
        key=lambda e: (-e.score, e.file, e.line or 0, e.function or ""),
    )
    return [
        CodePath(
            file=e.file,
            line=e.line,
            function=e.function,
            score=round(e.score, 2),
            reason="; ".join(e.reasons),
            reasons=list(e.reasons),
            hot_line=e.hot_line,
        )
        for e in ranked[:top]
    ]


def _add_history(entry: _Entry, changed: dict[str, int], flagged: dict[str, list[str]]) -> None:
    count = changed.get(entry.file, 0)
    if count:
        entry.add(
            min(HISTORY_CAP, HISTORY_PER_COMMIT * count),
            f"file changed in {count} commit(s) of the history window",
        )
    shas = flagged.get(entry.file)
    if shas:
        entry.add(FLAGGED_COMMIT, f"file touched by flagged commit(s) {', '.join(shas[:3])}")
