"""The ``perfinvest`` command line: parse, call the app layer, render, exit.

This is the only place that prints or exits. Every command takes ``--json`` and then prints
exactly one JSON object on stdout (the output contract, docs/architecture.md); user errors
become one line and a documented exit code, never a traceback. Commands live in
``cli/commands/``, one module per phase or family, and attach themselves to the group in
``cli/group.py``.
"""

from __future__ import annotations

import os
import sys

import click

from perfinvest.cli.commands import (  # noqa: F401  (importing registers the commands)
    baseline,
    breaking_point,
    budget,
    capacity,
    ci,
    code_paths,
    consolidate,
    constraints,
    decide,
    demo,
    experiment,
    export,
    history,
    hypotheses,
    lifecycle,
    load,
    mcp,
    measuring,
    metrics,
    profile,
    recover,
    report,
    schemas,
    simulate,
)
from perfinvest.cli.group import cli
from perfinvest.core.errors import ExitCode, PerfError

__all__ = ["cli", "main"]


def _fail(message: str, code: ExitCode, kind: str, as_json: bool, command: str) -> int:
    from perfinvest.app.result import CommandResult
    from perfinvest.cli.render import emit

    emit(CommandResult.failure(command, PerfError(message, code, kind=kind)), as_json)
    return int(code)


def _terminate_like_interrupt() -> None:
    """SIGTERM stops a run as Ctrl-C does: the tree killed, the lock freed, it recorded."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def _not_utf8(args: list[str]) -> str | None:
    """A command-line argument that is not UTF-8 (bytes the OS handed over as surrogate
    escapes): one line naming it, for exit 2, before any command sees it."""
    for position, arg in enumerate(args, start=1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError as exc:
            raw = arg.encode("utf-8", "surrogateescape")
            shown = raw.decode("ascii", "backslashreplace")
            return (
                f"argument {position} ({shown}) is not valid UTF-8 (byte "
                f"0x{raw[exc.start]:02x} at position {exc.start}); pass text in UTF-8"
            )
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code (``python -m perfinvest`` and the script)."""
    args = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in args
    if argv is None:  # a real process, not a test calling main() in-process
        _terminate_like_interrupt()
    command = next((a for a in args if not a.startswith("-")), "perfinvest")
    undecodable = _not_utf8(args)
    if undecodable is not None:
        return _fail(undecodable, ExitCode.USAGE, "usage", as_json, command)
    try:
        rv = cli.main(args=args, prog_name="perfinvest", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.UsageError as exc:
        message = exc.format_message().splitlines()[0]
        hint = f"; see `perfinvest {command} --help`" if command != "perfinvest" else ""
        return _fail(message + hint, ExitCode.USAGE, "usage", as_json, command)
    except (click.Abort, KeyboardInterrupt):
        sys.stderr.write("perfinvest: interrupted\n")
        return 130
    except PerfError as error:
        return _fail(error.message, error.code, error.kind, as_json, command)
    except Exception as exc:  # a bug: one line unless asked for the traceback
        if os.environ.get("PERFINVEST_DEBUG"):
            raise
        first = (str(exc).splitlines() or [""])[0]
        return _fail(
            f"internal error: {type(exc).__name__}: {first} (a bug in perfinvest; rerun with "
            "PERFINVEST_DEBUG=1 for the traceback and report it)",
            ExitCode.INTERNAL,
            "internal",
            as_json,
            command,
        )
    return rv if isinstance(rv, int) else 0
