"""The one user-facing error class and the stable exit codes.

Every failure a user can cause ends as a :class:`PerfError`: the CLI turns it into one
line (or one JSON object) and its exit code. Anything else is a bug and is reported as such.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Stable process exit codes, documented in the README. Never renumber."""

    OK = 0
    INTERNAL = 1  # a bug in perfinvest: please report it
    USAGE = 2  # bad flags or arguments (click uses 2 as well)
    NEEDS_INPUT = 3  # rule 9: information is missing; ``needs`` lists it
    REFUSED = 4  # a rule or precondition refused the request
    BENCHMARK_FAILED = 5  # the benchmark did not produce a valid result
    STATE_UNREADABLE = 6  # a state file is corrupt, invalid or from a newer format
    ENVIRONMENT = 7  # something outside is unavailable: git, docker, cgroups, permissions
    REGRESSION = 8  # a comparison found a regression and --fail-on-regression was given
    INTERRUPTED = 130  # Ctrl-C: the run was stopped, its process tree killed, the lock freed


class PerfError(Exception):
    """A failure the user can act on: a one-line message, an exit code, what is needed."""

    def __init__(
        self,
        message: str,
        code: ExitCode = ExitCode.REFUSED,
        *,
        kind: str = "refused",
        needs: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.kind = kind
        self.needs = list(needs or [])
        #: Where it happened (investigation, phase, baseline), filled in by the app layer.
        self.context: dict[str, str | None] = {}


def usage_error(message: str) -> PerfError:
    return PerfError(message, ExitCode.USAGE, kind="usage")


def state_error(message: str) -> PerfError:
    return PerfError(message, ExitCode.STATE_UNREADABLE, kind="state_unreadable")


def environment_error(message: str) -> PerfError:
    return PerfError(message, ExitCode.ENVIRONMENT, kind="environment")


def refused(message: str, needs: list[str] | None = None) -> PerfError:
    return PerfError(message, ExitCode.REFUSED, kind="refused", needs=needs)


def needs_input(message: str, needs: list[str]) -> PerfError:
    return PerfError(message, ExitCode.NEEDS_INPUT, kind="needs_input", needs=needs)


def benchmark_failed(message: str) -> PerfError:
    return PerfError(message, ExitCode.BENCHMARK_FAILED, kind="benchmark_failed")
