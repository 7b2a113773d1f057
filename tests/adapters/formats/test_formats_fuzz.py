"""No parser raises anything but FormatError, whatever it is fed.

Inputs: arbitrary text, text built from the formats' own vocabulary (so the fuzzer gets
past the first checks), and the real fixtures mutated: truncated, bytes flipped and
decoded as text, lines dropped or repeated, and JSON subtrees replaced by random JSON.
Every successful parse must hold only finite numbers.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perfinvest.adapters.formats import registry
from perfinvest.adapters.formats.base import FormatError, Parser, ParseResult

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "formats"
FIXTURE_TEXTS = {
    path.name: path.read_text()
    for path in sorted(FIXTURES.iterdir())
    if path.suffix in {".json", ".jsonl", ".txt", ".csv"}
}
JSON_FIXTURES = {
    name: json.loads(text) for name, text in FIXTURE_TEXTS.items() if name.endswith(".json")
}

PARSERS = sorted(registry.FORMATS.items())
FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

VOCABULARY = [
    "PERF_METRICS",
    "PERF_METRICS_START",
    "PERF_METRICS_END",
    "scenario=",
    "p95_ms=",
    "=",
    "{",
    "}",
    "[",
    "]",
    '"',
    ":",
    ",",
    "null",
    "true",
    "false",
    "NaN",
    "1e999",
    "-0",
    "1.5",
    "12",
    "9" * 30,
    '"results"',
    '"command"',
    '"mean"',
    '"times"',
    '"benchmarks"',
    '"stats"',
    '"runs"',
    '"values"',
    '"metadata"',
    '"metrics"',
    '"root_group"',
    '"type"',
    '"trend"',
    '"thresholds"',
    '"ok"',
    '"reason"',
    '"benchmark-complete"',
    '"typical"',
    '"estimate"',
    '"unit"',
    '"measured_values"',
    '"iteration_count"',
    '"throughput"',
    '"per_iteration"',
    "Running 1s test @ http://x/",
    "Latency",
    "Requests/sec:",
    "Transfer/sec:",
    "Socket errors:",
    "connect 1, read 2, write 3, timeout 4",
    "Non-2xx or 3xx responses:",
    "requests in",
    "read",
    "us",
    "ms",
    "s",
    "m",
    "h",
    "KB",
    "MB",
    "B",
    "k",
    "%",
    "50%",
    "99.9%",
    "BenchmarkX-8",
    "Benchmark",
    "ns/op",
    "B/op",
    "allocs/op",
    "MB/s",
    "pkg:",
    "1000",
    "Type,Name,Request Count,Failure Count,Requests/s,50%",
    "Aggregated",
    "N/A",
    "GET",
    " ",
    "  ",
    "\t",
    "\n",
    "\r\n",
    "'",
    "\\",
    "\x00",
    "\ufeff",
    "é",
    "±",
]


def check(parser: Parser, text: str) -> None:
    """The contract: a result with finite numbers, or a one-line FormatError."""
    try:
        result = parser(text)
    except FormatError as error:
        assert error.message and "\n" not in error.message
        return
    assert isinstance(result, ParseResult)
    assert result.metrics
    for metric in result.metrics:
        assert math.isfinite(metric.value), metric
        assert all(math.isfinite(sample) for sample in metric.samples), metric
        assert metric.direction in {"lower", "higher", None}


def check_registry(text: str) -> None:
    detected = registry.detect(text)
    assert detected is None or detected in registry.FORMATS
    check(registry.parse, text)


vocabulary_text = st.lists(st.sampled_from(VOCABULARY) | st.text(max_size=5), max_size=60).map(
    "".join
)


@st.composite
def mutated_fixture(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(sorted(FIXTURE_TEXTS.values())))
    mutation = draw(st.sampled_from(["truncate", "flip", "lines", "splice"]))
    if mutation == "truncate":
        return text[: draw(st.integers(0, len(text)))]
    if mutation == "flip":
        data = bytearray(text.encode())
        for _ in range(draw(st.integers(1, 8))):
            position = draw(st.integers(0, len(data) - 1))
            data[position] ^= draw(st.integers(1, 255))
        encoding = draw(st.sampled_from(["utf-8", "latin-1"]))
        return data.decode(encoding, errors="replace")
    lines = text.split("\n")
    if mutation == "lines":
        index = draw(st.integers(0, len(lines) - 1))
        if draw(st.booleans()):
            del lines[index]
        else:
            lines.insert(index, lines[index])
        return "\n".join(lines)
    index = draw(st.integers(0, len(lines)))
    lines.insert(index, draw(vocabulary_text))
    return "\n".join(lines)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def _paths(node: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    paths = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            paths.extend(_paths(child, (*prefix, key)))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            paths.extend(_paths(child, (*prefix, index)))
    return paths


@st.composite
def json_subtree_replaced(draw: st.DrawFn) -> str:
    doc = json.loads(json.dumps(JSON_FIXTURES[draw(st.sampled_from(sorted(JSON_FIXTURES)))]))
    path = draw(st.sampled_from(_paths(doc)))
    replacement = draw(json_values)
    if not path:
        return json.dumps(replacement)
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = replacement
    return json.dumps(doc)


@pytest.mark.parametrize(("name", "parser"), PARSERS)
@FUZZ
@given(text=st.text())
def test_arbitrary_text(name: str, parser: Parser, text: str) -> None:
    check(parser, text)


@pytest.mark.parametrize(("name", "parser"), PARSERS)
@FUZZ
@given(text=vocabulary_text)
def test_format_vocabulary(name: str, parser: Parser, text: str) -> None:
    check(parser, text)


@pytest.mark.parametrize(("name", "parser"), PARSERS)
@FUZZ
@given(text=mutated_fixture())
def test_mutated_fixtures(name: str, parser: Parser, text: str) -> None:
    check(parser, text)


@pytest.mark.parametrize(("name", "parser"), PARSERS)
@FUZZ
@given(text=json_subtree_replaced())
def test_json_subtrees_replaced(name: str, parser: Parser, text: str) -> None:
    check(parser, text)


@FUZZ
@given(text=st.text() | vocabulary_text | mutated_fixture() | json_subtree_replaced())
def test_registry_detect_and_parse(text: str) -> None:
    check_registry(text)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,
        "{" * 100_000,
        '{"results": ' + "[" * 50_000 + "]" * 50_000 + "}",
        '{"results": [{"command": "x", "mean": ' + "9" * 5000 + "}]}",
        '{"results": [{"command": "x", "mean": 1e400}]}',
        "PERF_METRICS_START\n" + "[" * 100_000 + "\nPERF_METRICS_END\n",
        "PERF_METRICS a=" + "9" * 5000 + "\n",
        "BenchmarkX-8 1 " + "9" * 400 + " ns/op\n",
        "Requests/sec: 1\n  Non-2xx or 3xx responses: " + "9" * 400 + "\n",
        "Requests/sec: 1\n  Non-2xx or 3xx responses: "
        + "9" * 308
        + "\n"
        + "  Socket errors: connect "
        + "9" * 308
        + ", read 1, write 1, timeout 1\n",
        '{"reason": "benchmark-complete", "id": "x", "typical": {"estimate": 1e-320, "unit": "s"},'
        ' "throughput": [{"per_iteration": 1e308, "unit": "bytes"}]}',
        '{"runs": [{"values": [1.7e308, 1.7e308, -1.7e308]}]}',
        '{"benchmarks": [{"name": "t", "stats": {"mean": 1, "data": [' + "1," * 2000 + "1]}}]}",
        "Type,Name,Request Count,Failure Count\nGET,/,1e-300,1e300\n",
    ],
)
def test_hostile_inputs(text: str) -> None:
    for _name, parser in PARSERS:
        check(parser, text)
    check_registry(text)
