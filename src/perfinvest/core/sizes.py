"""Memory sizes as people write them (``256MB``, ``1GiB``, ``512m``), parsed to bytes (pure).

Units, case-insensitive:

* no unit or ``B``: bytes;
* ``KiB`` ``MiB`` ``GiB`` ``TiB``: binary (1024-based);
* ``KB`` ``MB`` ``GB`` ``TB``: decimal (1000-based), as the SI says;
* ``k`` ``m`` ``g`` ``t`` (one letter, Docker's ``--memory 512m`` style): binary.

Fractions are allowed (``1.5GiB``); the result is rounded down to a whole byte and must be
at least one byte.
"""

from __future__ import annotations

import math
import re

from perfinvest.core.errors import usage_error

_UNITS: dict[str, int] = {
    "": 1,
    "b": 1,
    "k": 1024,
    "m": 1024**2,
    "g": 1024**3,
    "t": 1024**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
}

_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Z]*)\s*$")


def parse_size(text: str) -> int:
    """Bytes for ``text``; a usage error naming the accepted forms when it does not parse."""
    match = _PATTERN.match(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise usage_error(
            f"cannot read memory size {text!r}: use a number with an optional unit, "
            "e.g. 268435456, 256MB, 1GiB or 512m (KiB/MiB/GiB and k/m/g are 1024-based, "
            "KB/MB/GB 1000-based)"
        )
    value = float(match.group(1)) * _UNITS[unit]
    if not math.isfinite(value) or value < 1:
        raise usage_error(f"memory size {text!r} is below one byte: give a positive size")
    return int(value)


def format_size(size: int) -> str:
    """A short binary rendering: ``256 MiB``, ``1.5 GiB``, ``512 B``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.4g} {unit}"
        value /= 1024
    return f"{value:.4g} TiB"
