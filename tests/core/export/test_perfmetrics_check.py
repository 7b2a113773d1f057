"""``problems``: what the PerfMetrics schemas refuse, formats and non-finite numbers included."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from perfinvest.core.export.perfmetrics import LIST_SCHEMA, SCHEMA, parse_date_time, problems

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas" / "perf"

DOC: dict[str, Any] = {
    "schema_version": "0.1",
    "timestamp": "2024-05-01T12:00:00Z",
    "scenario": {"name": "checkout"},
    "environment": {"machine": "m", "commit": None, "config_hash": "h"},
    "metrics": [{"name": "latency_ms", "value": 1.5, "unit": "ms", "samples": [1.0, 2.0]}],
}


def _doc(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(DOC)
    doc.update(changes)
    return doc


def test_a_valid_document_has_no_problems() -> None:
    assert problems(_doc()) == []


@pytest.mark.parametrize(
    "stamp",
    ["2024-05-01T12:00:00Z", "2024-05-01t12:00:00.123456789+02:00", "2016-12-31T23:59:60Z"],
)
def test_rfc3339_date_times_pass(stamp: str) -> None:
    assert problems(_doc(timestamp=stamp)) == []
    assert parse_date_time(stamp) is not None


@pytest.mark.parametrize(
    "stamp",
    ["yesterday", "2024-05-01", "2024-13-01T00:00:00Z", "2024-05-01T12:00:00", "1714564800"],
)
def test_a_timestamp_that_is_no_date_time_is_one_line_naming_the_field(stamp: str) -> None:
    found = problems(_doc(timestamp=stamp))
    assert found == [
        f"timestamp: {stamp!r} is not an RFC 3339 date-time (e.g. 2024-05-01T12:00:00Z)"
    ]


def test_the_parsed_date_time_keeps_its_offset() -> None:
    parsed = parse_date_time("2024-05-01T12:00:00.5-01:30")
    assert parsed is not None and parsed.isoformat() == "2024-05-01T12:00:00.500000-01:30"


def test_nan_and_infinity_are_refused_with_their_path() -> None:
    # what json.loads reads from a file holding NaN / Infinity (Python accepts them)
    doc = json.loads(json.dumps(DOC).replace("1.5", "NaN").replace("2.0]", "-Infinity]"))
    assert problems(doc) == [
        "metrics/0/samples/1: -Infinity is not a finite number (JSON has no NaN or Infinity)",
        "metrics/0/value: NaN is not a finite number (JSON has no NaN or Infinity)",
    ]


def test_a_list_is_checked_against_the_list_schema_with_item_paths() -> None:
    good, bad = _doc(), _doc(timestamp="yesterday")
    assert problems([good, good]) == []
    assert problems([good, bad]) == [
        "1/timestamp: 'yesterday' is not an RFC 3339 date-time (e.g. 2024-05-01T12:00:00Z)"
    ]
    assert problems([]) == [
        "(top level): an empty list (a history export holds at least one document)"
    ]


def test_the_published_schemas_are_the_ones_checked() -> None:
    assert json.loads((SCHEMAS / "PerfMetrics.v0.1.json").read_text()) == SCHEMA
    published = json.loads((SCHEMAS / "PerfMetricsList.v0.1.json").read_text())
    assert published == LIST_SCHEMA
    jsonschema.validate([_doc(), _doc()], published)  # any JSON Schema tool reads the list form
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate([_doc(), {"schema_version": "0.1"}], published)
