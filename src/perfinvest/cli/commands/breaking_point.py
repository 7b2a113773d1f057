"""Phase 3: breaking point."""

from __future__ import annotations

from typing import Any

import click

from perfinvest.cli.group import cli
from perfinvest.cli.options import (
    PhaseInput,
    measure_options,
    measure_settings,
    phase_command,
)


@cli.command(name="breaking-point")
@click.option("--min", "minimum", type=float, help="Lowest parameter value (required).")
@click.option("--max", "maximum", type=float, help="Highest parameter value (required).")
@click.option(
    "--resolution",
    type=float,
    default=None,
    help="Grid step: bisection stops when the last pass and first fail are this close "
    "[default: 1 % of the range, (max - min) / 100, rounded up to a whole number when "
    "--min and --max are whole numbers].",
)
@click.option(
    "--fail-when",
    "fail_when",
    multiple=True,
    metavar="EXPR",
    help='A probe FAILS when this holds, e.g. "p95_ms>150" (repeatable; any one fails it).',
)
@click.option(
    "--param-env",
    metavar="NAME",
    help="Environment variable carrying the value (default: setup's, PERF_PARAM_VALUE).",
)
@click.option(
    "--approve-expansion",
    metavar="REASON",
    help="Rule 4: allow a wider range than an earlier result's; the reason is logged.",
)
@click.option(
    "--allow-no-metrics",
    metavar="REASON",
    help="Count a probe that printed no metrics as a failure (default: invalid, re-run).",
)
@measure_options
@phase_command("breaking-point")
def breaking_point(
    minimum: float | None,
    maximum: float | None,
    resolution: float | None,
    fail_when: tuple[str, ...],
    param_env: str | None,
    approve_expansion: str | None,
    allow_no_metrics: str | None,
    duration: float | None,
    strict: bool,
    phase: PhaseInput,
    as_json: bool,
) -> Any:
    """Phase 3: the parameter value where the scenario breaks (needs a baseline).

    Binary search over --min..--max: each probe is one measured run (30 s by default, shorter
    only under the investigation's short-run policy) with the value in the environment
    (PERF_PARAM_VALUE unless --param-env). A probe fails when a --fail-when condition holds,
    or the command exits non-zero or times out; a probe that was too short or printed no
    metrics is invalid, measured once more, then reported. Metric names are those of the
    baseline's runs.

    Noise-aware: bisection also stops when the probes either side report threshold metrics
    that are the same within the noise (2 x sqrt(2) x CV, the CV being the baseline's
    run-to-run CV or the spread of re-measured probes). The answer is an interval [last
    pass, first fail], both ends re-measured; a re-check that disagrees widens it (and says
    so) instead of reporting a point. Each probe prints one line on stderr, e.g.
    "probe 3/12  PERF_PARAM_VALUE=5000  p95_ms=142.1  PASS". At most
    ceil(log2((max-min)/resolution)) + 5 probes.

    Example: perfinvest breaking-point --min 1 --max 500 --fail-when "p95_ms>150"
    --fail-when "error_rate>0.01"
    """
    from perfinvest.app.phases import breaking_point as phases

    settings = measure_settings(duration, strict)

    def on_probe(line: str) -> None:
        click.echo(f"perfinvest: {line}", err=True)

    return phases.breaking_point(
        phase.context(),
        phase.request(),
        phases.BreakingPointOptions(
            minimum=minimum,
            maximum=maximum,
            fail_when=fail_when,
            resolution=resolution,
            param_env=param_env,
            approve_expansion=approve_expansion,
            allow_no_metrics=allow_no_metrics,
            measure=settings,
            on_probe=on_probe,
        ),
    )
