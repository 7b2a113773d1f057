"""The shape of an OpenMetrics family and the names every exported family shares.

Pure data, one module that :mod:`~perfinvest.core.export.openmetrics`,
:mod:`~perfinvest.core.export.openmetrics_phases` and :mod:`~perfinvest.core.export.grafana`
import: the ``perfinvest`` prefix of every family name, a family with its samples, and how
a boolean label is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

PREFIX = "perfinvest"


@dataclass(frozen=True)
class Sample:
    name: str  # the sample's full name (``_total``, ``_count``, ``_info`` included)
    labels: dict[str, str]
    value: float
    timestamp: float | None  # Unix seconds


@dataclass
class Family:
    name: str  # the family's name, without the type's sample suffix
    type: str  # gauge, counter, summary, info
    help: str
    unit: str = ""
    samples: list[Sample] = field(default_factory=list)

    def add(self, suffix: str, labels: Mapping[str, str], value: float, at: datetime) -> None:
        self.samples.append(Sample(self.name + suffix, dict(labels), value, at.timestamp()))


def flag(value: bool) -> str:
    """A boolean label value: ``true`` or ``false``."""
    return "true" if value else "false"
