"""Phase 8: optimization experiments."""

from __future__ import annotations

from typing import Any

from perfinvest.cli.group import cli
from perfinvest.cli.options import (
    command_runner,
    context,
    phase_options,
    record_option,
    request,
)


@cli.command()
@record_option("an experiment (one change, measured, reverted)")
@phase_options
@command_runner("experiment")
def experiment(
    record_path: str | None,
    quote: str | None,
    skip_reason: str | None,
    no_checkpoint: bool,
    as_json: bool,
) -> Any:
    """Phase 8: one change at a time, measured against the baseline (needs a baseline)."""
    from perfinvest.app import experiments as phases
    from perfinvest.cli.inputs import read_json_file

    return phases.experiment(
        context(no_checkpoint), request(quote, skip_reason), read_json_file(record_path)
    )
