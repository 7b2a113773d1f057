"""Profiling spans: ``with span("parse"):`` or ``start_span`` / ``end_span``.

Zero-cost unless enabled: with ``PERFINVEST_PROFILING=1`` (or the seed's
``PROFILING_ENABLED=true``) unset, ``span`` returns one shared no-op context manager
and ``start_span`` / ``end_span`` return at once, so spans can stay in production code.
The switch is read once, at import (``enable()`` turns it on later, e.g. in tests).

When enabled, each span's duration is recorded per name; at exit the aggregate (count,
total, mean, p50/p95/p99, max, samples) and a Chrome trace (open it in
``chrome://tracing`` or https://ui.perfetto.dev, or convert for speedscope) are written
to ``PERF_ARTIFACT_DIR``, where perfinvest reads them as metrics of the run
(``span:parse:p95_ms``). Nesting follows the current thread and asyncio task
(``contextvars``), so spans of concurrent threads and tasks never parent each other.

Imports only the standard library: a program that imports this pays microseconds.
"""

from __future__ import annotations

import atexit
import contextvars
import os
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

__all__ = [
    "SpanError",
    "enable",
    "enabled",
    "end_span",
    "reset",
    "span",
    "start_span",
    "summary",
    "write",
]

FORMAT_VERSION = "perfinvest.spans/0.1"
SUMMARY_FILE = "spans-{pid}.json"
TRACE_FILE = "spans-{pid}.trace.json"
MAX_SAMPLES = 100_000  # per name; beyond it count/total/max stay exact, samples are the first
MAX_EVENTS = 200_000  # timeline events kept per process

_TRUE = {"1", "true", "yes", "on"}


def _env_enabled() -> bool:
    for name in ("PERFINVEST_PROFILING", "PROFILING_ENABLED"):
        if os.environ.get(name, "").strip().lower() in _TRUE:
            return True
    return False


class SpanError(RuntimeError):
    """A span used the wrong way (ended twice, ended without being started)."""


class _NoSpan:
    """The disabled span: one shared instance, nothing recorded.

    Its ``__enter__`` / ``__exit__`` are C callables, not Python methods (neither binds as
    a method): ``NoneType()`` returns None, ``"".format(exc_type, exc, tb)`` returns ""
    (falsy, so exceptions propagate). That takes a disabled ``with span(...)`` from about
    110 ns to about 70 ns (benchmarks/spans_disabled.py).
    """

    __slots__ = ()
    __enter__ = type(None)
    __exit__ = "".format


_NO_SPAN = _NoSpan()


class Span:
    """One started span; pass it to ``end_span`` (or leave the ``with`` block)."""

    __slots__ = ("_token", "depth", "ended", "name", "parent", "start_ns", "task", "tid")

    def __init__(self, name: str) -> None:
        self.name = name
        self.parent: Span | None = _CURRENT.get()
        self.depth: int = 0 if self.parent is None else self.parent.depth + 1
        self.tid = threading.get_ident()
        self.task = _task_name()
        self.ended = False
        self._token = _CURRENT.set(self)
        _OPEN[id(self)] = self  # one dict store is atomic under the GIL: no lock needed
        self.start_ns = time.perf_counter_ns()

    def __enter__(self) -> Span:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        end_span(self)


_CURRENT: contextvars.ContextVar[Span | None] = contextvars.ContextVar(
    "perfinvest_span", default=None
)
_LOCK = threading.Lock()
_OPEN: dict[int, Span] = {}
_DURATIONS: dict[str, list[int]] = {}  # ns, first MAX_SAMPLES
_TOTALS: dict[str, list[int]] = {}  # name -> [count, total_ns, max_ns]
_EVENTS: list[tuple[str, int, int, int, str | None, int]] = []
_DROPPED = [0]
_ORIGIN_NS = time.perf_counter_ns()
_enabled = _env_enabled()


def _task_name() -> str | None:
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return None
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no running loop in this thread
        return None
    return None if task is None else task.get_name()


def enabled() -> bool:
    """Whether spans record (the environment switch, or ``enable()``)."""
    return _enabled


def enable(on: bool = True) -> None:
    """Turn recording on or off at run time (the environment decides at import)."""
    global _enabled  # noqa: PLW0603 - a module global keeps the disabled check one lookup
    _enabled = on
    _register_exit()


def span(name: str) -> Span | _NoSpan:
    """A context manager timing its block under ``name``; a shared no-op when disabled."""
    if not _enabled:
        return _NO_SPAN
    return Span(name)


def start_span(name: str) -> Span | None:
    """Start a span; give the result to ``end_span``. ``None`` when disabled."""
    if not _enabled:
        return None
    return Span(name)


def end_span(started: Span | None) -> float | None:
    """End a span from ``start_span``; its duration in ms (``None`` when disabled)."""
    if started is None:
        return None
    end_ns = time.perf_counter_ns()
    if not isinstance(started, Span):
        raise SpanError(f"end_span expects what start_span returned, got {type(started).__name__}")
    if started.ended:
        raise SpanError(f"span {started.name!r} was already ended; end each span once")
    started.ended = True
    try:
        _CURRENT.reset(started._token)
    except ValueError:
        # ended in another context (thread/task) or out of order: restore its parent there
        _CURRENT.set(started.parent)
    elapsed = end_ns - started.start_ns
    name = started.name
    _OPEN.pop(id(started), None)
    with _LOCK:
        totals = _TOTALS.get(name)
        if totals is None:
            _TOTALS[name] = [1, elapsed, elapsed]
            _DURATIONS[name] = [elapsed]
        else:
            totals[0] += 1
            totals[1] += elapsed
            totals[2] = max(totals[2], elapsed)
            samples = _DURATIONS[name]
            if len(samples) < MAX_SAMPLES:
                samples.append(elapsed)
        if len(_EVENTS) < MAX_EVENTS:
            _EVENTS.append(
                (name, started.start_ns, elapsed, started.tid, started.task, started.depth)
            )
        else:
            _DROPPED[0] += 1
    return elapsed / 1e6


