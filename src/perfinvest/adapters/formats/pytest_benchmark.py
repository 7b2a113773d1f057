"""pytest-benchmark ``--benchmark-json`` output.

One scenario per benchmark, named by its pytest node id (``fullname``, which is
unique, unlike ``name`` across files). Stats are seconds per call; with
``--benchmark-save-data`` the per-round ``data`` (already divided by the iterations)
are the raw samples of the measured quantity (time per call), attached once, to
``mean_s`` (their mean); the other statistics (``median_s``, ``max_s``, ``stddev_s``,
``iqr_s``...) are pytest-benchmark's own values, compared as such. Numeric
``extra_info`` entries are kept as metrics under the user's key, unit read from the
name's suffix.
"""

from __future__ import annotations

from perfinvest.adapters.formats._entries import parse_entries, time_stats
from perfinvest.adapters.formats._helpers import JsonReader
from perfinvest.adapters.formats.base import ParsedMetric, ParseResult
from perfinvest.adapters.formats.perfmetrics import infer_direction, infer_unit

NAME = "pytest-benchmark-json"

_TIME_STATS = ("mean", "median", "min", "max", "stddev", "iqr", "q1", "q3")


def sniff(doc: dict[str, object]) -> bool:
    """A ``benchmarks`` list of entries with ``stats`` (pyperf's have ``runs``)."""
    benchmarks = doc.get("benchmarks")
    if not isinstance(benchmarks, list):
        return False
    if not benchmarks:
        return "machine_info" in doc
    return all(isinstance(item, dict) and "stats" in item for item in benchmarks)


def parse(text: str) -> ParseResult:
    """Parse the JSON report; an empty ``benchmarks`` list is an error, not a result."""
    return parse_entries(
        text,
        NAME,
        "benchmarks",
        "at least one benchmark (did any run?)",
        lambda bench: "fullname" if "fullname" in bench else "name",
        _bench_metrics,
    )


def _bench_metrics(
    read: JsonReader, bench: dict[str, object], where: str, scenario: str
) -> list[ParsedMetric]:
    stats = read.obj(bench.get("stats"), f"{where}.stats")
    where = f"{where}.stats"
    samples = read.nums(stats["data"], f"{where}.data") if stats.get("data") is not None else ()
    metrics = time_stats(read, stats, where, _TIME_STATS, samples, scenario)
    ops = read.opt_num(stats, "ops", where)
    if ops is not None:
        metrics.append(ParsedMetric("ops_per_s", ops, "ops/s", "higher", (), scenario))
    rounds = read.opt_num(stats, "rounds", where)
    if rounds is not None:
        metrics.append(ParsedMetric("rounds", rounds, "", None, (), scenario))
    extra = bench.get("extra_info")
    if isinstance(extra, dict):
        for name, value in extra.items():
            taken = any(metric.name == name for metric in metrics)
            if (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and name
                and not taken
            ):
                number = read.num(value, f"{where}.extra_info.{name}")
                unit = infer_unit(name)
                direction = infer_direction(name, unit)
                metrics.append(ParsedMetric(name, number, unit, direction, (), scenario))
    return metrics
