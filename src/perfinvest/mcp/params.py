"""The parameters the MCP tools share, described once (the descriptions are the schema)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from pydantic import Field

from perfinvest.mcp.models import PerfAnswer
from perfinvest.mcp.runner import Args, Runner

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
#: The threshold model of a gate's ``--history N`` (diff, budget_check).
HistoryModel = Annotated[
    Literal["t", "iqr"] | None,
    Field(
        description="With history: t (default), a 95 % prediction interval from mean and "
        "stddev (needs 3 points); iqr, Tukey's fences from the quartiles (needs 4; robust "
        "to one wild result)."
    ),
]
Strict = Annotated[
    bool, Field(description="Refuse to measure when the machine is not quiet (rule 6).")
]


class ToolSet:
    """A group of tools; each method runs one perfinvest command through ``runner``."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner


#: The shared parameters, in the order they close a tool's signature: (type, default).
SHARED: dict[str, tuple[object, object]] = {
    "duration": (Duration, None),
    "strict": (Strict, False),
    "quote": (Quote, None),
    "skip_reason": (SkipReason, None),
    "no_checkpoint": (NoCheckpoint, False),
    "extra_args": (ExtraArgs, None),
    "cwd": (Cwd, None),
}
#: What a measuring phase shares, and what every phase command shares.
MEASURING = ("duration", "strict")
PHASE = ("quote", "skip_reason", "no_checkpoint", "extra_args")

Build = Callable[..., Args]
Tool = Callable[..., Awaitable[PerfAnswer]]


def command_tool(*shared: str) -> Callable[[Build], Tool]:
    """A tool from a method that builds only its own command line (an :class:`Args`).

    The parameters named in ``shared`` (and ``cwd``, always) are appended to the method's
    signature with their one description, put on the command line the same way for every
    tool (``--duration``, ``--strict``, ``--quote``, ``--skip-reason``, ``--no-checkpoint``,
    then ``extra_args``), and the command is run. The docstring stays the tool's description;
    FastMCP reads the signature to build the input schema.
    """
    unknown = set(shared) - set(SHARED)
    if unknown:
        raise ValueError(f"no shared parameter {', '.join(sorted(unknown))}")
    names = [name for name in SHARED if name in shared or name == "cwd"]

    def wrap(build: Build) -> Tool:
        own = inspect.signature(build, eval_str=True)
        added = [
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=SHARED[name][1], annotation=kind
            )
            for name in names
            for kind in (SHARED[name][0],)
        ]
        parameters = [*own.parameters.values(), *added]

        @functools.wraps(build)
        async def tool(self: ToolSet, /, *args: Any, **kwargs: Any) -> PerfAnswer:
            given = {name: kwargs.pop(name, SHARED[name][1]) for name in names}
            command = build(self, *args, **kwargs)
            command.opt("--duration", given.get("duration")).flag("--strict", given.get("strict"))
            command.opt("--quote", given.get("quote"))
            command.opt("--skip-reason", given.get("skip_reason"))
            command.flag("--no-checkpoint", given.get("no_checkpoint"))
            command.extra(given.get("extra_args"))
            return await self.runner.run(command.argv(), given["cwd"])

        del tool.__wrapped__  # the schema is this signature, not the builder's
        tool.__signature__ = own.replace(  # type: ignore[attr-defined]
            parameters=parameters, return_annotation=PerfAnswer
        )
        tool.__annotations__ = {p.name: p.annotation for p in parameters[1:]}
        tool.__annotations__["return"] = PerfAnswer
        return tool

    return wrap
