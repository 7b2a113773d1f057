"""``perfinvest simulate``: a deterministic discrete-event simulation (docs/simulate.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from perfinvest.cli.group import cli
from perfinvest.cli.options import command_runner, context, force_option, json_option


@cli.command()
@click.argument("scenario", required=False, metavar="[SCENARIO]")
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Seed of every random stream: the same scenario and seed give the same bytes.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the result as PerfMetrics v0.1 here (readable by diff, budget check).",
)
@click.option(
    "--export",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the result as runs (one per batch of the window, as `perfinvest run --export` "
    "writes): diff and budget check then judge changes against the batch means' spread.",
)
@click.option(
    "--batches",
    type=int,
    default=10,
    show_default=True,
    metavar="K",
    help="How many batches --export cuts the counted window into.",
)
@click.option(
    "--emit-perf-metrics",
    is_flag=True,
    help="Also print the PERF_METRICS_START/END block (a scenario as the benchmark "
    "command of an investigation).",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="PATH=VALUE",
    help="Change one field before validating, e.g. --set arrival.rate_per_s=200 or "
    "--set routes.checkout.stages.app.workers=6 (repeatable; VALUE is YAML).",
)
@click.option(
    "--max-requests",
    type=click.IntRange(min=1),
    default=5_000_000,
    show_default=True,
    metavar="N",
    help="Refuse a scenario that would simulate more requests (about 100 000 per CPU second).",
)
@click.option("--name", metavar="LABEL", help="Scenario name in the PerfMetrics file.")
@click.option("--list", "list_", is_flag=True, help="List the bundled scenarios and exit.")
@force_option
@json_option
@command_runner("simulate")
def simulate(
    scenario: str | None,
    seed: int,
    output: Path | None,
    export: Path | None,
    batches: int,
    emit_perf_metrics: bool,
    overrides: tuple[str, ...],
    max_requests: int,
    name: str | None,
    list_: bool,
    force: bool,
    as_json: bool,
) -> Any:
    """Simulate SCENARIO (a YAML file or a bundled name: api-route, ingestion-pipeline).

    Latency percentiles, throughput and error rate (timeouts, rejections) per route;
    utilization and waiting per stage. Simulated time only: no wall clock is read.
    Exit 2 on an invalid scenario, naming the field.
    """
    from perfinvest.app.result import CommandResult
    from perfinvest.app.simulation.run import SimulateOptions, bundled_scenarios, run_simulate
    from perfinvest.core.errors import usage_error

    if list_:
        found = bundled_scenarios()
        answer = CommandResult(command="simulate", status="complete")
        answer.data = {"scenarios": found}
        answer.findings = [f"{s['name']}: {s['description']}" for s in found]
        return answer
    if scenario is None:
        raise usage_error(
            "give a SCENARIO (a YAML file or a bundled name; `perfinvest simulate --list`)"
        )
    done = run_simulate(
        scenario,
        SimulateOptions(
            seed=seed,
            output=output,
            export=export,
            batches=batches,
            emit_perf_metrics=emit_perf_metrics,
            name=name,
            overrides=overrides,
            max_requests=max_requests,
            guard=context().paths,
            force=force,
        ),
    )
    return done.result, done.text
