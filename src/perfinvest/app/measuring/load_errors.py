"""Failed requests of a load tool are a measurement, not a broken run.

Locust exits 1 whenever a request failed, k6 exits 99 when a threshold failed: under load,
errors are what a breaking point or a regression looks like, so throwing the run away would
drop exactly the numbers (``error_rate``, ``failures``) that matter. A duration-mode run of
a load tool that exited non-zero, lasted its duration and whose output reports failed
requests (or failed thresholds) is kept, with the errors marked in ``Run.load_errors``.
A load tool that exits non-zero without reporting errors is still a failed run.
"""

from __future__ import annotations

from collections.abc import Sequence

from perfinvest.core.models import Metric

#: Formats written by load generators (``formats/registry.py`` names).
LOAD_TOOL_FORMATS = frozenset({"locust-csv", "k6-summary", "wrk"})
#: Their metrics that count failed requests (any scenario).
ERROR_METRICS = ("error_rate", "failures", "http_req_failed", "non_2xx_3xx", "failed_thresholds")


def failed_requests(
    exit_code: int | None, fmt: str | None, metrics: Sequence[Metric]
) -> str | None:
    """The note for a load tool's non-zero exit explained by the errors it reported, or None."""
    if exit_code is None or exit_code <= 0 or fmt not in LOAD_TOOL_FORMATS:
        return None
    seen: dict[str, float] = {}
    for metric in metrics:
        if metric.scenario is None and metric.name in ERROR_METRICS and metric.value > 0:
            seen.setdefault(metric.name, metric.value)
    if not seen:
        for metric in metrics:  # no aggregate row: the first scenario's, for the note
            if metric.name in ERROR_METRICS and metric.value > 0:
                seen.setdefault(metric.name, metric.value)
    if not seen:
        return None
    shown = ", ".join(f"{name} {seen[name]:.4g}" for name in ERROR_METRICS if name in seen)
    return (
        f"{fmt} exited with code {exit_code} because requests failed ({shown}): kept as a "
        "measurement, the errors are in its metrics"
    )
