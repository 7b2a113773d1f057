"""The pytest plugin's ``--perfinvest-save`` file: one PerfMetrics v0.1 document (private).

Every test is a scenario; each statistic is a metric whose ``samples`` are its per-round
values (round means for ``mean_ms``), so ``perfinvest diff``, ``budget check`` and
``metrics validate`` read the file as they read any PerfMetrics document, and the plugin's
own ``--perfinvest-compare`` gets the round means back. Imports only the standard library.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import socket
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from perfinvest.harness._result import Result

SCHEMA_VERSION = "0.1"
#: per-round statistics written with their samples (the round values)
ROUND_STATS = ("mean", "min", "median", "max")


def config_hash() -> str:
    """What must match for two saved files to be comparable: the interpreter and machine."""
    parts = (sys.implementation.name, platform.python_version(), platform.machine())
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _row(result: Result, name: str, value: float, unit: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "scenario": result.name, "value": value, "unit": unit, **extra}


def result_metrics(result: Result) -> list[dict[str, Any]]:
    """The metrics of one result: per-round statistics with samples, then the plain ones."""
    s = result.stats
    rows = [
        _row(
            result,
            f"{stat}_ms",
            s[stat],
            "ms",
            direction="lower",
            runs=1,
            samples=result.round_values(stat),
        )
        for stat in ROUND_STATS
    ]
    per_round_ops = [1000.0 / m if m > 0 else 0.0 for m in result.round_values("mean")]
    rows += [
        _row(result, "stddev_ms", s["stddev"], "ms", direction="lower", runs=1),
        _row(
            result,
            "ops_per_s",
            1000.0 / s["mean"] if s["mean"] > 0 else 0.0,
            "/s",
            direction="higher",
            runs=1,
            samples=per_round_ops,
        ),
        _row(result, "rounds", float(result.rounds), "", direction=None, runs=1),
        _row(result, "iterations", float(result.iterations), "", direction=None, runs=1),
    ]
    return rows


def document(results: Sequence[Result], *, name: str, commit: str | None = None) -> dict[str, Any]:
    """The PerfMetrics v0.1 document of a session's results."""
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return {
        "schema_version": SCHEMA_VERSION,
        "timestamp": now,
        "scenario": {
            "name": name,
            "route": None,
            "concurrency": None,
            "duration_s": sum(r.elapsed_s for r in results),
        },
        "environment": {
            "machine": socket.gethostname(),
            "commit": commit,
            "config_hash": config_hash(),
        },
        "metrics": [row for result in results for row in result_metrics(result)],
    }


def save(path: str | Path, results: Sequence[Result], *, name: str = "pytest") -> Path:
    """Write the document atomically (a temporary file renamed over the target)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temp.write_text(json.dumps(document(results, name=name), indent=1) + "\n", encoding="utf-8")
    temp.replace(target)
    return target
