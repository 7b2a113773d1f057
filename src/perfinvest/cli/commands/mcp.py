"""``perfinvest mcp``: the Model Context Protocol server (needs the ``mcp`` extra)."""

from __future__ import annotations

from pathlib import Path

import click

from perfinvest.cli.group import cli
from perfinvest.cli.options import json_option

INSTALL_HINT = "pip install 'perfinvest[mcp]'"


@cli.command(name="mcp")
@click.option(
    "--cwd",
    "default_cwd",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Run the tools in this directory unless a call passes `cwd` (default: the current "
    "directory).",
)
@json_option
def mcp_command(default_cwd: Path | None, as_json: bool) -> int:
    """Serve perfinvest to AI agents as a Model Context Protocol server over stdio.

    Every command is a tool (start, status, list, resume, log, compare, the phases,
    recover) returning the JSON answer of `perfinvest <command> --json` as a structured
    result. stdout carries only the protocol; logs go to stderr. Register it with a client,
    e.g. Claude Code:

    \b
      claude mcp add perfinvest -- perfinvest mcp

    Needs the optional `mcp` package: pip install 'perfinvest[mcp]' (exit 7 without it).
    --json only shapes the error answer when the server cannot start. See docs/mcp.md.
    """
    from perfinvest.core.errors import environment_error

    try:
        import mcp.server.fastmcp  # noqa: F401  (only to check it is installed)
    except ImportError as exc:
        raise environment_error(
            f"the MCP server needs the `mcp` package ({exc}); install it: {INSTALL_HINT}"
        ) from exc
    from perfinvest.mcp.server import serve

    serve(default_cwd)
    return 0
