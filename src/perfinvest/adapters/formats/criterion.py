"""cargo-criterion ``--message-format=json`` messages (JSON lines).

Only ``"reason": "benchmark-complete"`` messages carry results; cargo's own messages,
``group-complete`` and non-JSON lines are skipped. The scenario is the benchmark ``id``.
Estimates become ``<estimate>_<unit>`` (``typical_ns``, ``mean_ns``, ``median_ns``,
``median_abs_dev_ns``, ``slope_ns``); criterion measures a cost, so all are
lower-is-better. The samples are ``measured_values[i] / iteration_count[i]``, the cost of
one iteration in each sample; they are attached once, to ``mean_<unit>`` (criterion's
mean is their mean), and the other estimates are values of their own. A declared
``throughput`` gives ``throughput_<unit>_per_s`` from the typical time. ``change``
(against criterion's own saved baseline) is not reported: perfinvest compares against
its own baselines.
"""

from __future__ import annotations

import json
import math
import re

from perfinvest.adapters.formats._helpers import TIME_UNITS, JsonReader, snake
from perfinvest.adapters.formats.base import FormatError, ParsedMetric, ParseResult

NAME = "cargo-criterion-json"

_ESTIMATES = ("typical", "mean", "median", "median_abs_dev", "slope")
_COMPLETE = re.compile(r'"reason"\s*:\s*"benchmark-complete"')


def sniff(text: str) -> bool:
    """A JSON line whose ``reason`` is ``benchmark-complete``."""
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped.startswith("{") and _COMPLETE.search(stripped):
            message = _decode(stripped)
            if isinstance(message, dict) and message.get("reason") == "benchmark-complete":
                return True
    return False


def _decode(line: str) -> object:
    try:
        return json.loads(line)
    except (ValueError, RecursionError):
        return None


def parse(text: str) -> ParseResult:
    """Parse every ``benchmark-complete`` message in ``text``."""
    metrics: list[ParsedMetric] = []
    seen: set[str] = set()
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped.startswith("{"):
            continue
        try:
            message = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise FormatError(NAME, f"invalid JSON message: {exc.msg}", line=number) from None
        except (ValueError, RecursionError) as exc:
            raise FormatError(NAME, f"invalid JSON message: {exc}", line=number) from None
        if not isinstance(message, dict) or message.get("reason") != "benchmark-complete":
            continue
        read = JsonReader(NAME, number)
        scenario = read.text(message.get("id"), "id")
        if scenario in seen:  # the same id twice: keep both, apart, rather than merge
            scenario = f"{scenario} #{len(seen) + 1}"
        seen.add(scenario)
        metrics.extend(_benchmark(read, message, scenario))
    if not metrics:
        raise FormatError(NAME, 'expected JSON lines with "reason": "benchmark-complete"')
    return ParseResult(NAME, tuple(metrics))


def _benchmark(read: JsonReader, message: dict[str, object], scenario: str) -> list[ParsedMetric]:
    samples, sample_unit = _samples(read, message)
    metrics: list[ParsedMetric] = []
    typical: tuple[float, str] | None = None
    for estimate in _ESTIMATES:
        raw = message.get(estimate)
        if raw is None:  # slope is null when criterion used flat sampling
            if estimate == "typical":
                raise read.fail("typical", "an estimate object", raw)
            continue
        details = read.obj(raw, estimate)
        value = read.num(details.get("estimate"), f"{estimate}.estimate")
        unit = read.text(details.get("unit", sample_unit), f"{estimate}.unit")
        suffix = f"_{snake(unit)}" if snake(unit) else ""
        own = samples if estimate == "mean" and unit == sample_unit else ()
        metrics.append(ParsedMetric(f"{estimate}{suffix}", value, unit, "lower", own, scenario))
        if estimate == "typical":
            typical = (value, unit)
    if typical is not None and message.get("throughput") is not None:
        metrics.extend(_throughput(read, message["throughput"], typical, scenario))
    return metrics


def _samples(read: JsonReader, message: dict[str, object]) -> tuple[tuple[float, ...], str]:
    unit = read.text(message.get("unit", "ns"), "unit")
    if message.get("measured_values") is None:
        return (), unit
    measured = read.nums(message["measured_values"], "measured_values")
    counts = read.nums(message.get("iteration_count"), "iteration_count")
    if len(counts) != len(measured):
        raise read.fail(
            "iteration_count", f"{len(measured)} counts, one per measured value", counts
        )
    if any(count < 1 for count in counts):
        raise read.fail("iteration_count", "counts of at least 1", counts)
    per_iteration = tuple(value / count for value, count in zip(measured, counts, strict=True))
    return per_iteration, unit


def _throughput(
    read: JsonReader, raw: object, typical: tuple[float, str], scenario: str
) -> list[ParsedMetric]:
    value, unit = typical
    if unit not in TIME_UNITS or value <= 0:
        return []  # a rate needs a time per iteration
    seconds = value * TIME_UNITS[unit]
    metrics: list[ParsedMetric] = []
    for index, entry in enumerate(read.arr(raw, "throughput")):
        item = read.obj(entry, f"throughput[{index}]")
        amount = read.num(item.get("per_iteration"), f"throughput[{index}].per_iteration")
        what = read.text(item.get("unit"), f"throughput[{index}].unit")
        rate = amount / seconds
        if math.isfinite(rate):
            name = f"throughput_{snake(what) or 'items'}_per_s"
            metrics.append(ParsedMetric(name, rate, f"{what}/s", "higher", (), scenario))
    return metrics
