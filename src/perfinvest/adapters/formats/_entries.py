"""The skeleton the JSON reports of hyperfine and pytest-benchmark share (private).

Both are an object holding a list of entries (``results``, ``benchmarks``), one scenario
per entry, named by one of its fields (two entries of the same name are kept apart by
their position), with time statistics in seconds of which only the mean carries the raw
samples.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from perfinvest.adapters.formats._helpers import JsonReader, load_json
from perfinvest.adapters.formats.base import ParsedMetric, ParseResult

Entry = dict[str, object]
#: (reader, entry, where, scenario) -> the entry's metrics
EntryMetrics = Callable[[JsonReader, Entry, str, str], list[ParsedMetric]]


def parse_entries(
    text: str,
    name: str,
    key: str,
    empty: str,
    scenario_field: Callable[[Entry], str],
    entry_metrics: EntryMetrics,
) -> ParseResult:
    """Read ``{key: [entry, ...]}`` (or stdout that ends with it) into one result.

    ``empty`` is what the message wants when the list is empty; ``scenario_field`` names
    the field an entry's scenario is read from."""
    doc, line = load_json(text, name)
    read = JsonReader(name, line)
    wanted = f'a JSON object with "{key}"'
    top = read.obj(doc, "", wanted)
    if key not in top:
        raise read.fail("", wanted, top)
    entries = read.arr(top[key], key)
    if not entries:
        raise read.fail(key, empty, entries)
    metrics: list[ParsedMetric] = []
    seen: set[str] = set()
    for index, raw in enumerate(entries):
        where = f"{key}[{index}]"
        entry = read.obj(raw, where)
        field = scenario_field(entry)
        scenario = read.text(entry.get(field), f"{where}.{field}")
        if scenario in seen:
            # Two identical names would merge silently: keep them apart by position.
            scenario = f"{scenario} #{index + 1}"
        seen.add(scenario)
        metrics.extend(entry_metrics(read, entry, where, scenario))
    return ParseResult(name, tuple(metrics))


def time_stats(
    read: JsonReader,
    stats: Entry,
    where: str,
    names: Sequence[str],
    samples: tuple[float, ...],
    scenario: str,
) -> list[ParsedMetric]:
    """``<stat>_s`` for each of ``names`` present (``mean`` is required and is the one
    that carries ``samples``)."""
    metrics: list[ParsedMetric] = []
    for stat in names:
        value = read.opt_num(stats, stat, where)  # hyperfine's stddev is null for one run
        if value is None:
            if stat == "mean":
                raise read.fail(f"{where}.mean", "a number", stats.get("mean"))
            continue
        own = samples if stat == "mean" else ()
        metrics.append(ParsedMetric(f"{stat}_s", value, "s", "lower", own, scenario))
    return metrics
