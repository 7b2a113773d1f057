"""hyperfine ``--export-json`` results: one metric set per command.

Each command is a scenario (hyperfine's ``command`` field, which is the
``--command-name`` when one was given). Times are in seconds, as hyperfine writes them;
the per-run ``times`` are the raw samples of the measured quantity (the time of one
run). They are attached once, to ``mean_s`` (their mean): ``median_s``, ``min_s``,
``max_s`` and ``stddev_s`` are hyperfine's own statistics, values of their own that are
compared as such, never as a copy of the samples (which would show the sample mean as
``max_s`` and multiply the stored samples).
"""

from __future__ import annotations

from perfinvest.adapters.formats._entries import parse_entries, time_stats
from perfinvest.adapters.formats._helpers import JsonReader, mean
from perfinvest.adapters.formats.base import ParsedMetric, ParseResult

NAME = "hyperfine-json"

_TIME_STATS = ("mean", "stddev", "median", "min", "max")


def sniff(doc: dict[str, object]) -> bool:
    """A ``results`` list whose entries have hyperfine's ``command`` and ``mean``."""
    results = doc.get("results")
    return (
        isinstance(results, list)
        and bool(results)
        and all(isinstance(item, dict) and "command" in item and "mean" in item for item in results)
    )


def parse(text: str) -> ParseResult:
    """Parse hyperfine's exported JSON (or stdout that ends with it)."""
    return parse_entries(
        text,
        NAME,
        "results",
        "at least one benchmarked command",
        lambda _: "command",
        _command_metrics,
    )


def _command_metrics(
    read: JsonReader, result: dict[str, object], where: str, command: str
) -> list[ParsedMetric]:
    times = read.nums(result["times"], f"{where}.times") if "times" in result else ()
    metrics = time_stats(read, result, where, _TIME_STATS, times, command)
    for stat in ("user", "system"):
        value = read.opt_num(result, stat, where)
        if value is not None:
            metrics.append(ParsedMetric(f"{stat}_s", value, "s", "lower", (), command))
    if times:
        metrics.append(ParsedMetric("runs", float(len(times)), "", None, (), command))
    if "exit_codes" in result:
        codes = read.arr(result["exit_codes"], f"{where}.exit_codes")
        # ``null`` is a run killed by a signal: a failure as much as a non-zero code.
        failed = sum(1 for code in codes if code != 0 or isinstance(code, bool))
        metrics.append(ParsedMetric("failed_runs", float(failed), "", "lower", (), command))
    if "memory_usage_byte" in result:  # hyperfine >= 1.19: peak RSS per run
        memory = read.nums(result["memory_usage_byte"], f"{where}.memory_usage_byte")
        if memory:
            metrics.append(
                ParsedMetric("max_rss_bytes", mean(memory), "bytes", "lower", memory, command)
            )
    return metrics
