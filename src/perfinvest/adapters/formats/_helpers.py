"""Shared, defensive building blocks for the parsers (private to this package).

Every helper here turns bad input into :class:`FormatError` and never lets ``ValueError``,
``OverflowError``, ``RecursionError`` or a ``KeyError`` escape: parsers are fed whatever a
benchmark printed, and the contract is that they fail with a clear message, never a
traceback.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator

from perfinvest.adapters.formats.base import Direction, FormatError, ParsedMetric

_NUMBER_RE = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?", re.ASCII)
_EXCERPT = 40
_JSON_START = re.compile(r"^[ \t]*{", re.MULTILINE)

#: Seconds per unit, for the time units the formats use.
TIME_UNITS: dict[str, float] = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def describe(value: object) -> str:
    """A short, one-line description of a JSON value for ``got ...`` messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        text = repr(value)
        return text if len(text) <= _EXCERPT else text[:_EXCERPT] + "…"
    if isinstance(value, str):
        return excerpt(value)
    if isinstance(value, dict):
        if not value:
            return "an empty object"
        keys = ", ".join(excerpt(str(key)) for key in list(value)[:3])
        return f"an object with keys {keys}" + (", …" if len(value) > 3 else "")
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def excerpt(text: str) -> str:
    """A quoted, shortened piece of input text, safe to put on one line."""
    if not text.strip():
        return "an empty string" if not text else "blank text"
    short = text if len(text) <= _EXCERPT else text[:_EXCERPT] + "…"
    return json.dumps(short, ensure_ascii=True)


def parse_number(token: str) -> float | None:
    """A finite float from a plain decimal token, or ``None``.

    Stricter than ``float()``, which also takes ``nan``, ``inf`` and ``1_000``: none of
    those is a measurement.
    """
    if _NUMBER_RE.fullmatch(token) is None:
        return None
    try:
        value = float(token)
    except (ValueError, OverflowError):  # pragma: no cover - the regex admits floats only
        return None
    return value if math.isfinite(value) else None


def to_float(token: str, fmt: str, *, line: int | None) -> float:
    """``token`` as a finite float, or a :class:`FormatError` naming the line."""
    value = parse_number(token)
    if value is None:
        raise FormatError(fmt, f"expected a number, got {excerpt(token)}", line=line)
    return value


def mean(values: Iterable[float]) -> float:
    """Arithmetic mean that stays finite: ``math.fsum`` avoids overflow on big sums."""
    items = list(values)
    try:
        return math.fsum(items) / len(items)
    except OverflowError:  # the sum of finite values can overflow; the mean cannot
        return math.fsum(value / len(items) for value in items)


def iter_lines(text: str) -> Iterator[tuple[int, str]]:
    """``(1-based line number, line)`` pairs, splitting like the tools print (``\\n``)."""
    for number, line in enumerate(text.split("\n"), start=1):
        yield number, line.rstrip("\r")


def load_json(text: str, fmt: str) -> tuple[object, int]:
    """Decode the first JSON document in ``text`` and the line it starts on.

    The document may follow other output (``--export-json /dev/stdout`` after a tool's
    human summary), so it starts at the first line beginning with ``{`` (all the
    formats are objects); anything after it is ignored.
    """
    match = _JSON_START.search(text)
    if match is not None:
        start = match.end() - 1
        number = text.count("\n", 0, start) + 1
        try:
            doc, _ = json.JSONDecoder().raw_decode(text, start)
        except json.JSONDecodeError as exc:
            raise FormatError(fmt, f"invalid JSON: {exc.msg}", line=exc.lineno) from None
        except (ValueError, RecursionError) as exc:
            raise FormatError(fmt, f"invalid JSON: {exc}", line=number) from None
        return doc, number
    first = next(((n, line) for n, line in iter_lines(text) if line.strip()), None)
    if first is None:
        raise FormatError(fmt, "expected a JSON object, got empty output")
    raise FormatError(
        fmt, f"expected a JSON object, got {excerpt(first[1].strip())}", line=first[0]
    )


def try_json_object(text: str) -> dict[str, object] | None:
    """The JSON object in ``text``, or ``None``: for detection, which must never raise."""
    try:
        doc, _ = load_json(text, "detect")
    except FormatError:
        return None
    return doc if isinstance(doc, dict) else None


