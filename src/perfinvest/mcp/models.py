"""The structured result every perfinvest MCP tool returns: the CLI's JSON answer, typed.

The fields mirror the output contract for agents (docs/architecture.md: what
``perfinvest <cmd> --json`` prints), plus the process exit code and the command line that
produced the answer, so an agent can repeat or explain it. Unknown fields a newer CLI adds
are kept, not dropped.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class PerfErrorInfo(BaseModel):
    """Why a command did not do what was asked, and what to supply."""

    model_config = ConfigDict(extra="allow")

    code: int = Field(description="The exit code (README: 2 usage, 3 needs input, 4 refused...).")
    kind: str | None = Field(
        default=None, description="usage, needs_input, refused, benchmark_failed, ..."
    )
    message: str = Field(description="One line: what is wrong and what to do.")
    needs: list[str] = Field(
        default_factory=list, description="Exactly what to supply before retrying (rule 9)."
    )


class PerfAnswer(BaseModel):
    """One perfinvest command's answer (``--json``), with its exit code."""

    model_config = ConfigDict(extra="allow")

    ok: bool = Field(description="True when the command did what was asked.")
    command: str = Field(description="The perfinvest command that answered.")
    investigation: str | None = Field(default=None, description="The investigation id.")
    phase: str | None = Field(default=None, description="The phase the investigation is in.")
    status: str | None = Field(default=None, description="in_progress, blocked or complete.")
    baseline: str | None = Field(default=None, description="The baseline version in use.")
    findings: list[str] = Field(default_factory=list, description="Short findings, one each.")
    next: str | None = Field(
        default=None, description="The next phase, or the first thing needed when blocked."
    )
    data: dict[str, Any] = Field(
        default_factory=dict, description="Machine-readable detail of the command."
    )
    error: PerfErrorInfo | None = Field(default=None, description="Set when ok is false.")
    exit_code: int = Field(description="The process exit code (0 on success).")
    command_line: list[str] = Field(
        default_factory=list,
        description="The perfinvest command line that ran, e.g. ['perfinvest', 'status', "
        "'--json'].",
    )
