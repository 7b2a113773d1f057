"""``perfinvest ci``: CI workflow templates (docs/guardrails.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from perfinvest.cli.group import cli
from perfinvest.cli.options import command_runner, context, json_option


@cli.group()
def ci() -> None:
    """GitHub Actions workflows for performance budgets."""


@ci.command(name="init")
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@click.option(
    "--dir",
    "root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write under this folder (default: the repository root).",
)
@json_option
@command_runner("ci init")
def init(force: bool, root: Path | None, as_json: bool) -> Any:
    """Write .github/workflows/perf-budgets.yml (PR, warn-only, artifacts, step summary),
    perf-nightly.yml, perf-history.yml (on pushes to main: the baselines history for the
    opt-in PERF_HISTORY_WINDOW gate) and starter perf/budgets.yaml, perf/query-budgets.yaml.
    Exit 2 if one exists (named) unless --force."""
    from perfinvest.app.guardrails.ci_init import ci_init

    return ci_init(context(), force, root)
