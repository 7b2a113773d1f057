"""Phase 2: baseline."""

from __future__ import annotations

from typing import Any

import click

from perfinvest.cli.group import cli
from perfinvest.cli.options import (
    PhaseInput,
    measure_options,
    measure_settings,
    meter_option,
    phase_command,
)


@cli.command()
@click.option(
    "--runs", type=int, default=3, show_default=True, help="Sequential runs (at least 2)."
)
@measure_options
@meter_option
@phase_command("baseline")
def baseline(
    runs: int,
    duration: float | None,
    strict: bool,
    meter: str | None,
    phase: PhaseInput,
    as_json: bool,
) -> Any:
    """Phase 2: measure the current version's baseline (baselines/<version>.json).

    Runs the benchmark --runs times, one after another under the host-wide benchmark lock,
    each for --duration seconds (60 by default). When the primary metric's CV across runs
    exceeds 5 %, up to two more runs are made and the baseline is flagged (rule 5).
    With --meter instructions each run is the command once under cachegrind and the
    baseline's primary metric is `instructions` (docs/measuring.md).
    """
    from perfinvest.app.phases.baseline import baseline as measure_baseline

    return measure_baseline(
        phase.context(),
        phase.request(),
        runs,
        measure_settings(duration, strict, meter),
    )
