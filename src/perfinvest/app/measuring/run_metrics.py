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
        return [], error.message, None
    metrics = parsed_metrics(parsed)
    if parsed.failed_thresholds:
        metrics.append(Metric(name="failed_thresholds", value=float(len(parsed.failed_thresholds))))
    missing = None if metrics else f"{parsed.format} output held no metrics"
    return metrics, missing, parsed.format
