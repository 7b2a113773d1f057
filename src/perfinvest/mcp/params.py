"""The parameters the MCP tools share, described once (the descriptions are the schema)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from perfinvest.mcp.runner import Runner

Cwd = Annotated[
    str | None,
    Field(
        description="Run in this directory (the repository under investigation); default: "
        "the server's working directory."
    ),
]
Quote = Annotated[str | None, Field(description="The user's words that asked for this, logged.")]
SkipReason = Annotated[
    str | None,
    Field(description="Skip this phase instead of running it; the reason is logged."),
]
NoCheckpoint = Annotated[bool, Field(description="Do not make the checkpoint commit.")]
ExtraArgs = Annotated[
    list[str] | None,
    Field(
        description="More command-line arguments for options without a parameter here, e.g. "
        "['--resolution=5']; see `perfinvest <command> --help`."
    ),
]
Duration = Annotated[
    float | None,
    Field(
        description="Seconds per run (default and minimum 60; less only under a short-run "
        "policy set at start)."
    ),
]
Strict = Annotated[
    bool, Field(description="Refuse to measure when the machine is not quiet (rule 6).")
]


class ToolSet:
    """A group of tools; each method runs one perfinvest command through ``runner``."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
