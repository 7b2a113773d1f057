"""A progress display on stderr for measuring commands (never on stdout: --json stays clean)."""

from __future__ import annotations

import sys
from typing import Any

from perfinvest.app.measuring.measure import Progress
from perfinvest.core.models import Run


def run_title(label: str, index: int, total: int) -> str:
    """``baseline run 1/3``; ``run 1/1`` for ``perfinvest run`` (not ``run run 1/1``)."""
    kind = label if label == "run" or label.endswith(" run") else f"{label} run"
    return f"{kind} {index}/{total}"


class RichProgress(Progress):
    """One rich progress bar per run: elapsed, remaining, iterations; notes above it."""

    def __init__(self) -> None:
        from rich.console import Console

        self._console = Console(stderr=True)
        self._bar: Any = None
        self._task: Any = None
        self._label = ""

    def run_started(self, label: str, index: int, total: int, duration_s: float) -> None:
        from rich.progress import (
            BarColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import (
            Progress as Bar,
        )

        self._close()
        self._label = run_title(label, index, total)
        self._bar = Bar(
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[iterations]}"),
            console=self._console,
            transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task(self._label, total=duration_s, iterations="")

    def run_progress(self, elapsed_s: float, iterations: int) -> None:
        if self._bar is not None:
            shown = f"{iterations} iterations" if iterations else ""
            self._bar.update(self._task, completed=elapsed_s, iterations=shown)

    def run_finished(self, run: Run) -> None:
        self._close()
        state = "valid" if run.valid else f"INVALID: {run.invalid_reason}"
        compliance = "" if run.compliant else " (non-compliant: short run)"
        self._console.print(f"{self._label}: {run.duration_s:.2f} s, {state}{compliance}")

    def note(self, message: str) -> None:
        self._console.print(f"[yellow]note:[/yellow] {message}", highlight=False)

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def make_progress(enabled: bool = True) -> Progress:
    """Rich on a terminal, plain notes on stderr otherwise (CI logs, agents)."""
    if enabled and sys.stderr.isatty():
        return RichProgress()
    return PlainProgress()


class PlainProgress(Progress):
    """Line-oriented progress for non-terminals: one line per run, notes as they come."""

    def run_started(self, label: str, index: int, total: int, duration_s: float) -> None:
        title = run_title(label, index, total)
        sys.stderr.write(f"perfinvest: {title} ({duration_s:g} s)\n")

    def run_finished(self, run: Run) -> None:
        state = "valid" if run.valid else f"INVALID: {run.invalid_reason}"
        sys.stderr.write(f"perfinvest: {run.run_id}: {run.duration_s:.2f} s, {state}\n")

    def note(self, message: str) -> None:
        sys.stderr.write(f"perfinvest: note: {message}\n")
