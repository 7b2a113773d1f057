"""The answer of every use case, shaped by the output contract (docs/architecture.md) for agents."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from perfinvest.core.errors import ExitCode, PerfError

Status = str  # "in_progress" | "blocked" | "complete"

_JSON_FIELDS = (
    "command",
    "ok",
    "investigation",
    "phase",
    "status",
    "baseline",
    "findings",
    "next",
    "data",
)


@dataclass
class CommandResult:
    """One command's outcome; the CLI renders it as one JSON object or as text."""

    command: str
    ok: bool = True
    investigation: str | None = None
    phase: str | None = None
    status: Status = "in_progress"
    baseline: str | None = None
    findings: list[str] = field(default_factory=list)
    next: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    exit_code: int = 0  # the process exit code; not part of the JSON answer

    def to_json_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ok": self.ok,
            "command": self.command,
            "investigation": self.investigation,
            "phase": self.phase,
            "status": self.status,
            "baseline": self.baseline,
            "findings": self.findings,
            "next": self.next,
            "data": self.data,
        }
        if self.error is not None:
            out["error"] = self.error
        return out

    @classmethod
    def from_json_dict(cls, answer: dict[str, Any]) -> CommandResult:
        """The inverse of :meth:`to_json_dict` (for answers stored by the status cache)."""
        fields = {k: answer[k] for k in _JSON_FIELDS if k in answer}
        result = cls(**fields)
        result.error = answer.get("error")
        return result

    @classmethod
    def failure(cls, command: str, error: PerfError, **context: Any) -> CommandResult:
        merged = {**error.context, **context}
        result = cls(command=command, ok=False, status="blocked", **merged)
        result.error = {
            "code": int(error.code),
            "kind": error.kind,
            "message": error.message,
            "needs": error.needs,
        }
        result.next = error.needs[0] if error.needs else None
        result.exit_code = int(error.code)
        return result


def regression_failure(result: CommandResult, message: str) -> None:
    """What every enforced gate answers on a breach: exit 8, ``error.kind`` = regression
    (``budget check --enforce``, ``diff --fail-on-regression``, ``load run --enforce``)."""
    result.ok = False
    result.exit_code = int(ExitCode.REGRESSION)
    result.error = {
        "code": int(ExitCode.REGRESSION),
        "kind": "regression",
        "message": message,
        "needs": [],
    }
