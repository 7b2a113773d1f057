"""Rule 2, as a pure decision: how long a run lasts and whether it complies.

Runs last at least 60 s (30 s for breaking-point probes). A shorter run is allowed only
under the investigation's short-run policy (set at setup with a reason), under
``PERF_ALLOW_SHORT=1`` (recorded), or for an ad-hoc run given ``--allow-short REASON``;
every such run is marked non-compliant with the reason, never silently accepted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from perfinvest.core.errors import refused, usage_error

MIN_RUN_S = 60.0
MIN_PROBE_S = 30.0
#: A duration-mode run must last this share of its requested duration to be valid.
VALID_SHARE = 0.95


@dataclass(frozen=True)
class DurationDecision:
    """The duration to request, the least a run must last to be valid, and compliance."""

    duration_s: float
    policy_minimum_s: float
    valid_after_s: float
    compliant: bool
    note: str | None  # why a run is non-compliant, shown in state, log and reports


def policy_minimum(*, probe: bool) -> float:
    return MIN_PROBE_S if probe else MIN_RUN_S


def decide_duration(
    requested_s: float | None,
    *,
    probe: bool = False,
    short_policy: str | None = None,
    env_allow_short: bool = False,
    allow_flag: str = "--allow-short-runs REASON at setup",
) -> DurationDecision:
    """Apply rule 2 to a requested duration; refuse a short run nobody allowed.

    ``allow_flag`` is how the command at hand allows one (the refusal names it).
    """
    minimum = policy_minimum(probe=probe)
    duration = minimum if requested_s is None else float(requested_s)
    if not math.isfinite(duration) or duration <= 0:
        raise usage_error(f"--duration must be a positive number of seconds, not {requested_s}")
    if duration >= minimum:
        return DurationDecision(duration, minimum, duration * VALID_SHARE, True, None)
    kind = "breaking-point probes" if probe else "runs"
    if short_policy:
        allowance = f"short-run policy: {short_policy}"
    elif env_allow_short:
        allowance = "PERF_ALLOW_SHORT=1 in the environment"
    else:
        raise refused(
            f"--duration {duration:g} s is below the {minimum:g} s minimum for {kind} (rule 2); "
            f"use the default, or allow short runs with {allow_flag} or PERF_ALLOW_SHORT=1 "
            "in the environment (they are marked non-compliant)",
            needs=[f"--duration {minimum:g} or more", allow_flag, "PERF_ALLOW_SHORT=1"],
        )
    note = f"{duration:g} s < {minimum:g} s minimum for {kind}, allowed by {allowance}"
    return DurationDecision(duration, minimum, duration * VALID_SHARE, False, note)
