"""What one ``perfinvest load`` run is asked to do, and the progress lines it reports.

Its own module so that the run (:mod:`perfinvest.app.load.run`) and its end
(:mod:`perfinvest.app.load.record`) both import it without importing each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfinvest.app.load.targets import DEFAULT_TARGETS
from perfinvest.core.load.distribution import Distribution

ProgressLine = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class LoadRequest:
    targets: Path = DEFAULT_TARGETS
    profile: str = "baseline"
    users: int | None = None
    duration_s: float | None = None
    rate_rps: float | None = None
    allow_short: str | None = None
    approve: str | None = None
    distribution: Distribution = field(default_factory=Distribution)
    bench: bool = False  # inside a measured run: no lock of its own, metrics on stdout
    param_value: float | None = None  # PERF_PARAM_VALUE: users, or a burst's rate
    command: str = "load run"  # or "load suite": what the log names
