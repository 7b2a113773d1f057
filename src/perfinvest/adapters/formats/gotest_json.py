"""``go test -json`` output (test2json events): the benchmark results inside it.

Each line is an event ``{"Time", "Action", "Package", "Test", "Output", "Elapsed"}``. The
text go would have printed is the ``Output`` of the ``output`` events, in order, per
package (go interleaves packages' events when it runs them in parallel; a benchmark's name
and its result arrive as separate events, so the pieces are joined before reading).
That text is read by the ``go test -bench`` parser, so metric names, scenarios and
samples are exactly those of :mod:`~perfinvest.adapters.formats.gobench`. A package whose
``fail`` event came without any result is an error naming it.
"""

from __future__ import annotations

import json

from perfinvest.adapters.formats import gobench
from perfinvest.adapters.formats._helpers import excerpt, iter_lines
from perfinvest.adapters.formats.base import FormatError, ParseResult

NAME = "go-test-json"


def sniff(doc: dict[str, object]) -> bool:
    """A test2json event: an ``Action`` string with a ``Package`` or ``Time``."""
    return isinstance(doc.get("Action"), str) and ("Package" in doc or "Time" in doc)


def output_text(text: str) -> str:
    """The plain ``go test`` output carried by the events, package after package."""
    outputs, _failed = _read(text)
    return "".join("".join(parts) for parts in outputs.values())


def _read(text: str) -> tuple[dict[str, list[str]], list[str]]:
    outputs: dict[str, list[str]] = {}
    failed: list[str] = []
    events = 0
    for number, line in iter_lines(text):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("{"):
            continue  # go's own build output ("# pkg", compiler errors) is not an event
        try:
            event = json.loads(stripped)
        except (ValueError, RecursionError):
            raise FormatError(
                NAME, f"expected a test2json event, got {excerpt(stripped)}", line=number
            ) from None
        if not isinstance(event, dict) or not isinstance(event.get("Action"), str):
            raise FormatError(NAME, 'expected an event with an "Action"', line=number)
        events += 1
        package = event.get("Package")
        key = package if isinstance(package, str) else ""
        action = event["Action"]
        if action == "output" and isinstance(event.get("Output"), str):
            outputs.setdefault(key, []).append(event["Output"])
        elif action == "fail" and event.get("Test") is None:
            failed.append(key or "(no package)")
    if not events:
        raise FormatError(NAME, "no test2json events found (was go test run with -json?)")
    return outputs, failed


def parse(text: str) -> ParseResult:
    """The benchmark results of every package in the event stream."""
    outputs, failed = _read(text)
    plain = "".join("".join(parts) for parts in outputs.values())
    if not gobench.sniff(plain):
        what = f"package {', '.join(failed)} failed" if failed else "no benchmark results"
        raise FormatError(NAME, f"{what}: expected Benchmark result lines in the events' Output")
    try:
        result = gobench.parse(plain)
    except FormatError as error:
        raise FormatError(NAME, error.detail) from None
    return ParseResult(NAME, result.metrics, result.failed_thresholds)
