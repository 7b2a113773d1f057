"""Metric formats: read what a benchmark printed into :class:`ParseResult`.

One module per format; :mod:`~perfinvest.adapters.formats.registry` knows them all,
detects which one a text is in and documents the metric names.
"""

from perfinvest.adapters.formats.base import FormatError, ParsedMetric, ParseResult
from perfinvest.adapters.formats.registry import ALIASES, FORMATS, detect, parse

__all__ = ["ALIASES", "FORMATS", "FormatError", "ParseResult", "ParsedMetric", "detect", "parse"]
