"""``perfinvest capacity``: the Universal Scalability Law fitted to throughput by concurrency."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from perfinvest.cli.group import cli
from perfinvest.cli.options import command_runner, context, json_option


@cli.command()
@click.option(
    "--from",
    "from_file",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="CSV with a `concurrency,throughput` header, or JSON: a list of "
    '{"concurrency": N, "throughput": X} (or that list under "points").',
)
@click.option(
    "--source",
    type=click.Choice(["auto", "breaking-point", "load"]),
    default="auto",
    show_default=True,
    help="Without --from: the investigation's breaking-point probes or its load runs "
    "(auto: probes when there are any, else load runs).",
)
@click.option(
    "--metric",
    metavar="NAME",
    help="The probes' throughput metric (default: a higher-is-better primary metric, "
    "else throughput_rps, rps, throughput, ...).",
)
@click.option("--current", type=float, metavar="N", help="The current concurrency (headroom).")
@click.option(
    "--current-throughput",
    type=float,
    metavar="X",
    help="The current throughput instead of --current (headroom).",
)
@json_option
@command_runner("capacity")
def capacity(
    from_file: Path | None,
    source: str,
    metric: str | None,
    current: float | None,
    current_throughput: float | None,
    as_json: bool,
) -> Any:
    """Fit the Universal Scalability Law X(N) = λN / (1 + σ(N-1) + κN(N-1)) to throughput
    measured at several concurrencies: contention σ, coherency κ, the peak and where it
    is, the headroom at the current load, the fit's error (docs/capacity.md).

    Exit 0 with a fit, 4 when the points cannot support one (fewer than 4 concurrencies,
    a valley beyond the noise, too noisy: the reason is given), 2 on a bad file or flag,
    3 when there is nothing to fit.

    \b
      perfinvest capacity --from points.csv --current 40
      perfinvest capacity --source breaking-point --metric throughput_rps --json
    """
    from perfinvest.app.capacity import CapacityOptions
    from perfinvest.app.capacity import capacity as run

    options = CapacityOptions(
        from_file=from_file,
        source=source,  # type: ignore[arg-type]
        metric=metric,
        current=current,
        current_throughput=current_throughput,
    )
    result = run(context(), options)
    return result, result.data.get("report")
