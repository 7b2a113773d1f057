"""Phase 4: constraints."""

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
@record_option("constraint results (one object or a list)")
@phase_options
@command_runner("constraints")
def constraints(
    record_path: str | None,
    quote: str | None,
    skip_reason: str | None,
    no_checkpoint: bool,
    as_json: bool,
) -> Any:
    """Phase 4: the benchmark under CPU / memory limits (needs a baseline)."""
    from perfinvest.app import constraints as phases
    from perfinvest.cli.inputs import read_json_file

    return phases.constraints(
        context(no_checkpoint), request(quote, skip_reason), read_json_file(record_path)
    )
