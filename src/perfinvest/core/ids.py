"""Investigation ids and the names that become file names (pure: clock and entropy injected).

Anything read from input that ends up in a path is checked here, so no id or version can
escape the state folder (``..``, ``/``, NUL, absolute paths).
"""

from __future__ import annotations

import re
from datetime import datetime

from perfinvest.core.errors import usage_error

ID_PATTERN = re.compile(r"^perf-\d{8}-\d{6}-[0-9a-f]{8}$")
_VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+@-]{0,127}$")


def new_investigation_id(now: datetime, entropy: bytes) -> str:
    """``perf-YYYYMMDD-HHMMSS-<8 hex>``: sortable by time, unique by its random tail."""
    if len(entropy) < 4:
        raise ValueError("need 4 bytes of entropy")
    return f"perf-{now:%Y%m%d-%H%M%S}-{entropy[:4].hex()}"


def _describe(value: str) -> str:
    return repr(value) if len(value) <= 80 else repr(value[:77] + "...")


def check_investigation_id(value: str) -> str:
    """Return ``value`` when it is a well-formed id; refuse anything else, path-like or not."""
    if not ID_PATTERN.match(value):
        raise usage_error(
            f"invalid investigation id {_describe(value)}: expected perf-YYYYMMDD-HHMMSS-xxxxxxxx "
            "(see `perfinvest list`)"
        )
    return value


def check_version(value: str) -> str:
    """A version names ``baselines/<version>.json``: letters, digits and ``._+@-`` only."""
    if not value or "\x00" in value or ".." in value or not _VERSION_PATTERN.match(value):
        raise usage_error(
            f"invalid version {_describe(value)}: use 1-128 letters, digits or . _ + @ - "
            "starting with a letter or digit (no '/', '..' or spaces)"
        )
    return value
