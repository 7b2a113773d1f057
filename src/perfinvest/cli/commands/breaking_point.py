"""Phase 3: breaking point."""

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


@cli.command(name="breaking-point")
@record_option("a breaking-point result")
@phase_options
@command_runner("breaking-point")
def breaking_point(
    record_path: str | None,
    quote: str | None,
    skip_reason: str | None,
    no_checkpoint: bool,
    as_json: bool,
) -> Any:
    """Phase 3: the parameter value where the scenario breaks (needs a baseline)."""
    from perfinvest.app import breaking_point as phases
    from perfinvest.cli.inputs import read_json_file

    return phases.breaking_point(
        context(no_checkpoint), request(quote, skip_reason), read_json_file(record_path)
    )
