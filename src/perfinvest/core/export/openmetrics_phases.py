"""The families of breaking-point searches and constrained runs (phases 3 and 4).

Pure, added to :data:`perfinvest.core.export.openmetrics.FAMILIES` in its order. A probe's metric
is the ``metric`` label of one gauge with the parameter value as ``level``, so the
dashboard draws any metric by level; a constrained configuration's limits are labels and
values of their own. Both carry ``superseded`` like the baselines: an earlier search, a
configuration measured again later, kept and marked.
"""

from __future__ import annotations

from collections.abc import Mapping

from perfinvest.core.export.data import environment_id
from perfinvest.core.export.families import PREFIX, Family, flag
from perfinvest.core.export.phase_data import (
    ExportBreakingPoint,
    ExportConstraint,
    number_label,
    split_key,
)

PROBE = f"{PREFIX}_breaking_point_probe"
PROBE_LEVEL = f"{PREFIX}_breaking_point_probe_level"
BOUNDARY = f"{PREFIX}_breaking_point_boundary"
CONSTRAINT_VALUE = f"{PREFIX}_constraint_value"
CONSTRAINT_CHANGE = f"{PREFIX}_constraint_change_ratio"
CONSTRAINT_LIMIT = f"{PREFIX}_constraint_limit"
CONSTRAINT_USAGE = f"{PREFIX}_constraint_usage"

#: name → (type, unit, help), after the run and baseline families.
PHASE_FAMILIES: dict[str, tuple[str, str, str]] = {
    PROBE: (
        "gauge",
        "",
        "One metric of one breaking-point probe, at the parameter value it ran at (level).",
    ),
    PROBE_LEVEL: (
        "gauge",
        "",
        "The parameter value a breaking-point probe ran at, with its verdict (passed).",
    ),
    BOUNDARY: (
        "gauge",
        "",
        "A breaking-point search's result and range (bound: last_passing, breaking_point...).",
    ),
    CONSTRAINT_VALUE: (
        "gauge",
        "",
        "Mean of a metric over the valid runs of a constrained configuration (limits).",
    ),
    CONSTRAINT_CHANGE: (
        "gauge",
        "ratio",
        "Relative change of a metric under the limits against the unconstrained baseline.",
    ),
    CONSTRAINT_LIMIT: (
        "gauge",
        "",
        "A limit a constrained configuration ran under (limit: cpu, memory_bytes, pids).",
    ),
    CONSTRAINT_USAGE: (
        "gauge",
        "",
        "What a constrained configuration's runs used or suffered (resource label).",
    ),
}
#: The boundary values of a search, by the ``bound`` label.
BOUNDS = ("last_passing", "breaking_point", "minimum", "maximum", "resolution")
#: ``resource`` label → ConstraintResult field.
USAGE = (
    ("runs", None),
    ("valid_runs", "valid_runs"),
    ("throttled_periods", "throttled_periods"),
    ("throttled_seconds", "throttled_time_s"),
    ("cpu_seconds", "cpu_time_s"),
    ("peak_memory_bytes", "peak_memory_bytes"),
    ("oom_kills", "oom_kills"),
)


def _verdict(passed: bool | None) -> str:
    return {True: "true", False: "false", None: "invalid"}[passed]


def _common(item: ExportBreakingPoint | ExportConstraint) -> dict[str, str]:
    return {
        "investigation": item.investigation,
        "version": item.version,
        "environment": environment_id(item.environment),
        "config_hash": item.config_hash,
        "superseded": flag(item.superseded),
        "source": item.source,
    }


def _search(families: Mapping[str, Family], bp: ExportBreakingPoint) -> None:
    result = bp.result
    search = {**_common(bp), "parameter": result.parameter, "compliant": flag(result.compliant)}
    for item in bp.probes:
        probe = item.probe
        labels = {
            **search,
            "probe": str(item.number),
            "stage": probe.stage,
            "level": number_label(probe.value),
            "passed": _verdict(probe.passed),
            "run_id": probe.run_id or "",
        }
        families[PROBE_LEVEL].add("", labels, probe.value, item.at)
        for key, value in sorted(probe.metrics.items()):
            scenario, name = split_key(key)
            values = {**labels, "scenario": scenario, "metric": name}
            families[PROBE].add("", values, value, item.at)
    outcome = {
        **search,
        "verdict": result.verdict or "",
        "monotonic": flag(result.monotonic),
        "widened": flag(result.widened),
    }
    for bound in BOUNDS:
        value = getattr(result, bound)
        if value is not None:
            families[BOUNDARY].add("", {**outcome, "bound": bound}, float(value), bp.at)


def _constraint(families: Mapping[str, Family], kept: ExportConstraint) -> None:
    record = kept.result
    labels = {
        **_common(kept),
        "constraint": str(kept.number),
        "limits": record.label,
        "backend": record.backend,
        "approximate": flag(record.approximate),
        "oom_killed": flag(record.oom_killed),
    }
    for key, value in sorted(record.metrics.items()):
        scenario, name = split_key(key)
        metric = {**labels, "scenario": scenario, "metric": name}
        families[CONSTRAINT_VALUE].add("", metric, value, kept.at)
        change = record.deltas.get(key)
        if change is not None:
            effect = record.effects.get(key)
            metric["effect"] = effect.effect if effect is not None else ""
            families[CONSTRAINT_CHANGE].add("", metric, change, kept.at)
    for limit in ("cpu", "memory_bytes", "pids"):
        value = getattr(record, limit)
        if value is not None:
            families[CONSTRAINT_LIMIT].add("", {**labels, "limit": limit}, float(value), kept.at)
    for resource, field_name in USAGE:
        used = len(record.runs) if field_name is None else getattr(record, field_name)
        if used is not None:
            families[CONSTRAINT_USAGE].add(
                "", {**labels, "resource": resource}, float(used), kept.at
            )


def add_phases(
    families: Mapping[str, Family],
    searches: list[ExportBreakingPoint],
    constraints: list[ExportConstraint],
) -> None:
    """Add the samples of every search (superseded ones too) and constrained configuration."""
    for bp in searches:
        _search(families, bp)
    for kept in constraints:
        _constraint(families, kept)
