"""The breaking-point search's grid and noise: resolution, probe bound, range checks.

Pure arithmetic the search (``core/breaking/search.py``) and the phase
(``app/phases/breaking_point.py``) share: how the step is chosen, how many probes a range
may cost, when two values are one
value within the measured noise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from perfinvest.core.errors import usage_error
from perfinvest.core.stats.verdicts import coefficient_of_variation

#: How ``--resolution`` is chosen when it is not given (stated in the output and the docs).
DEFAULT_RESOLUTION_RULE = (
    "1 % of the range, (max - min) / 100, rounded up to a whole number when --min and --max "
    "are whole numbers"
)
#: Probes spent re-measuring an end of the interval that was reached by widening.
RECONFIRM_LIMIT = 2
#: Two measurements are the same within noise when they differ by at most NOISE_Z standard
#: deviations of a difference of two runs: NOISE_Z x sqrt(2) x CV x value (about 95 %).
NOISE_Z = 2.0


def default_resolution(minimum: float, maximum: float) -> float:
    """The resolution used without ``--resolution``: see :data:`DEFAULT_RESOLUTION_RULE`."""
    span = maximum - minimum
    if span <= 0:
        return 1.0
    step = span / 100
    if minimum == int(minimum) and maximum == int(maximum):
        return float(max(1, math.ceil(step - 1e-9)))
    return float(f"{step:.3g}")


def grid_steps(minimum: float, maximum: float, resolution: float) -> int:
    """``K``: grid steps from the minimum to the maximum (the last one may be partial)."""
    return max(0, math.ceil((maximum - minimum) / resolution - 1e-9))


def probe_bound(minimum: float, maximum: float, resolution: float) -> int:
    """The most probes a search may use: ``ceil(log2(K)) + 3 + RECONFIRM_LIMIT``."""
    steps = grid_steps(minimum, maximum, resolution)
    return (math.ceil(math.log2(steps)) if steps > 1 else 0) + 3 + RECONFIRM_LIMIT


def check_range(minimum: float, maximum: float, resolution: float | None = None) -> None:
    given = [("--min", minimum), ("--max", maximum)]
    for name, value in given + ([("--resolution", resolution)] if resolution is not None else []):
        if not math.isfinite(value):
            raise usage_error(f"{name} must be a finite number, not {value}")
    if minimum > maximum:
        raise usage_error(
            f"--min {minimum:g} is above --max {maximum:g}: give the range low value first"
        )
    if resolution is not None and resolution <= 0:
        raise usage_error(f"--resolution must be positive, not {resolution:g}")


def format_value(value: float) -> str:
    """How a parameter value is passed in the environment: ``237``, ``0.25``."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def widens(previous: tuple[float, float], requested: tuple[float, float]) -> bool:
    """Rule 4: does ``requested`` reach outside the range of an earlier result?"""
    return requested[0] < previous[0] or requested[1] > previous[1]


def noise_band(cv: float, a: float, b: float) -> float:
    """How far apart two runs' values may be and still be one value within noise."""
    return NOISE_Z * math.sqrt(2) * cv * max(abs(a), abs(b))


def baseline_noise(values: Mapping[str, Sequence[float]]) -> dict[str, float]:
    """Each metric's run-to-run CV over the baseline's runs (metrics with two runs or more)."""
    noise: dict[str, float] = {}
    for key, runs in values.items():
        if len(runs) >= 2:
            noise[key] = coefficient_of_variation(runs) or 0.0
    return noise
