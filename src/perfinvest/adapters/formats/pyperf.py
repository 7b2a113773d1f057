"""pyperf JSON: benchmark suites (``-o`` files) and a lone benchmark object.

Accepted shapes: the suite ``{"benchmarks": [...], "metadata": {...}}`` pyperf writes,
a single benchmark ``{"runs": [...], "metadata": {...}}`` at the top level, and the old
``{"benchmark": {...}}`` wrapper. pyperf hoists metadata shared by all benchmarks (often
``name`` and ``unit`` of a one-benchmark suite) to the top level, so a benchmark's
metadata is the top-level metadata overlaid with its own. Each run's ``values`` (already
per loop) are the samples; calibration runs hold only ``warmups`` and are skipped, as are
warmups. Statistics are computed here, as pyperf does, since the file stores none. The
samples are attached once, to the mean (``mean_s``); median, min, max and stddev are
statistics of their own, compared as values.
"""

from __future__ import annotations

import math
import statistics

from perfinvest.adapters.formats._helpers import JsonReader, load_json, mean, snake
from perfinvest.adapters.formats.base import Direction, FormatError, ParsedMetric, ParseResult

NAME = "pyperf-json"

#: pyperf's units and how perfinvest writes them: (unit, name suffix, direction).
_UNITS: dict[str, tuple[str, str, Direction | None]] = {
    "second": ("s", "_s", "lower"),
    "byte": ("bytes", "_bytes", "lower"),
    "integer": ("", "", None),
}


def sniff(doc: dict[str, object]) -> bool:
    """Suites have ``benchmarks`` entries with ``runs``; a lone benchmark has ``runs``."""
    benchmarks = doc.get("benchmarks")
    if isinstance(benchmarks, list) and benchmarks:
        return all(isinstance(item, dict) and "runs" in item for item in benchmarks)
    single = doc.get("benchmark")
    if isinstance(single, dict):
        return isinstance(single.get("runs"), list)
    return isinstance(doc.get("runs"), list)


def parse(text: str) -> ParseResult:
    """Parse any of the accepted shapes into one metric set per benchmark."""
    doc, line = load_json(text, NAME)
    read = JsonReader(NAME, line)
    expected = 'a pyperf JSON object with "benchmarks" or "runs"'
    top = read.obj(doc, "", expected)
    common: dict[str, object] = {}
    if isinstance(top.get("metadata"), dict):
        common = read.obj(top["metadata"], "metadata")
    if "benchmarks" in top:
        raw_benchmarks = read.arr(top["benchmarks"], "benchmarks")
        entries = [(f"benchmarks[{i}]", item) for i, item in enumerate(raw_benchmarks)]
    elif "benchmark" in top:
        entries = [("benchmark", top["benchmark"])]
    elif "runs" in top:
        entries = [("", top)]
    else:
        raise read.fail("", expected, top)
    if not entries:
        raise read.fail("benchmarks", "at least one benchmark", [])
    metrics: list[ParsedMetric] = []
    seen: set[str] = set()
    for index, (where, raw) in enumerate(entries):
        bench = read.obj(raw, where or "benchmark")
        own = bench.get("metadata")
        metadata = {**common, **(read.obj(own, f"{where}.metadata") if own is not None else {})}
        name = metadata.get("name")
        scenario = name if isinstance(name, str) and name else f"benchmark {index + 1}"
        if scenario in seen:
            scenario = f"{scenario} #{index + 1}"
        seen.add(scenario)
        unit = metadata.get("unit", "second")
        metrics.extend(_bench_metrics(read, bench, where, scenario, unit))
    return ParseResult(NAME, tuple(metrics))


def _bench_metrics(
    read: JsonReader, bench: dict[str, object], where: str, scenario: str, raw_unit: object
) -> list[ParsedMetric]:
    prefix = f"{where}." if where else ""
    runs = read.arr(bench.get("runs"), f"{prefix}runs")
    samples: list[float] = []
    for index, raw in enumerate(runs):
        run = read.obj(raw, f"{prefix}runs[{index}]")
        if run.get("values") is not None:
            samples.extend(read.nums(run["values"], f"{prefix}runs[{index}].values"))
    if not samples:
        raise read.fail(f"{prefix}runs", "runs with values (only calibration runs found)", runs)
    unit_text = read.text(raw_unit, f"{prefix}metadata.unit")
    unit, suffix, direction = _UNITS.get(unit_text, (unit_text, f"_{snake(unit_text)}", None))
    if suffix == "_":
        suffix = ""
    values = tuple(samples)
    stats: dict[str, float] = {
        "mean": mean(values),
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
    }
    try:
        if len(values) > 1:
            stats["stddev"] = statistics.stdev(values)
    except (OverflowError, ValueError):
        stats["stddev"] = math.inf
    if not all(math.isfinite(value) for value in stats.values()):
        raise FormatError(NAME, f"{prefix}runs: values too large to summarise", line=read.line)
    return [
        ParsedMetric(
            f"{stat}{suffix}", value, unit, direction, values if stat == "mean" else (), scenario
        )
        for stat, value in stats.items()
    ]
