"""Known metric formats, auto-detection, and the one entry point: :func:`parse`.

Format names (``--format``; the short aliases in :data:`ALIASES` work too)::

    perf-metrics            PERF_METRICS lines / PERF_METRICS_START..END JSON blocks
    hyperfine-json          hyperfine --export-json
    k6-summary              k6 --summary-export, or handleSummary's data as JSON
    wrk                     wrk [--latency] text report (wrk2 percentiles too)
    pytest-benchmark-json   pytest --benchmark-json [--benchmark-save-data]
    go-bench                go test -bench [-benchmem] [-count N]
    go-test-json            go test -json -bench ... (test2json events around go-bench lines)
    cargo-criterion-json    cargo criterion --message-format=json
    locust-csv              locust --csv PREFIX: the PREFIX_stats.csv file
    pyperf-json             pyperf -o / --output JSON

Detection is deterministic: the first match in this order wins. ``PERF_METRICS`` markers
come first, because a benchmark that prints them has said explicitly what it measures,
even if it wraps a tool whose output is also present. Then the first JSON object in the
text is matched by shape (hyperfine ``results[].command``, pytest-benchmark
``benchmarks[].stats``, pyperf ``runs``, k6 ``metrics`` + ``root_group``), then cargo-
criterion's ``"reason": "benchmark-complete"`` JSON lines, a Locust stats CSV header,
wrk's ``Requests/sec:`` line, and Go's ``Benchmark... N ... ns/op`` lines.

Metric names are snake_case and end with their unit when they have one:

* time statistics: ``mean``, ``median``, ``stddev``, ``min``, ``max``, ``iqr``, ``q1``,
  ``q3``, percentiles ``p50`` … ``p99``, ``p99_9`` (``avg``/``med`` and ``p(95)``/``95%``
  are renamed so), followed by the unit: ``_ns``, ``_us``, ``_ms``, ``_s``. Each format
  keeps the tool's own unit (hyperfine, pytest-benchmark, pyperf: s; wrk, Locust, k6:
  ms; go: ns; criterion: its estimate unit), so values are never rounded by conversion.
* ``throughput_rps`` (requests per second), ``transfer_bytes_per_s``,
  ``throughput_mb_per_s`` (go ``MB/s``), ``throughput_<unit>_per_s`` (criterion),
  ``ops_per_s`` (pytest-benchmark OPS).
* counts and errors: ``requests``, ``failures``, ``errors``, ``errors_<kind>``,
  ``error_rate`` (a fraction in [0, 1]), ``failed_runs``, ``runs``, ``rounds``.
* go: ``time_per_op_ns``, ``bytes_per_op``, ``allocs_per_op``; custom units become their
  snake_case spelling (``items/s`` → ``items_per_s``).
* k6: the k6 metric name first, e.g. ``http_req_duration_p95_ms``, ``http_reqs_rate``,
  ``http_req_failed`` (see :mod:`~perfinvest.adapters.formats.k6`).
* perf-metrics and pytest-benchmark ``extra_info``: the user's own key, unchanged.

Scenarios are the tool's unit of comparison: hyperfine's command, wrk's URL, the
pytest node id, the go benchmark name, the criterion id, Locust's ``"<Type> <Name>"``
(``None`` for the Aggregated row), the pyperf benchmark name, a k6 ``{scenario:x}``
sub-metric, a ``scenario=`` on ``PERF_METRICS`` lines.
"""

from __future__ import annotations

from collections.abc import Callable

from perfinvest.adapters.formats import (
    criterion,
    gobench,
    gotest_json,
    hyperfine,
    k6,
    locust,
    perfmetrics,
    pyperf,
    pytest_benchmark,
    wrk,
)
from perfinvest.adapters.formats._helpers import excerpt, try_json_object
from perfinvest.adapters.formats.base import FormatError, Parser, ParseResult

#: Canonical format name → parser, in detection order.
FORMATS: dict[str, Parser] = {
    perfmetrics.NAME: perfmetrics.parse,
    hyperfine.NAME: hyperfine.parse,
    pytest_benchmark.NAME: pytest_benchmark.parse,
    pyperf.NAME: pyperf.parse,
    k6.NAME: k6.parse,
    criterion.NAME: criterion.parse,
    locust.NAME: locust.parse,
    wrk.NAME: wrk.parse,
    gobench.NAME: gobench.parse,
    gotest_json.NAME: gotest_json.parse,
}

#: Short names people type, each mapping to a canonical name.
ALIASES: dict[str, str] = {
    "perfmetrics": perfmetrics.NAME,
    "perf": perfmetrics.NAME,
    "hyperfine": hyperfine.NAME,
    "k6": k6.NAME,
    "pytest-benchmark": pytest_benchmark.NAME,
    "go": gobench.NAME,
    "gobench": gobench.NAME,
    "go-json": gotest_json.NAME,
    "criterion": criterion.NAME,
    "cargo-criterion": criterion.NAME,
    "locust": locust.NAME,
    "pyperf": pyperf.NAME,
}

_JSON_SNIFFERS: tuple[tuple[str, Callable[[dict[str, object]], bool]], ...] = (
    (hyperfine.NAME, hyperfine.sniff),
    (pytest_benchmark.NAME, pytest_benchmark.sniff),
    (pyperf.NAME, pyperf.sniff),
    (k6.NAME, k6.sniff),
    (gotest_json.NAME, gotest_json.sniff),
)
_TEXT_SNIFFERS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    (criterion.NAME, criterion.sniff),
    (locust.NAME, locust.sniff),
    (wrk.NAME, wrk.sniff),
    (gobench.NAME, gobench.sniff),
)

_LABEL = "format"


def resolve(fmt: str) -> str:
    """The canonical name for ``fmt`` (a canonical name or an alias, any case)."""
    key = fmt.strip().lower()
    if key in FORMATS:
        return key
    if key in ALIASES:
        return ALIASES[key]
    raise FormatError(_LABEL, f"unknown format {excerpt(fmt)}; known formats: {', '.join(FORMATS)}")


def detect(text: str) -> str | None:
    """The format ``text`` is in, or ``None``; never raises, whatever the text."""
    if perfmetrics.sniff(text):
        return perfmetrics.NAME
    doc = try_json_object(text)
    if doc is not None:
        for name, json_sniff in _JSON_SNIFFERS:
            if json_sniff(doc):
                return name
    for name, text_sniff in _TEXT_SNIFFERS:
        if text_sniff(text):
            return name
    return None


def parse(text: str, fmt: str | None = None) -> ParseResult:
    """Parse ``text`` in format ``fmt``, or in the detected format when ``fmt`` is None."""
    if fmt is not None:
        return FORMATS[resolve(fmt)](text)
    detected = detect(text)
    if detected is None:
        what = "the output is empty" if not text.strip() else "no known metric format found"
        raise FormatError(
            _LABEL,
            f"{what} (tried {', '.join(FORMATS)}); choose one with --format NAME, or print "
            "PERF_METRICS key=value lines",
        )
    return FORMATS[detected](text)
