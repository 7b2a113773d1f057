"""Options and plumbing every command shares: --json, phase options, rendering, exit codes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from perfinvest.core.errors import PerfError

F = TypeVar("F", bound=Callable[..., Any])


def json_option(func: F) -> F:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print exactly one JSON object on stdout."
    )(func)


def force_option(func: F) -> F:
    """``--force``: write the output over an existing file perfinvest did not write (the old
    file is kept under <perf>/artifacts/backups/); never allowed inside the state folder."""
    return click.option(
        "--force",
        is_flag=True,
        help="Overwrite an existing output file perfinvest did not write (backed up under "
        "<perf>/artifacts/backups/).",
    )(func)


def phase_options(func: F) -> F:
    """Options every phase command shares: the user's words, skipping, checkpointing."""
    func = click.option(
        "--no-checkpoint", is_flag=True, help="Do not make the checkpoint commit for this run."
    )(func)
    func = click.option(
        "--skip-reason",
        metavar="TEXT",
        help="Skip this phase instead of running it; the reason is logged.",
    )(func)
    func = click.option(
        "--quote", metavar="TEXT", help="The user's words that asked for this, logged verbatim."
    )(func)
    return json_option(func)


def context(no_checkpoint: bool = False) -> Any:
    from perfinvest.app.context import AppContext

    return AppContext.discover(checkpoint=not no_checkpoint)


def request(quote: str | None, skip_reason: str | None) -> Any:
    from perfinvest.app.session import PhaseRequest

    return PhaseRequest(quote=quote, skip_reason=skip_reason)


@dataclass(frozen=True)
class PhaseInput:
    """What the shared phase options gave: made into the context and the request only when
    the command asks (so a command checks its own options first, as before)."""

    quote: str | None
    skip_reason: str | None
    no_checkpoint: bool

    def context(self) -> Any:
        return context(self.no_checkpoint)

    def request(self) -> Any:
        return request(self.quote, self.skip_reason)


def phase_command(name: str) -> Callable[[F], F]:
    """A phase command: :func:`phase_options` and :func:`command_runner` in one; the body
    takes ``phase: PhaseInput`` (and ``as_json``) instead of --quote, --skip-reason and
    --no-checkpoint."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def body(
            *args: Any, quote: str | None, skip_reason: str | None, no_checkpoint: bool, **kw: Any
        ) -> Any:
            return func(*args, phase=PhaseInput(quote, skip_reason, no_checkpoint), **kw)

        return phase_options(command_runner(name)(body))  # type: ignore[return-value]

    return decorate


#: Commands that run even while a killed experiment waits for `perfinvest recover`.
JOURNAL_EXEMPT = frozenset(
    {
        "recover",
        "status",
        "list",
        "log",
        "report",
        "experiment list",
        "experiment show",
        "simulate",
    }
)


def _ensure_no_unfinished_journal() -> None:
    """Exit 4 naming `perfinvest recover` after a killed experiment (a file-existence test)."""
    from perfinvest.app.recover import ensure_no_unfinished_journal

    ensure_no_unfinished_journal(context())


def command_runner(name: str) -> Callable[[F], F]:
    """Run the wrapped body, which returns a CommandResult (and maybe a text body); render it."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> int:
            from perfinvest.cli.render import emit

            as_json = bool(kwargs.get("as_json"))
            try:
                if name not in JOURNAL_EXEMPT:
                    _ensure_no_unfinished_journal()
                outcome = func(*args, **kwargs)
            except PerfError as error:
                from perfinvest.app.result import CommandResult

                emit(CommandResult.failure(name, error), as_json)
                return int(error.code)
            result, body = outcome if isinstance(outcome, tuple) else (outcome, None)
            emit(result, as_json, body)
            return int(result.exit_code)

        return wrapper  # type: ignore[return-value]

    return decorate


def measure_options(func: F) -> F:
    """Options every measuring command shares."""
    func = click.option(
        "--strict",
        is_flag=True,
        help="Refuse to measure when the machine is not quiet (rule 6); default: warn.",
    )(func)
    return click.option(
        "--duration",
        type=float,
        metavar="S",
        help="Seconds per run (default and minimum 60; less only under a short-run policy).",
    )(func)


def meter_option(func: F) -> F:
    """``--meter instructions``: count instructions under cachegrind instead of timing."""
    return click.option(
        "--meter",
        type=click.Choice(["instructions"]),
        help="instructions: run the command once per run under valgrind (cachegrind) and "
        "report its instruction count, exact where wall time is noise (docs/measuring.md).",
    )(func)


def measure_settings(duration: float | None, strict: bool, meter: str | None = None) -> Any:
    from perfinvest.app.measuring.benchmark import MeasureOptions
    from perfinvest.cli.progress import make_progress

    return MeasureOptions(duration_s=duration, strict=strict, progress=make_progress(), meter=meter)
