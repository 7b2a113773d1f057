"""Families (core/export/openmetrics.py) as OpenMetrics or Prometheus text, and a Pushgateway push.

``prometheus_client`` writes the text (imported lazily: the CLI's start-up stays small):
its writers are the reference its own parser reads, so escaping, ``# UNIT``, the ``_info``
and ``_total`` samples and the closing ``# EOF`` are right by construction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Literal

from perfinvest.core.errors import environment_error, usage_error
from perfinvest.core.export.families import Family
from perfinvest.core.export.openmetrics import without_timestamps

TextFormat = Literal["openmetrics", "prometheus"]
CONTENT_TYPES = {
    "openmetrics": "application/openmetrics-text; version=1.0.0; charset=utf-8",
    "prometheus": "text/plain; version=0.0.4; charset=utf-8",
}
PUSH_JOB = "perfinvest"
PUSH_TIMEOUT_S = 10.0


class _Collector:
    """A custom collector that yields fixed families (no process or platform metrics)."""

    def __init__(self, families: Iterable[Family]) -> None:
        self._families = list(families)

    def collect(self) -> Iterator[Any]:
        from prometheus_client.metrics_core import Metric

        for family in self._families:
            metric = Metric(family.name, family.help, family.type, family.unit)
            for s in family.samples:
                metric.add_sample(s.name, s.labels, s.value, s.timestamp)
            yield metric


def _registry(families: Iterable[Family]) -> Any:
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(families))
    return registry


def render(families: Iterable[Family], fmt: TextFormat = "openmetrics") -> str:
    """The exposition text; OpenMetrics ends with ``# EOF``."""
    registry = _registry(families)
    if fmt == "openmetrics":
        from prometheus_client.openmetrics.exposition import generate_latest as om_latest

        return bytes(om_latest(registry)).decode("utf-8")  # type: ignore[no-untyped-call]
    from prometheus_client.exposition import generate_latest

    return bytes(generate_latest(registry)).decode("utf-8")


def _group(family: Family, investigation: str, version: str) -> Family:
    samples = [
        s
        for s in family.samples
        if s.labels.get("investigation", investigation) == investigation
        and s.labels.get("version", version) == version
    ]
    return Family(family.name, family.type, family.help, family.unit, samples)


def push(url: str, families: list[Family], groups: list[tuple[str, str]]) -> list[str]:
    """Push each (investigation, version) group to the Pushgateway at ``url`` (PUT: a
    group's earlier push is replaced); returns the group URLs. Timestamps are dropped (a
    Pushgateway refuses them); ``perfinvest_run_timestamp_seconds`` keeps the time."""
    from urllib.parse import urlsplit

    from prometheus_client import push_to_gateway

    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise usage_error(f"--push {url!r} is not an http(s) URL (e.g. http://127.0.0.1:9091)")
    plain = without_timestamps(families)
    pushed = []
    for investigation, version in groups:
        subset = [g for f in plain if (g := _group(f, investigation, version)).samples]
        try:
            push_to_gateway(
                url,
                job=PUSH_JOB,
                registry=_registry(subset),
                grouping_key={"investigation": investigation, "version": version},
                timeout=PUSH_TIMEOUT_S,
            )
        except OSError as exc:  # URLError, HTTPError, connection refused, timeout
            reason = _reason(exc)
            raise environment_error(f"cannot push to the Pushgateway at {url}: {reason}") from None
        pushed.append(
            f"{url.rstrip('/')}/metrics/job/{PUSH_JOB}/investigation/{investigation}"
            f"/version/{version}"
        )
    return pushed


def _reason(exc: OSError) -> str:
    """One line: the gateway's own answer for an HTTP error, else the connection's reason."""
    from urllib.error import HTTPError

    if isinstance(exc, HTTPError):
        body = exc.read().decode("utf-8", errors="replace").strip().splitlines()
        return f"HTTP {exc.code} {exc.reason}" + (f": {body[0][:300]}" if body else "")
    reason = getattr(exc, "reason", None) or exc.strerror or exc
    return str(reason)
