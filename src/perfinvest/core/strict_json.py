"""Strict JSON out (pure): never ``NaN`` or ``Infinity``, which JSON does not have.

Python's ``json`` writes them by default and most parsers (``jq``, JavaScript's
``JSON.parse``, Go) then refuse the whole answer. Every JSON document perfinvest prints
or writes goes through :func:`dumps`: a non-finite float becomes ``null`` (the statistic
that carries it says why in its ``reason``), and ``allow_nan=False`` proves none is left.
"""

from __future__ import annotations

import json
import math
from typing import Any


def finite(value: Any) -> Any:
    """``value`` with every non-finite float (nested in dicts, lists, tuples) as None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    return value


def dumps(value: Any, **options: Any) -> str:
    """``json.dumps`` of :func:`finite` ``(value)``, refusing NaN and Infinity."""
    return json.dumps(finite(value), allow_nan=False, **options)
