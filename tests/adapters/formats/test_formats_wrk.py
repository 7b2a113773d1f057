"""wrk --latency text: units converted, errors counted, URL as scenario."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from perfinvest.adapters.formats import wrk
from perfinvest.adapters.formats.base import FormatError


def _values(text: str) -> dict[str, float]:
    result = wrk.parse(text)
    assert len(result.scenarios) == 1
    return {metric.name: metric.value for metric in result.metrics}


def test_real_report(fixture_text: Callable[[str], str]) -> None:
    text = fixture_text("wrk.txt")
    result = wrk.parse(text)
    (scenario,) = result.scenarios
    assert scenario is not None and scenario.startswith("http://127.0.0.1:")
    values = _values(text)
    assert values["mean_ms"] == pytest.approx(0.90)
    assert values["max_ms"] == pytest.approx(12.09)
    assert values["p50_ms"] == pytest.approx(0.638)  # "638.00us"
    assert values["p99_ms"] == pytest.approx(4.96)
    assert values["throughput_rps"] == pytest.approx(5177.67)
    assert values["transfer_bytes_per_s"] == pytest.approx(707.88 * 1024)
    assert values["read_bytes"] == pytest.approx(1.39 * 1024**2)
    assert values["requests"] == 10381
    assert values["errors"] == 0 and values["error_rate"] == 0
    rps = result.get("throughput_rps", scenario)
    assert rps is not None and (rps.unit, rps.direction) == ("rps", "higher")


def test_real_report_with_errors(fixture_text: Callable[[str], str]) -> None:
    values = _values(fixture_text("wrk_errors.txt"))
    assert values["errors_non_2xx_3xx"] == 43
    assert (values["errors_connect"], values["errors_read"]) == (0, 34)
    assert (values["errors_write"], values["errors_timeout"]) == (0, 6)
    assert values["errors"] == 83
    assert values["error_rate"] == pytest.approx(83 / (303 + 40))


_SYNTHETIC = """\
Running 1m test @ http://localhost:8080/x
  4 threads and 100 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.50s   250.00us    2.00m   -nan%
    Req/Sec     1.20k     0.10k    2.00M    70.00%
  Latency Distribution
     50%    1.00s
     99.900%    1.00h
  10 requests in 1.00m, 512.00B read
Requests/sec:      0.17
Transfer/sec:       8.53B
"""


def test_every_unit_suffix() -> None:
    values = _values(_SYNTHETIC)
    assert values["mean_ms"] == 1500
    assert values["stddev_ms"] == pytest.approx(0.25)
    assert values["max_ms"] == 120_000
    assert values["p50_ms"] == 1000
    assert values["p99_9_ms"] == 3_600_000
    assert values["duration_s"] == 60
    assert values["read_bytes"] == 512


def test_two_runs_of_one_url_become_samples() -> None:
    result = wrk.parse(_SYNTHETIC + _SYNTHETIC.replace("0.17", "0.19"))
    rps = result.get("throughput_rps", "http://localhost:8080/x")
    assert rps is not None
    assert rps.samples == (0.17, 0.19) and rps.value == pytest.approx(0.18)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "unable to connect to 127.0.0.1:1 Connection refused\n",
            'wrk: expected a "Requests/sec:" line',
        ),
        (
            "Running 1s test @ http://x/\nRequests/sec:   lots\n",
            'wrk: line 2: expected wrk\'s "Requests/sec:" line',
        ),
        (
            "Requests/sec: 1\nTransfer/sec: 3 parsecs\n",
            'wrk: line 2: expected wrk\'s "Transfer/sec:" line',
        ),
        (
            "Requests/sec: 1\n  Socket errors: connect 1\n",
            'line 2: expected wrk\'s "Socket errors:" line',
        ),
        ("Requests/sec: " + "9" * 400 + "\n", "expected a number"),
    ],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(FormatError) as info:
        wrk.parse(text)
    assert message in info.value.message
