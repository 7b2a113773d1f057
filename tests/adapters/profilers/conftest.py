"""Helpers for profiling real programs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from perfinvest.adapters.profilers.base import Collected, ProfileRequest, RunFacts
from perfinvest.adapters.profilers.select import plan_for
from perfinvest.adapters.runner import RunSpec, run_command


def profile(
    profiler: str,
    command: list[str],
    cwd: Path,
    out: Path,
    *,
    rate: float | None = None,
    env: dict[str, str] | None = None,
    duration: float = 2.0,
) -> Collected:
    """Plan, run and collect like the profile phase does (without the state)."""
    out.mkdir(parents=True, exist_ok=True)
    request = ProfileRequest(command, False, cwd, out, cwd, rate_hz=rate)
    plan, _ = plan_for(profiler, request)
    run = run_command(
        RunSpec(
            argv=plan.argv,
            cwd=cwd,
            env={**(env or {}), **plan.env},
            duration_s=duration,
            artifact_dir=out,
            sample_hz=0,
        )
    )
    return plan.collect(RunFacts(run.wall_s, run.exit_code, run.stderr_tail, run.survivors_killed))


@pytest.fixture
def run_profiler() -> Callable[..., Any]:
    return profile