def _percentile(sorted_ms: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), as core/summaries."""
    if len(sorted_ms) == 1:
        return sorted_ms[0]
    pos = (len(sorted_ms) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(sorted_ms) - 1)
    return sorted_ms[low] + (sorted_ms[high] - sorted_ms[low]) * (pos - low)


def summary() -> dict[str, object]:
    """The aggregate so far: per name count, total/mean/p50/p95/p99/max in ms, samples."""
    with _LOCK:
        totals = {name: list(values) for name, values in _TOTALS.items()}
        durations = {name: list(values) for name, values in _DURATIONS.items()}
        unclosed: dict[str, int] = {}
        for open_span in list(_OPEN.values()):  # copied in one C call, under the GIL
            unclosed[open_span.name] = unclosed.get(open_span.name, 0) + 1
    spans: dict[str, object] = {}
    for name, (count, total_ns, max_ns) in totals.items():
        ms = sorted(d / 1e6 for d in durations[name])
        spans[name] = {
            "count": count,
            "total_ms": total_ns / 1e6,
            "mean_ms": total_ns / 1e6 / count,
            "p50_ms": _percentile(ms, 50),
            "p95_ms": _percentile(ms, 95),
            "p99_ms": _percentile(ms, 99),
            "max_ms": max_ns / 1e6,
            "samples_ms": [d / 1e6 for d in durations[name]],
        }
    return {
        "format": FORMAT_VERSION,
        "pid": os.getpid(),
        "spans": spans,
        "unclosed": unclosed,
        "dropped_events": _DROPPED[0],
    }


def _trace() -> dict[str, object]:
    """Chrome trace "complete" events; an asyncio task gets its own track (tid)."""
    pid = os.getpid()
    with _LOCK:
        events = list(_EVENTS)
    tracks: dict[tuple[int, str | None], int] = {}
    out: list[dict[str, object]] = []
    for name, start_ns, dur_ns, tid, task, depth in events:
        key = (tid, task)
        track = tracks.setdefault(key, tid if task is None else tid * 1000 + len(tracks))
        out.append(
            {
                "name": name,
                "ph": "X",
                "ts": (start_ns - _ORIGIN_NS) / 1000,
                "dur": dur_ns / 1000,
                "pid": pid,
                "tid": track,
                "args": {"depth": depth},
            }
        )
    for (tid, task), track in tracks.items():
        label = f"thread {tid}" if task is None else f"thread {tid} task {task}"
        out.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": track,
                    "args": {"name": label}})  # fmt: skip
    return {"traceEvents": out, "displayTimeUnit": "ms"}


def write(directory: str | Path | None = None) -> list[Path]:
    """Write the summary and the trace to ``directory`` (default ``PERF_ARTIFACT_DIR``).

    Nothing is written when no directory is known or nothing was recorded. Files are
    named by pid, so several processes of one run never overwrite each other.
    """
    import json  # only when writing: importing spans stays cheap

    target = directory if directory is not None else os.environ.get("PERF_ARTIFACT_DIR")
    if not target:
        return []
    doc = summary()
    if not doc["spans"] and not doc["unclosed"]:
        return []
    folder = Path(target)
    folder.mkdir(parents=True, exist_ok=True)
    pid = os.getpid()
    written: list[Path] = []
    for name, body in ((SUMMARY_FILE, doc), (TRACE_FILE, _trace())):
        path = folder / name.format(pid=pid)
        temp = path.with_suffix(".tmp")
        temp.write_text(json.dumps(body), encoding="utf-8")
        temp.replace(path)
        written.append(path)
    return written


def _at_exit() -> None:
    if not _enabled:
        return
    doc_unclosed: dict[str, int] = {}
    with _LOCK:
        for open_span in list(_OPEN.values()):
            doc_unclosed[open_span.name] = doc_unclosed.get(open_span.name, 0) + 1
    if doc_unclosed:
        names = ", ".join(f"{name} ({count}x)" for name, count in sorted(doc_unclosed.items()))
        print(
            f"perfinvest.spans: spans never ended: {names}; end each start_span with end_span "
            "(or use `with span(...)`); they are listed as unclosed, not measured",
            file=sys.stderr,
        )
    try:
        write()
    except OSError as exc:
        print(f"perfinvest.spans: cannot write the span artifacts: {exc}", file=sys.stderr)


_registered = [False]


def _register_exit() -> None:
    if not _registered[0]:
        _registered[0] = True
        atexit.register(_at_exit)


def reset() -> None:
    """Forget everything recorded (tests, or a program measuring phases separately)."""
    with _LOCK:
        _OPEN.clear()
        _DURATIONS.clear()
        _TOTALS.clear()
        _EVENTS.clear()
        _DROPPED[0] = 0


if _enabled:
    _register_exit()
