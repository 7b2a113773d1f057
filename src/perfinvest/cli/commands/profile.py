"""Phase 7: profiling."""

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
@record_option("a profiling result with hotspots")
@phase_options
@command_runner("profile")
def profile(
    record_path: str | None,
    quote: str | None,
    skip_reason: str | None,
    no_checkpoint: bool,
    as_json: bool,
) -> Any:
    """Phase 7: profile the benchmark and name the hotspots."""
    from perfinvest.app import profiling as phases
    from perfinvest.cli.inputs import read_json_file

    return phases.profiling(
        context(no_checkpoint), request(quote, skip_reason), read_json_file(record_path)
    )