class JsonReader:
    """Typed access to a decoded JSON document, failing with a path and the start line.

    JSON decoders do not keep positions, so errors name the JSON path
    (``results[0].mean``) plus the line the document starts on.
    """

    def __init__(self, fmt: str, line: int | None) -> None:
        self.fmt = fmt
        self.line = line

    def fail(self, where: str, expected: str, value: object) -> FormatError:
        """The error for ``where`` holding ``value`` instead of ``expected``."""
        prefix = f"{where}: " if where else ""
        return FormatError(
            self.fmt, f"{prefix}expected {expected}, got {describe(value)}", line=self.line
        )

    def obj(self, value: object, where: str, expected: str = "a JSON object") -> dict[str, object]:
        if not isinstance(value, dict):
            raise self.fail(where, expected, value)
        return value

    def arr(self, value: object, where: str) -> list[object]:
        if not isinstance(value, list):
            raise self.fail(where, "a list", value)
        return value

    def text(self, value: object, where: str) -> str:
        if not isinstance(value, str):
            raise self.fail(where, "a string", value)
        return value

    def num(self, value: object, where: str) -> float:
        """A finite number; booleans, strings, NaN and overflowing integers are refused."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(where, "a number", value)
        try:
            result = float(value)
        except OverflowError:
            raise self.fail(where, "a finite number", value) from None
        if not math.isfinite(result):
            raise self.fail(where, "a finite number", value)
        return result

    def opt_num(self, obj: dict[str, object], key: str, where: str) -> float | None:
        """``obj[key]`` as a number, or ``None`` when it is absent or ``null``."""
        value = obj.get(key)
        return None if value is None else self.num(value, f"{where}.{key}")

    def nums(self, value: object, where: str) -> tuple[float, ...]:
        items = self.arr(value, where)
        return tuple(self.num(item, f"{where}[{index}]") for index, item in enumerate(items))


_SNAKE_SPLIT = re.compile(r"[^0-9A-Za-z]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def snake(name: str) -> str:
    """A snake_case name: ``http_req_duration{status:200}`` → ``http_req_duration_status_200``."""
    spaced = _CAMEL.sub("_", name)
    return "_".join(part for part in _SNAKE_SPLIT.split(spaced) if part).lower()


def stat_name(stat: str) -> str:
    """Normalise a statistic's label: ``avg`` → ``mean``, ``p(99.9)`` / ``99.9%`` → ``p99_9``."""
    label = stat.strip().lower()
    aliases = {"avg": "mean", "average": "mean", "med": "median", "stdev": "stddev"}
    if label in aliases:
        return aliases[label]
    match = re.fullmatch(r"p\((\d+(?:\.\d+)?)\)|(\d+(?:\.\d+)?)%", label)
    if match:
        number = match.group(1) or match.group(2)
        return (
            "p" + number.rstrip("0").rstrip(".").replace(".", "_")
            if "." in number
            else "p" + number
        )
    return snake(label)


class Accumulator:
    """Collects readings per ``(scenario, name)``; repeats become samples, the value their mean.

    Text formats report a measurement once per line (``go test -count``, repeated
    ``PERF_METRICS`` lines): repeats are samples of the same metric, not rivals.
    """

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self._values: dict[tuple[str | None, str], list[float]] = {}
        self._meta: dict[tuple[str | None, str], tuple[str, Direction | None]] = {}

    def add(
        self,
        scenario: str | None,
        name: str,
        value: float,
        unit: str,
        direction: Direction | None,
        *,
        line: int | None = None,
    ) -> None:
        """Record one reading; a second reading with another unit is an error, not a merge."""
        key = (scenario, name)
        if key in self._meta:
            known_unit, known_direction = self._meta[key]
            if known_unit != unit:
                where = f" in scenario {excerpt(scenario)}" if scenario is not None else ""
                raise FormatError(
                    self.fmt,
                    f"metric {excerpt(name)}{where}: expected unit {excerpt(known_unit)} as "
                    f"before, got {excerpt(unit)}",
                    line=line,
                )
            if known_direction is None and direction is not None:
                self._meta[key] = (unit, direction)
        else:
            self._meta[key] = (unit, direction)
        self._values.setdefault(key, []).append(value)

    def metrics(self) -> list[ParsedMetric]:
        """One metric per ``(scenario, name)``, in order of first reading."""
        result: list[ParsedMetric] = []
        for (scenario, name), values in self._values.items():
            unit, direction = self._meta[(scenario, name)]
            samples = tuple(values) if len(values) > 1 else ()
            result.append(ParsedMetric(name, mean(values), unit, direction, samples, scenario))
        return result


_LOWER_WORDS = frozenset(
    {"latency", "duration", "time", "elapsed", "error", "errors", "failures", "failed"}
)
_HIGHER_WORDS = frozenset({"throughput", "rps", "qps", "ops", "bandwidth"})


def direction_from_name(name: str) -> Direction | None:
    """An obvious direction from the words of a name: latency/errors lower, throughput higher."""
    words = set(snake(name).split("_"))
    if words & _LOWER_WORDS:
        return "lower"
    if words & _HIGHER_WORDS:
        return "higher"
    return None
