"""Meters: ways of measuring a run other than timing it (``--meter``).

Only one so far, ``instructions``: the command's instruction count under Valgrind's
cachegrind (see :mod:`perfinvest.adapters.meters.cachegrind` and docs/measuring.md).
"""

from __future__ import annotations

from perfinvest.adapters.meters.cachegrind import (
    INSTRUCTIONS,
    METERS,
    InstructionMeter,
    require_meter,
)

__all__ = ["INSTRUCTIONS", "METERS", "InstructionMeter", "require_meter"]
