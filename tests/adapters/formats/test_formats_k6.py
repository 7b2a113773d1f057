"""k6 summaries: --summary-export (true = FAILED) and handleSummary data (ok: false)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from perfinvest.adapters.formats import k6
from perfinvest.adapters.formats.base import FormatError


@pytest.mark.parametrize("name", ["k6_summary_export.json", "k6_handle_summary.json"])
def test_both_real_forms(name: str, fixture_text: Callable[[str], str]) -> None:
    text = fixture_text(name)
    raw = json.loads(text)["metrics"]
    result = k6.parse(text)
    assert result.format == "k6-summary"
    # The same thresholds fail, whichever way round the form encodes them.
    assert set(result.failed_thresholds) == {
        "http_req_duration: avg<0.001",
        "http_req_failed: rate<0.01",
    }

    def stats(metric: str) -> dict[str, float]:
        entry: dict[str, float] = raw[metric].get("values", raw[metric])
        return entry

    p95 = result.get("http_req_duration_p95_ms")
    assert p95 is not None
    assert (p95.value, p95.unit, p95.direction) == (
        stats("http_req_duration")["p(95)"],
        "ms",
        "lower",
    )
    mean = result.get("http_req_duration_mean_ms")
    assert mean is not None and mean.value == stats("http_req_duration")["avg"]
    median = result.get("http_req_duration_median_ms")
    assert median is not None and median.value == stats("http_req_duration")["med"]
    p999 = result.get("http_req_duration_p99_9_ms")
    assert p999 is not None and p999.value == stats("http_req_duration")["p(99.9)"]
    checkout = result.get("http_req_duration_p95_ms", "checkout")
    assert checkout is not None
    assert checkout.value == stats("http_req_duration{scenario:checkout}")["p(95)"]
    tagged = result.get("http_req_duration_expected_response_true_p95_ms")
    assert tagged is not None and tagged.unit == "ms"
    rate = result.get("http_reqs_rate")
    assert rate is not None and (rate.value, rate.unit, rate.direction) == (
        stats("http_reqs")["rate"],
        "/s",
        "higher",
    )
    failed = result.get("http_req_failed")
    assert failed is not None and failed.direction == "lower"
    assert failed.value == pytest.approx(1 / 3, abs=0.05)  # /missing is one request in three
    checks = result.get("checks")
    assert checks is not None and checks.direction == "higher"
    received = result.get("data_received_rate")
    assert received is not None and received.unit == "bytes/s"
    vus = result.get("vus")
    assert vus is not None and vus.value == 3
    # vus_max is a k6 metric of its own: the max of the vus gauge does not take its name.
    vus_max = result.get("vus_max")
    assert vus_max is not None and vus_max.value == stats("vus_max")["value"]
    assert len({(m.scenario, m.name) for m in result.metrics}) == len(result.metrics)


def test_handle_summary_run_duration(fixture_text: Callable[[str], str]) -> None:
    text = fixture_text("k6_handle_summary.json")
    result = k6.parse(text)
    duration = result.get("test_run_duration_ms")
    assert duration is not None
    assert duration.value == json.loads(text)["state"]["testRunDurationMs"]


def test_threshold_polarity_is_not_confused() -> None:
    export = {"root_group": {}, "metrics": {"t": {"avg": 1, "thresholds": {"avg<2": False}}}}
    assert k6.parse(json.dumps(export)).failed_thresholds == ()
    export["metrics"]["t"]["thresholds"] = {"avg<2": True}
    assert k6.parse(json.dumps(export)).failed_thresholds == ("t: avg<2",)
    data = {
        "metrics": {
            "t": {
                "type": "trend",
                "contains": "default",
                "values": {"avg": 1},
                "thresholds": {"avg<2": {"ok": True}},
            }
        }
    }
    assert k6.parse(json.dumps(data)).failed_thresholds == ()
    data["metrics"]["t"]["thresholds"] = {"avg<2": {"ok": False}}
    assert k6.parse(json.dumps(data)).failed_thresholds == ("t: avg<2",)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"root_group": {}}, 'expected a JSON object with "metrics"'),
        ({"metrics": []}, "metrics: expected a JSON object, got a list"),
        ({"metrics": {}}, "metrics: expected at least one metric"),
        ({"metrics": {"t": {"avg": "1"}}}, 'metrics.t.avg: expected a number, got "1"'),
        (
            {"metrics": {"t": {"avg": 1, "thresholds": {"x": "no"}}}},
            "metrics.t.thresholds.x: expected true or false",
        ),
        (
            {"metrics": {"t": {"type": "trend", "values": {"avg": 1}, "thresholds": {"x": True}}}},
            'metrics.t.thresholds.x: expected an object with "ok"',
        ),
        ({"metrics": {"t": {"type": 3, "values": {}}}}, "metrics.t.type: expected a string, got 3"),
    ],
)
def test_errors(doc: object, message: str) -> None:
    with pytest.raises(FormatError) as info:
        k6.parse(json.dumps(doc))
    assert message in info.value.message
    assert info.value.message.startswith("k6-summary: line 1: ")
