"""Locust --csv _stats.csv: per-request rows and the Aggregated row."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest

from perfinvest.adapters.formats import locust
from perfinvest.adapters.formats.base import FormatError


def test_real_stats(fixture_text: Callable[[str], str]) -> None:
    text = fixture_text("locust_stats.csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    result = locust.parse(text)
    assert result.format == "locust-csv"
    assert result.scenarios == ("GET /", "GET /missing", None)
    for row in rows:
        scenario = None if row["Name"] == "Aggregated" else f"{row['Type']} {row['Name']}"
        requests = result.get("requests", scenario)
        assert requests is not None and requests.value == float(row["Request Count"])
        rps = result.get("throughput_rps", scenario)
        assert rps is not None and rps.value == float(row["Requests/s"])
        assert (rps.unit, rps.direction) == ("rps", "higher")
        p95 = result.get("p95_ms", scenario)
        assert p95 is not None and p95.value == float(row["95%"])
        mean = result.get("mean_ms", scenario)
        assert mean is not None and mean.value == float(row["Average Response Time"])
        for column in ("99.9%", "99.99%", "100%"):
            name = {"99.9%": "p99_9_ms", "99.99%": "p99_99_ms", "100%": "p100_ms"}[column]
            metric = result.get(name, scenario)
            assert metric is not None and metric.value == float(row[column])
    missing = result.get("error_rate", "GET /missing")
    assert missing is not None and missing.value == 1.0
    total = result.get("error_rate")
    assert total is not None and 0 < total.value < 1


def test_not_available_cells_and_old_headers() -> None:
    text = (
        '"Method","Name","# requests","# failures","Median response time","Requests/s","50%"\n'
        '"GET","/a",0,0,0,0.00,N/A\n'
        '"None","Total",0,0,0,0.00,N/A\n'
    )
    result = locust.parse(text)
    assert result.scenarios == ("GET /a", None)
    assert result.get("p50_ms", "GET /a") is None
    assert result.get("error_rate", "GET /a") is None  # no requests: no rate


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "locust-csv: expected a Locust _stats.csv header, got empty output"),
        (
            "a,b\n1,2\n",
            'locust-csv: line 1: expected a Locust _stats.csv header with "Name" and "Request Count"',
        ),
        (
            "Timestamp,User Count,Type,Name,Requests/s\n",
            "expected the _stats.csv file, got _stats_history.csv",
        ),
        (
            "Type,Name,Request Count\nGET,/,1,2\n",
            "locust-csv: line 2: expected 3 columns like the header, got 4",
        ),
        (
            "Type,Name,Request Count\nGET,/,many\n",
            'line 2: column "Request Count": expected a number, got "many"',
        ),
        ("Type,Name,Request Count\n", "expected at least one stats row"),
        ('Type,Name,Request Count\nGET,"' + "x" * 200_000 + '",1\n', "locust-csv: expected CSV"),
    ],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(FormatError) as info:
        locust.parse(text)
    assert message in info.value.message
