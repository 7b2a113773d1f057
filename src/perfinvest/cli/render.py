"""Rendering a CommandResult: one JSON object for agents, text and the summary block for people."""

from __future__ import annotations

import json
import sys
from typing import TextIO

from perfinvest.app.result import CommandResult
from perfinvest.core.printable import one_line, visible


class Document(str):
    """A body that is the whole output (``perfinvest log > review.md``): no findings, no
    summary block, nothing else on stdout."""


def summary_block(result: CommandResult) -> str:
    """The two closing lines agents already know from the /perf plugin."""
    findings = json.dumps(result.findings, ensure_ascii=False)
    return (
        f"phase: {result.phase or 'n/a'}   status: {result.status}   "
        f"baseline: {result.baseline or 'n/a'}\n"
        f"findings: {findings}  next: {result.next or 'n/a'}"
    )


def emit_json(result: CommandResult, out: TextIO | None = None) -> None:
    stream = out or sys.stdout
    from perfinvest.core.strict_json import dumps

    stream.write(dumps(result.to_json_dict(), ensure_ascii=False, default=str) + "\n")


def emit_text(result: CommandResult, body: str | None = None) -> None:
    """Human output: an optional body, the findings, the error on stderr, then the block.

    Everything passes through :func:`visible`: user words may hold ESC/BEL/CR, which a
    terminal would obey.
    """
    if isinstance(body, Document):  # stdout is the document or nothing (`log > review.md`)
        if result.ok:
            sys.stdout.write(visible(body.rstrip("\n")) + "\n")
        elif result.error is not None:
            sys.stderr.write(f"perfinvest: error: {visible(str(result.error['message']))}\n")
        return
    if body:
        sys.stdout.write(visible(body.rstrip("\n")) + "\n")
    elif result.ok:
        for finding in result.findings:
            sys.stdout.write(f"- {one_line(finding)}\n")
    if result.error is not None:
        sys.stderr.write(f"perfinvest: error: {visible(str(result.error['message']))}\n")
        for need in result.error.get("needs", []):
            sys.stderr.write(f"  needs: {visible(str(need))}\n")
    checkpoint = result.data.get("checkpoint")
    if isinstance(checkpoint, dict):
        if checkpoint.get("committed"):
            sys.stdout.write(f"checkpoint: {str(checkpoint.get('sha'))[:12]}\n")
        else:
            sys.stdout.write(f"checkpoint skipped: {visible(str(checkpoint.get('reason')))}\n")
    if result.data.get("short_run_policy"):
        sys.stdout.write(
            f"short-run policy: {visible(str(result.data['short_run_policy']))} "
            "(runs are non-compliant)\n"
        )
    sys.stdout.write(visible(summary_block(result)) + "\n")


def emit(result: CommandResult, as_json: bool, body: str | None = None) -> None:
    if as_json:
        emit_json(result)
    else:
        emit_text(result, body)
