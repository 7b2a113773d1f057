"""Phase 6: code paths."""

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


@cli.command(name="code-paths")
@record_option("ranked code paths")
@phase_options
@command_runner("code-paths")
def code_paths(
    record_path: str | None,
    quote: str | None,
    skip_reason: str | None,
    no_checkpoint: bool,
    as_json: bool,
) -> Any:
    """Phase 6: rank the files and functions (file:line) on the scenario's path."""
    from perfinvest.app import code_paths as phases
    from perfinvest.cli.inputs import read_json_file

    return phases.code_paths(
        context(no_checkpoint), request(quote, skip_reason), read_json_file(record_path)
    )
