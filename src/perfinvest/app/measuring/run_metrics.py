"""The metrics of one run: timings (repeat mode), resources, the output's own metrics."""

from __future__ import annotations

from perfinvest.adapters.formats.base import FormatError, ParseResult
from perfinvest.adapters.formats.registry import parse
from perfinvest.adapters.runner import RunOutcome, captured_stdout
from perfinvest.app.measuring.spec import Benchmark
from perfinvest.core.models import Metric


def timing_metrics(outcome: RunOutcome) -> list[Metric]:
    """Repeat mode: hyperfine-style per-iteration timings, raw samples kept."""
    if not outcome.iterations:
        return []

    def timing(name: str, samples: list[float], unit: str) -> Metric:
        return Metric(
            name=name,
            value=sum(samples) / len(samples),
            unit=unit,
            direction="lower",
            samples=samples,
        )

    iterations = outcome.iterations
    rss = [float(i.max_rss_bytes) for i in iterations]
    return [
        timing("wall_ms", [i.wall_s * 1000 for i in iterations], "ms"),
        timing("user_ms", [i.user_s * 1000 for i in iterations], "ms"),
        timing("sys_ms", [i.sys_s * 1000 for i in iterations], "ms"),
        Metric(name="max_rss_bytes", value=max(rss), unit="bytes", direction="lower", samples=rss),
        Metric(name="iterations", value=float(len(iterations)), unit="", direction=None),
    ]


def resource_metrics(outcome: RunOutcome) -> list[Metric]:
    res = outcome.resources
    if res is None or res.samples == 0:
        return []
    return [
        Metric(
            name="resource_peak_rss_bytes",
            value=float(res.peak_rss_bytes),
            unit="bytes",
            direction="lower",
        ),
        Metric(
            name="resource_cpu_mean_pct",
            value=res.mean_cpu_percent,
            unit="%",
            direction="lower",
        ),
    ]


def parsed_metrics(parsed: ParseResult) -> list[Metric]:
    return [
        Metric(
            name=m.name,
            value=m.value,
            unit=m.unit,
            direction=m.direction,
            samples=list(m.samples),
            scenario=m.scenario,
        )
        for m in parsed.metrics
    ]


#: The most metrics one run records (a line of 400 000 ``k=v`` pairs is a dump, not a
#: measurement: it would take minutes and gigabytes to store and compare).
MAX_METRICS_PER_RUN = 2_000


def _over_cap(outcome: RunOutcome) -> str:
    from perfinvest.adapters.runner.spec import RunSpec

    cap = RunSpec.__dataclass_fields__["capture_limit_bytes"].default
    assert isinstance(cap, int)
    return (
        f"stdout was {outcome.stdout_bytes:,} bytes, over the {cap // 2**20} MiB capture cap, "
        "so only its start and end were kept: print the metrics in the last lines, print "
        "less, or write them to --metrics-file"
    )


def read_output_metrics(
    benchmark: Benchmark, outcome: RunOutcome
) -> tuple[list[Metric], str | None, str | None]:
    """Metrics from the metrics file or stdout, the reason when there are none, the format."""
    if benchmark.metrics_file:
        path = benchmark.cwd / benchmark.metrics_file
        if not path.is_file():
            return [], f"the metrics file {path} was not written", None
        text = path.read_text(encoding="utf-8", errors="replace")
    else:
        text = captured_stdout(outcome)
    try:
        parsed = parse(text, benchmark.metrics_format)
    except FormatError as error:
        if not benchmark.metrics_file and outcome.stdout_truncated:
            return [], f"{error.message} ({_over_cap(outcome)})", None
        return [], error.message, None
    metrics = parsed_metrics(parsed)
    if len(metrics) > MAX_METRICS_PER_RUN:
        return (
            [],
            f"the output holds {len(metrics):,} metrics, over the {MAX_METRICS_PER_RUN:,} a "
            "run may record; report aggregates (a percentile, a count), not every value",
            parsed.format,
        )
    if parsed.failed_thresholds:
        metrics.append(Metric(name="failed_thresholds", value=float(len(parsed.failed_thresholds))))
    missing = None if metrics else f"{parsed.format} output held no metrics"
    return metrics, missing, parsed.format
