"""Which environment differences make two sets of runs incomparable (pure)."""

from __future__ import annotations

from perfinvest.core.models import EnvironmentFingerprint

#: Fingerprint fields that must agree for a comparison to mean anything. The git commit
#: is expected to differ (that is what is compared); load is recorded, not matched.
MATCHED_FIELDS = ("host", "cpu_model", "cpu_count", "kernel", "config_hash")


def mismatches(a: EnvironmentFingerprint, b: EnvironmentFingerprint) -> list[str]:
    """``field: a != b`` for every matched field that differs (empty when comparable)."""
    found = []
    for name in MATCHED_FIELDS:
        left, right = getattr(a, name), getattr(b, name)
        if left != right:
            found.append(f"{name}: {left!r} != {right!r}")
    return found
