"""Regenerating the JSON Schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from perfinvest.cli.group import cli
from perfinvest.cli.options import (
    command_runner,
    json_option,
)


@cli.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("schemas"),
    show_default=True,
    help="Folder to write the JSON Schemas into.",
)
@click.option("--check", is_flag=True, help="Only report drift; exit 4 when stale.")
@json_option
@command_runner("schemas")
def schemas(out: Path, check: bool, as_json: bool) -> Any:
    """Regenerate the JSON Schemas of the state files from the models."""
    from perfinvest.app.result import CommandResult
    from perfinvest.app.schemas import stale_schemas, write_schemas
    from perfinvest.core.errors import refused

    if check:
        stale = stale_schemas(out)
        if stale:
            raise refused(
                f"schemas out of date in {out}: {', '.join(stale)}; run `perfinvest schemas`"
            )
        return CommandResult(command="schemas", findings=[f"schemas in {out} are current"])
    written = write_schemas(out)
    result = CommandResult(command="schemas", findings=[f"wrote {len(written)} schema(s) to {out}"])
    result.data["files"] = written
    return result
